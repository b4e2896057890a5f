"""``tune(data)``: one call from a folder of images to the best model.

``tune`` builds the ``SweepSpec`` (``config/``) from its keywords, a YAML job or a spec;
``run_spec`` takes the sweep directory's lock, opens the executor's connection (a Ray cluster;
nothing for the local kinds), plans the sweep inside it (``plan_sweep``: the final plan) and
runs it (``run.py``). ``dry_run=True`` stops after the plan and prints it; it contacts no
cluster and writes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from automl_vision.config.checks import check_keywords
from automl_vision.config.spec import SweepSpec
from automl_vision.executors.registry import backend
from automl_vision.planning.plan import SweepPlan, plan_sweep
from automl_vision.reporting.announce import announce
from automl_vision.reporting.result import TuneResult
from automl_vision.storage import check_writable
from automl_vision.store.lock import SweepLock
from automl_vision.tuning.run import run_plan

__all__ = ["SweepPlan", "SweepSpec", "plan_sweep", "run_plan", "run_spec", "tune", "tune_job"]


def tune(
    data: Any = None,
    *,
    config: str | Path | None = None,
    resume: bool = True,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    **options: Any,
) -> TuneResult | SweepPlan:
    """Tune an image classifier on ``data``; return the sweep's ``TuneResult``.

    ``data``: an image folder (``root/<class>/*.png``), a JSONL file in Azure's shape, an Azure
    MLTable folder, a CSV file, ``(images, labels)`` arrays, or an ``ImageDataset``; or a whole
    ``SweepSpec``. ``config``: a YAML sweep job (Azure's CLI v2 shape) whose options the
    keywords override (``tune_job``).

    ``options``: the sweep's options, each defined once with its default, its checks and its
    meaning in ``config/options.py`` (``SweepOptions``; ``automl-vision tune --help`` lists
    them): among them ``search_space`` (None: a preset for the machine), ``sampling`` (None:
    ``bayesian``), ``policy`` (None: Hyperband over the epochs; both by measurement,
    ``planning/defaults.py``), ``primary_metric``/``goal``, ``max_trials`` (20; a grid's size),
    ``max_concurrent_trials`` (``"auto"``: on CUDA as many trials as fit on the GPUs by the
    probed memory of one training step of each shape, each placed on a GPU with room for it;
    on CPU one per two CPUs), ``timeout``/``trial_timeout`` (seconds), ``output_dir`` (default
    ``runs/<data>-<hash of its options>``: the same call resumes the same sweep, a call with
    any option that changes what its trials do, ``max_trials`` included, gets its own folder;
    ``export_onnx``, ``keep_checkpoints``, ``log_to`` do not), ``executor``. Every option is
    validated before anything is read or written.

    ``resume``: continue a sweep already in ``output_dir`` (its completed trials are kept,
    unfinished ones re-run); ``force``: resume even if the sweep's definition changed;
    ``dry_run``: print the plan and return it without training or writing anything (a cluster
    is not contacted); ``progress``: the live progress display (a table of running trials on
    a terminal or in a notebook, rate-limited lines otherwise).
    """
    return _tune(data, config, resume, force, dry_run, progress, options, called="tune")


def tune_job(
    path: str | Path,
    *,
    data: Any = None,
    resume: bool = True,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    **options: Any,
) -> TuneResult | SweepPlan:
    """Run the YAML sweep job at ``path`` (Azure's CLI v2 shape, as ``automl-vision tune -c``);
    keyword ``options`` win over the file's, as ``tune``'s."""
    return _tune(data, path, resume, force, dry_run, progress, options, called="tune_job")


def _tune(
    data: Any,
    config: str | Path | None,
    resume: bool,
    force: bool,
    dry_run: bool,
    progress: bool,
    options: dict[str, Any],
    *,
    called: str,
) -> TuneResult | SweepPlan:
    """``tune``'s work; ``called``: the function the user called, which a misspelt keyword's
    error names (``tune() got an unexpected keyword argument 'max_trail'; did you mean ...``)."""
    check_keywords(options, SweepSpec.model_fields, called)
    if isinstance(data, SweepSpec):
        spec = data.replace(**options) if options else data
    elif config is not None:
        spec = SweepSpec.from_yaml(config, data=data, **options)
    else:
        spec = SweepSpec(data=data, **options)
    return run_spec(spec, resume=resume, force=force, dry_run=dry_run, progress=progress)


def run_spec(
    spec: SweepSpec,
    *,
    resume: bool = True,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = True,
) -> TuneResult | SweepPlan:
    """Plan ``spec`` and run it (``tune`` after building the spec; the CLI calls it too)."""
    if dry_run:
        plan = plan_sweep(spec, dry_run=True)
        for line in plan.choices:
            announce(line)
        print(plan.describe(), file=sys.stdout)
        return plan
    lock: SweepLock | None = None
    created = False
    if spec.output_dir is not None:
        # a second sweep on this directory is refused at once, before planning reads the data
        directory = Path(os.path.abspath(spec.output_dir))
        created = not directory.exists()
        check_writable(directory)
        lock = SweepLock(directory).acquire()
    try:
        request = spec.executor_request()
        with backend(request.kind).connect(request) as connection:
            plan = plan_sweep(spec, connection=connection)
            for line in plan.choices:
                announce(line)
            locked = lock is not None and Path(os.path.abspath(plan.output_dir)) == lock.path.parent
            return run_plan(
                plan,
                connection=connection,
                resume=resume,
                force=force,
                progress=progress,
                locked=locked,
            )
    finally:
        if lock is not None:
            lock.release()
            if created and [p.name for p in lock.path.parent.iterdir()] == [lock.path.name]:
                # planning refused the sweep: leave nothing behind (bad input writes nothing)
                lock.path.unlink(missing_ok=True)
                lock.path.parent.rmdir()
