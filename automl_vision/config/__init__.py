"""What a sweep is asked to do: ``SweepSpec`` (``spec.py``), the one definition of every sweep
option (type, default, range, help text, its YAML key and its command-line flag); the Azure
sweep-job YAML mapped onto it (``job.py``); the ``tune`` command's flags derived from it.
Nothing here reads data or imports torch.

May import: the foundations, ``space``, ``data`` (the task names), ``sampling`` and ``policies``
(what their options parse into), ``executors`` (each kind checks its own options),
``reporting`` (the log targets).
"""
