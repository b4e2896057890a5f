"""The sweep loop: ask the sampler, start trials on an executor, judge every report with the
early-termination policy, pause and promote, decide each trial's final status, end on a stop
criterion. ``Scheduler`` (``scheduler.py``), the observer hooks the store and displays
implement (``observer.py``), stop criteria (``criteria.py``).

May import: the foundations, ``sampling``, ``policies``, ``executors``. Knows nothing of
training, files or the sweep's configuration.
"""
