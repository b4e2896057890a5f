"""From a ``SweepSpec`` to a frozen ``SweepPlan``: the data read once, the metric and goal,
the search space (a preset for the machine when none is given), the sampler and policy
(``defaults.py`` when none is given), the devices, the executor's capacity (``"auto"``
concurrency, GPU packing by predicted memory, ``memory.py``), the stop criteria, the reuse
index of earlier sweeps (``reuse.py``), and the checks every trial would fail
(``preflight.py``). ``judging.py`` derives a trial's judging window from its schedule.

May import: everything below it (foundations, ``space``, ``data``, ``sampling``, ``policies``,
``training`` for the memory probe and weights lookup, ``executors``, ``store``, ``config``).
"""
