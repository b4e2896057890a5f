"""``tune(data)``: one call from a folder of images to the best model.

``plan_sweep`` (``plan.py``) resolves every choice into a ``SweepPlan``; ``run_plan`` runs it
with the scheduler, the SQLite store, resume and reuse, and writes the results (metrics JSON,
plots, best checkpoint, ONNX). ``tune`` is the two together; ``dry_run=True`` stops after the
plan and prints it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl_vision.config.spec import SweepSpec
from automl_vision.executors.base import Executor, ExecutorKind, FunctionExecutor
from automl_vision.executors.pool import ProcessPoolExecutor, TrialContext
from automl_vision.planning.judging import trial_judging_window
from automl_vision.planning.plan import SweepPlan, pack_trials, plan_sweep
from automl_vision.reporting.announce import announce
from automl_vision.reporting.integrations import make_observers, parse_log_to
from automl_vision.reporting.plots import save_plots
from automl_vision.reporting.progress import ProgressDisplay
from automl_vision.reporting.result import TuneResult
from automl_vision.scheduling.scheduler import Scheduler, SweepObserver
from automl_vision.storage import StorageError, check_writable, storage_problem
from automl_vision.store.database import EventKind, SweepStore
from automl_vision.store.lock import SweepLock
from automl_vision.store.retention import CheckpointRetention
from automl_vision.trial import Trial, TrialStatus, best_trial
from automl_vision.tuning.signals import SweepInterrupted, interruptible, resume_hint
from automl_vision.tuning.training_trial import TrainingJob, run_training_trial

__all__ = ["SweepPlan", "SweepSpec", "plan_sweep", "run_plan", "run_spec", "tune", "tune_job"]


# -- running it -------------------------------------------------------------------------------
def _changes(old: Any, new: Any, path: str) -> list[tuple[str, Any, Any]]:
    """(dotted path, old, new) of every leaf that differs between two JSON-like values."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                out.append((sub, old.get(key, "(absent)"), new.get(key, "(absent)")))
            else:
                out += _changes(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [c for i, (a, b) in enumerate(zip(old, new, strict=True))
                for c in _changes(a, b, f"{path}[{i}]")]  # fmt: skip
    return [] if old == new else [(path, old, new)]


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One line per changed field, ``old -> new`` (nested fields by their dotted path)."""
    return [f"  {path}: {a!r} -> {b!r}" for path, a, b in _changes(old, new, "")]


def _open_store(
    plan: SweepPlan, resume: bool, force: bool
) -> tuple[SweepStore, list[Trial], list[str]]:
    """Open (or create) the sweep's store; refuse what would corrupt an existing sweep."""
    path = plan.output_dir / SweepStore.FILENAME
    definition = json.loads(json.dumps(plan.definition(), default=str))
    if path.is_file():
        store = SweepStore.open_for_writing(path)  # checks its integrity: never written over
        meta = store.meta()
        trials = store.load_trials()
        if not trials and "definition" not in meta:  # created, never started: a new sweep
            store.set_meta({"definition": definition, **_settings_meta(plan)})
            store.log(EventKind.SWEEP_STARTED, f"{plan.max_trials} trials planned")
            return store, [], []
        if not resume:
            store.close()
            raise ValueError(
                f"{plan.output_dir} already holds a sweep ({len(trials)} trials); to continue it "
                "pass resume=True (on the command line: leave out --no-resume), or choose "
                "another output_dir"
            )
        differences = _diff(meta.get("definition", {}), definition)
        if differences and not force:
            store.close()
            raise ValueError(
                f"cannot resume {plan.output_dir}: the sweep changed since it started\n"
                + "\n".join(differences)
                + "\npass force=True (--force) to resume anyway, or choose another output_dir"
            )
        rerun = sum(t.status is TrialStatus.QUEUED for t in trials)
        done = sum(t.finished for t in trials)
        store.log(
            EventKind.SWEEP_RESUMED, f"{done} finished trials kept, {rerun} unfinished re-queued"
        )
        notes = [f"resuming {plan.output_dir}: {done} finished trials kept, {rerun} re-run"]
        if differences:
            notes.append("resumed with changes (force):\n" + "\n".join(differences))
        store.set_meta({"definition": definition, **_settings_meta(plan)})
        return store, trials, notes
    store = SweepStore(path)
    store.set_meta({"definition": definition, **_settings_meta(plan)})
    store.log(EventKind.SWEEP_STARTED, f"{plan.max_trials} trials planned")
    return store, [], []


def _settings_meta(plan: SweepPlan) -> dict[str, Any]:
    return {
        "primary_metric": plan.primary_metric,
        "goal": plan.goal.value,
        "settings": {
            "max_trials": plan.max_trials,
            "max_concurrent_trials": plan.max_concurrent_trials,
            "executor": plan.executor.value,
            "device": str(plan.device),
            "class_names": list(plan.dataset.class_names),
        },
    }


def _executor(plan: SweepPlan, job: TrainingJob) -> Executor:
    target = functools.partial(run_training_trial, job=job)
    if plan.executor is ExecutorKind.INLINE:
        # inline: the trial runs in this process, on the job's device (every visible GPU)

        def runner(trial: Trial, report: Any) -> Any:
            workdir = plan.output_dir / "trials" / trial.trial_id
            context = TrialContext(trial.trial_id, trial.index, str(workdir), "")
            return target(trial.params, report, context)

        return FunctionExecutor(runner, capacity=1)
    return ProcessPoolExecutor(
        target,
        slots=plan.slots,
        output_dir=plan.output_dir,
        trial_timeout=plan.trial_timeout,
        threads_per_worker=plan.threads_per_trial,
        recycle_after=plan.recycle_workers_after,
        placer=plan.placer,
    )


def run_plan(
    plan: SweepPlan,
    *,
    resume: bool = True,
    force: bool = False,
    progress: bool = True,
    locked: bool = False,
) -> TuneResult:
    """Run a planned sweep to its end and write its results into ``plan.output_dir``.

    ``locked``: the caller already holds the directory's ``SweepLock`` (``tune`` takes it
    before planning when the output directory is known). Raises ``SweepInterrupted`` after a
    SIGINT/SIGTERM and ``StorageError`` when the disk is full or read-only; in both cases every
    finished trial is kept and the unfinished ones resume when the sweep is run again."""
    if locked:
        return _run_locked(plan, resume=resume, force=force, progress=progress)
    check_writable(plan.output_dir)
    with SweepLock(plan.output_dir):  # one writer per sweep directory
        return _run_locked(plan, resume=resume, force=force, progress=progress)


def _run_locked(
    plan: SweepPlan,
    *,
    resume: bool,
    force: bool,
    progress: bool,
) -> TuneResult:
    if plan.executor is ExecutorKind.RAY:
        from automl_vision.executors.ray_cluster import ray_session

        with ray_session(plan.spec.ray_address) as session:
            return _run_with(plan, resume=resume, force=force, progress=progress, ray=session)
    return _run_with(plan, resume=resume, force=force, progress=progress, ray=None)


def _run_with(
    plan: SweepPlan,
    *,
    resume: bool,
    force: bool,
    progress: bool,
    ray: Any,
) -> TuneResult:
    """Run ``plan`` (``ray``: the connected ``RaySession`` of a Ray sweep, else None)."""
    if plan.packing and plan.placer is None:
        plan = pack_trials(plan)
        announce(plan.choices[-1])
    options = dict(plan.options)
    if plan.shares_gpus:
        options.setdefault("image_placement", "pinned")
    if plan.max_concurrent_trials > 1:
        # concurrent CPU trials already share the cores: no background augmentation thread
        options.setdefault("augment_ahead", False)
    job = TrainingJob(
        dataset=plan.dataset,
        primary_metric=plan.primary_metric,
        seed=plan.seed,
        device=plan.device.kind.value,
        options=options,
        export_onnx=False,
        threads=plan.threads_per_trial,
    )
    if ray is not None:  # resolved against the cluster before anything is written
        from automl_vision.executors.ray_backend import ray_training_executor

        executor, job = ray_training_executor(plan, job, ray)
        plan = dataclasses.replace(plan, max_concurrent_trials=executor.capacity)
    try:
        store, history, notes = _open_store(plan, resume, force)
    except BaseException:
        if ray is not None:
            executor.close()
        raise
    for line in notes:
        announce(line)
    if ray is None:
        executor = _executor(plan, job)
    observers: list[SweepObserver] = [
        store,
        CheckpointRetention(plan.keep_checkpoints, plan.goal, history, run_dir=plan.output_dir),
    ]
    observers += make_observers(
        parse_log_to(plan.log_to), plan.output_dir, plan.primary_metric, plan.goal
    )
    if progress:
        observers.append(
            ProgressDisplay(
                max_trials=plan.max_trials,
                concurrency=plan.max_concurrent_trials,
                goal=plan.goal,
                metric=plan.primary_metric,
            )
        )
    scheduler = Scheduler(
        plan.sampler,
        executor,
        goal=plan.goal,
        max_trials=plan.max_trials,
        policy=plan.policy,
        primary_metric=plan.primary_metric,
        criteria=plan.criteria,
        observers=observers,
        trials=history,
        reuse=plan.reuse,
        trial_timeout=plan.trial_timeout,
        # a schedule-aware policy judges each trial by its learning-rate schedule
        windows=trial_judging_window if getattr(plan.policy, "schedule_aware", False) else None,
    )
    try:
        with interruptible(scheduler.interrupt, plan.output_dir) as caught:
            outcome = scheduler.run()
    except (OSError, sqlite3.Error) as err:  # the sweep's own writes (the store, a log)
        problem = storage_problem(err, plan.output_dir)
        if problem is None:
            raise
        raise StorageError(_storage_message(problem, plan)) from None
    finally:
        store.close()
    result = TuneResult.from_trials(
        outcome.trials,
        goal=plan.goal,
        primary_metric=plan.primary_metric,
        end_reason=outcome.end_reason,
        output_dir=plan.output_dir,
        settings=_settings_meta(plan)["settings"],
    )
    if outcome.storage_problem is not None:
        raise StorageError(_storage_message(outcome.storage_problem, plan))
    _write_outputs(plan, result)
    if caught.signum is not None:
        finished = sum(t.finished for t in outcome.trials)
        paused = sum(t.status is TrialStatus.QUEUED for t in outcome.trials)
        raise SweepInterrupted(
            f"{caught.name}: the sweep stopped with {finished} finished trials kept and "
            f"{paused} to resume from their last epoch; " + resume_hint(plan.output_dir),
            caught.signum,
        )
    return result


def _storage_message(problem: str, plan: SweepPlan) -> str:
    return (
        f"the sweep in {plan.output_dir} stopped: {problem}. Every finished trial and every "
        "recorded epoch is kept; free some space (or make the folder writable) and run the "
        "same command again to resume"
    )


def _write_outputs(plan: SweepPlan, result: TuneResult) -> None:
    result.to_json(plan.output_dir / "metrics.json")
    best = best_trial(result.trials, plan.goal)
    save_plots(result.trials, plan.goal, plan.primary_metric, plan.output_dir / "plots", best)
    if best is not None and result.best_checkpoint is not None and result.best_checkpoint.is_file():
        _link_best(plan.output_dir / "best.pt", result.best_checkpoint)
        if plan.export_onnx:
            from automl_vision.training import export_onnx

            export_onnx(result.best_checkpoint, plan.output_dir / "best.onnx")


def _link_best(link: Path, target: Path) -> None:
    """``link`` -> ``target`` as a relative symlink (the directory stays movable), or a copy
    where the file system has no symlinks."""
    link.unlink(missing_ok=True)
    relative = os.path.relpath(target.absolute(), link.parent.absolute())
    try:
        link.symlink_to(relative)
    except OSError:
        shutil.copyfile(target, link)


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
    lock: SweepLock | None = None
    created = False
    if spec.output_dir is not None and not dry_run:
        # a second sweep on this directory is refused at once, before planning reads the data
        directory = Path(os.path.abspath(spec.output_dir))
        created = not directory.exists()
        check_writable(directory)
        lock = SweepLock(directory).acquire()
    try:
        plan = plan_sweep(spec)
        for line in plan.choices:
            announce(line)
        if dry_run:
            print(plan.describe(), file=sys.stdout)
            return plan
        locked = lock is not None and Path(os.path.abspath(plan.output_dir)) == lock.path.parent
        return run_plan(plan, resume=resume, force=force, progress=progress, locked=locked)
    finally:
        if lock is not None:
            lock.release()
            if created and [p.name for p in lock.path.parent.iterdir()] == [lock.path.name]:
                # planning refused the sweep: leave nothing behind (bad input writes nothing)
                lock.path.unlink(missing_ok=True)
                lock.path.parent.rmdir()
