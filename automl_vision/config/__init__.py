"""What a sweep is asked to do: ``SweepOptions`` (``options.py``), the one definition of every
sweep option (type, default, checks, help text, its job-file key and its flag: ``surfaces.py``);
``SweepSpec`` (``spec.py``), the options plus the ways to build them; the Azure sweep-job YAML
(``job.py``) and the ``tune`` command's flags (``flags.py``), both derived from the options.
Nothing here reads data or imports torch.

May import: the foundations, ``space``, ``data`` (the task names), ``weights`` (what
``pretrained`` may be), ``sampling`` and ``policies`` (what their options parse into),
``executors`` (each kind checks its own options), ``reporting`` (the log targets).
"""
