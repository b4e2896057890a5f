"""What runs trials: one ``Executor`` interface and one implementation per kind.

``base.py`` is the interface (``Executor``: start / wait / stop, reports through the
scheduler's callback, each attempt ending as an ``AttemptOutcome``); ``function.py`` runs a
Python function in this process (inline, or in threads); ``pool.py`` runs trials in worker
processes (one device slot each); ``ray_executor.py`` runs each trial in a Ray actor;
``simulated.py`` replays recorded learning curves in simulated time. ``registry.py`` maps an
``ExecutorKind`` to its backend, which checks the options of its kind, resolves ``"auto"``
concurrency and capacity, describes itself for a dry run and builds the executor.

May import: the foundations (``trial``, ``enums``, ``storage``, ``system``) and ``data`` (a
dataset's files travel to the nodes that cannot read them); never sampling, policies,
scheduling, the store or the sweep's configuration. A new executor kind is one module here
(its ``Executor`` and its ``ExecutorBackend``) plus one entry in ``registry.py``.
"""
