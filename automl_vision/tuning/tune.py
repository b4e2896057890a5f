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
    keywords override (``tune_job``). Every option is validated by ``SweepSpec`` (``spec.py``)
    before anything is read or written.
    ``task``: ``"multiclass"``/``"multilabel"`` (or Azure's task names); inferred when None.
    ``search_space``: an ``ImageClassificationSearchSpace``, a list of them, a preset name or a
    YAML path; None picks a preset for the machine (``default`` on a GPU, ``cpu_tiny`` on CPU).
    ``sampling``: ``random``, ``sobol``, ``grid``, ``bayesian`` or a ``Sampler``; None picks
    ``bayesian``. ``policy``: an early-termination policy or its dict form; None picks
    Hyperband (every bracket) for the epochs (both by measurement: ``sweep/tune_defaults.py``).
    ``primary_metric``/``goal``: default ``accuracy`` (multiclass) or ``iou`` (multilabel), and
    that metric's goal. ``max_trials``: default 20 (the grid size for grid sampling).
    ``timeout``: seconds for the whole sweep. ``output_dir``: default ``runs/<data>-<hash>``
    (the same call resumes the same sweep). ``resume``: continue a sweep already in
    ``output_dir`` (its completed trials are kept, unfinished ones re-run). ``dry_run``: print
    the plan and return it without training or writing anything. ``force``: resume even if the
    sweep's definition changed. ``log_to``: ``["tensorboard", "mlflow"]`` mirrors the sweep
    into ``RUN_DIR/tensorboard`` / an MLflow store in ``RUN_DIR/mlruns`` (packages optional).

    More options (keywords): ``trial_timeout`` (s), ``validation_data``, ``validation_size``,
    ``target_value``, ``no_improvement_trials``, ``min_improvement``,
    ``max_consecutive_failures`` (5), ``warm_start_from`` (run dirs whose trials seed the
    Bayesian sampler and are reused), ``reuse_from`` (run dirs whose identical trials are
    reused), ``include_default_trial`` (True: trial 0 uses Azure's defaults),
    ``export_onnx`` (write ``best.onnx``), ``training_options`` (``TrainingConfig`` options
    such as ``pretrained``), ``cache_dir`` (decoded-image cache), ``target_column_name`` (the
    JSONL/MLTable key of the labels, ``label`` by default), ``threads_per_trial`` (torch's CPU
    threads for each trial, inline or in the pool: default the CPUs divided by
    ``max_concurrent_trials``; a seeded CPU trial's result depends on it, so set it to compare
    sweeps run with a different concurrency), ``keep_checkpoints`` (3: only the best 3 trials
    keep their ``best.pt``; None keeps all), ``recycle_workers_after`` (pool workers are
    replaced by a fresh process after this many trials, so memory is truly freed; ``"auto"``:
    1 on CUDA, never on CPU).

    ``max_concurrent_trials="auto"``: on CUDA, as many trials as fit on the GPUs by the
    predicted peak memory of one training step of each (model, crop, batch) the space can
    produce (probed once and cached in ``output_dir/memory_probe.json``), each trial placed
    on a GPU with room for its own peak; on CPU, one trial per two CPUs.
    """
    if isinstance(data, SweepSpec):
        spec = data.replace(**options) if options else data
    elif config is not None:
        spec = SweepSpec.from_yaml(config, data=data, **options)
    else:
        spec = SweepSpec(data=data, **options)
    return run_spec(spec, resume=resume, force=force, dry_run=dry_run, progress=progress)


def tune_job(path: str | Path, **options: Any) -> TuneResult | SweepPlan:
    """Run the YAML sweep job at ``path`` (Azure's CLI v2 shape, as ``automl-vision tune -c``);
    keyword ``options`` win over the file's, as ``tune``'s."""
    return tune(config=path, **options)


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
