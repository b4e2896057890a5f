"""The two public entry points: ``tune`` (``tune.py``: spec -> plan -> run; ``run.py`` runs a
plan with its store, observers and outputs; ``training_trial.py`` is the trial function that
trains one configuration) and ``optimize`` (``optimize.py``: any black-box function, with the
same samplers, policies and executors). ``signals.py``: Ctrl-C and SIGTERM during a sweep.

May import: every package below it; nothing imports it but ``cli``, ``bench`` and the lazy
names of ``automl_vision``.
"""
