"""What a sweep shows: its result (``result.py``: the best trial, the trial table, metrics
JSON), plots (``plots.py``), the progress display (``progress.py`` and its ``progress_*.py``,
``trial_text.py``), TensorBoard and MLflow
mirrors (``integrations.py``) and the choices it made for its user (``announce.py``); a
benchmark's leaderboard and its files (``leaderboard.py``) and plots (``benchmark_chart_data.py``,
``benchmark_plots.py``).

May import: the foundations, ``policies``, ``scheduling`` (observers), ``store`` (a finished
or running sweep is read back from its store), ``predict`` (a result's best model).
"""
