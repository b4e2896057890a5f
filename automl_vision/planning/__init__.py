"""From a ``SweepSpec`` to a frozen ``SweepPlan``: the data read once, the metric and goal,
the search space (a preset for the machine when none is given), the sampler and policy
(``defaults.py`` when none is given), the devices, the executor's capacity (``"auto"``
concurrency, GPU packing by predicted memory: ``machine.py``, ``memory.py``), the stop
criteria, the reuse index of earlier sweeps, and the checks every trial would fail
(``preflight.py``). ``judging.py`` derives a trial's judging window from its schedule.

May import: every layer before it in docs/architecture.md (foundations, ``space``, ``data``,
``weights``, ``sampling``, ``policies``, ``training`` for the memory probe and the freeze
check, ``executors``, ``scheduling``, ``store``, ``config``).
"""
