"""``run_plan``: run a planned sweep to its end in its directory.

One writer (``store/lock.py``), the store opened or resumed (a changed sweep is refused unless
forced), the executor the plan's backend builds, the observers (store, checkpoint retention,
TensorBoard/MLflow, the progress display), the scheduler, and the outputs: ``metrics.json``,
``plots/``, ``best.safetensors`` (a link to the best trial's checkpoint) and ``best.onnx``
when asked.
SIGINT/SIGTERM pause the running trials (``signals.py``); a full or read-only disk ends the
sweep resumable (``StorageError``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from automl_vision.artifacts import BEST_FILE
from automl_vision.planning.judging import trial_judging_window
from automl_vision.planning.plan import SweepPlan
from automl_vision.policies.base import EarlyTerminationPolicy
from automl_vision.policies.front import FrontAwarePolicy
from automl_vision.reporting.announce import announce
from automl_vision.reporting.integrations import make_observers, parse_log_to
from automl_vision.reporting.plots import save_plots
from automl_vision.reporting.progress import ProgressDisplay
from automl_vision.reporting.result import TuneResult
from automl_vision.sampling.base import Sampler
from automl_vision.sampling.constrained import ConstrainedSampler
from automl_vision.sampling.multiobjective import DeferredKnown
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.storage import StorageError, check_writable, storage_problem
from automl_vision.store.database import EventKind, SweepStore
from automl_vision.store.lock import SweepLock
from automl_vision.store.retention import CheckpointRetention
from automl_vision.store.trial_folders import (
    TrialFolderRecord,
    check_trial_folders,
    new_sweep_id,
)
from automl_vision.trial import Trial, TrialStatus, best_trial
from automl_vision.tuning.deployment import DeploymentRecord, RefusalsRecord, SweepDeployment
from automl_vision.tuning.signals import SweepInterrupted, interruptible, resume_hint
from automl_vision.tuning.training_trial import TrainingJob, TrainingTarget
from automl_vision.weights import MissingWeightsWarning, download_planned

__all__ = ["run_plan"]

log = logging.getLogger(__name__)


# -- the store: a new sweep, or the same one resumed ------------------------------------------
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


def _front_aware(
    plan: SweepPlan, deployment: SweepDeployment | None
) -> tuple[EarlyTerminationPolicy | None, Callable[[Trial], Mapping[str, float]] | None]:
    """The sweep's policy and what the scheduler tells it of each trial's known objectives:
    ``plan.policy`` made front-aware (``policies/front.py``) over ``plan.front_objectives``,
    told each trial's deployment metrics (the sweep's one measurement per architecture); else
    ``plan.policy`` as it is, told nothing."""
    objectives = plan.front_objectives
    if plan.policy is None or objectives is None or deployment is None:
        return plan.policy, None
    measured = deployment

    def known(trial: Trial) -> Mapping[str, float]:
        return measured.known(trial.params)

    return FrontAwarePolicy(plan.policy, objectives), known


def _write_settings(store: SweepStore, plan: SweepPlan, sampler: Sampler) -> None:
    """The store's settings as they stand (the refusals so far included)."""
    store.set_meta({"settings": _settings_meta(plan, sampler)["settings"]})


def _settings_meta(plan: SweepPlan, sampler: Sampler | None = None) -> dict[str, Any]:
    """The settings recorded in the store; ``sampler``: with constraints, the refusals so far
    (``refused``: in all, ``refusals``: per broken constraint)."""
    extra: dict[str, Any] = {}
    if plan.spec.objectives is not None:
        extra["objectives"] = {o.name: o.goal.value for o in plan.spec.objectives}
    if plan.spec.constraints is not None:
        extra["constraints"] = [[c.name, c.bound.value, c.limit] for c in plan.spec.constraints]
    if isinstance(sampler, ConstrainedSampler):
        extra["refused"] = sampler.refused
        extra["refusals"] = dict(sampler.refusals)
    return {
        "primary_metric": plan.primary_metric,
        "goal": plan.goal.value,
        "settings": {
            "max_trials": plan.max_trials,
            "max_concurrent_trials": plan.max_concurrent_trials,
            "executor": plan.executor.value,
            "device": str(plan.device),
            "class_names": list(plan.dataset.class_names),
            # what the best trial is judged against (reporting/result.py, the dashboard)
            "baseline": None if plan.baseline is None else plan.baseline.to_dict(),
            "pretrained_weights": plan.pretrained_weights(),
            "min_train_images_per_class": plan.min_train_images_per_class(),
            **extra,
        },
    }


def _open_store(
    plan: SweepPlan, resume: bool, force: bool
) -> tuple[SweepStore, list[Trial], list[str], str]:
    """Open (or create) the sweep's store; refuse what would corrupt an existing sweep or
    adopt another sweep's trial folders (``store/trial_folders.py``). Returns the store, the
    recorded trials, notes and the sweep's id."""
    path = plan.output_dir / SweepStore.FILENAME
    definition = json.loads(json.dumps(plan.definition(), default=str))
    if path.is_file():
        store = SweepStore.open_for_writing(path)  # checks its integrity: never written over
        meta = store.meta()
        trials = store.load_trials()
        if not trials and "definition" not in meta:  # created, never started: a new sweep
            try:
                notes = check_trial_folders(plan.output_dir, None, [], force=force)
            except BaseException:
                store.close()
                raise
            return store, [], notes, _start(store, plan, definition)
        if not resume:
            store.close()
            raise ValueError(
                f"{plan.output_dir} already holds a sweep ({len(trials)} trials); to continue it "
                "pass resume=True (on the command line: leave out --no-resume), or choose "
                "another output_dir"
            )
        differences = _diff(meta.get("definition", {}), definition)
        # release 1's stores have no id: their folders are checked against a new one
        sweep_id = str(meta.get("sweep_id") or new_sweep_id())
        try:
            moved = check_trial_folders(plan.output_dir, sweep_id, trials, force=force)
        except BaseException:
            store.close()
            raise
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
        notes += moved
        store.set_meta({"definition": definition, "sweep_id": sweep_id, **_settings_meta(plan)})
        return store, trials, notes, sweep_id
    notes = check_trial_folders(plan.output_dir, None, [], force=force)
    store = SweepStore(path)
    return store, [], notes, _start(store, plan, definition)


def _start(store: SweepStore, plan: SweepPlan, definition: dict[str, Any]) -> str:
    """Record a new sweep: its definition, settings and a fresh id (returned)."""
    sweep_id = new_sweep_id()
    store.set_meta({"definition": definition, "sweep_id": sweep_id, **_settings_meta(plan)})
    store.log(EventKind.SWEEP_STARTED, f"{plan.max_trials} trials planned")
    return sweep_id


# -- running ----------------------------------------------------------------------------------
def _training_target(plan: SweepPlan) -> TrainingTarget:
    """What every trial runs: the built-in trainer with the plan's data, options and devices."""
    options = dict(plan.options)
    if plan.shares_gpus:
        options.setdefault("image_placement", "pinned")
    if plan.max_concurrent_trials > 1:
        # concurrent CPU trials already share the cores: no background augmentation thread
        options.setdefault("augment_ahead", False)
    return TrainingTarget(
        TrainingJob(
            dataset=plan.dataset,
            primary_metric=plan.primary_metric,
            seed=plan.seed,
            device=plan.device.kind.value,
            options=options,
            export_onnx=False,
            threads=plan.threads_per_trial,
        )
    )


def run_plan(
    plan: SweepPlan,
    *,
    connection: Any = None,
    resume: bool = True,
    force: bool = False,
    progress: bool = True,
    locked: bool = False,
) -> TuneResult:
    """Run a planned sweep to its end and write its results into ``plan.output_dir``.

    ``connection``: the executor's connection the plan was made with (a cluster sweep plans
    and runs inside it: ``run_spec`` opens it). ``locked``: the caller already holds the
    directory's ``SweepLock``. Raises ``SweepInterrupted`` after a SIGINT/SIGTERM and
    ``StorageError`` when the disk is full or read-only; in both cases every finished trial is
    kept and the unfinished ones resume when the sweep is run again."""
    if not plan.connected or (plan.backend.connects and connection is None):
        raise ValueError(
            f"a sweep on executor={plan.executor.value!r} is planned and run inside its "
            "connection: use tune(...) or run_spec(spec), which open it"
        )
    if locked:
        return _run(plan, connection, resume=resume, force=force, progress=progress)
    check_writable(plan.output_dir)
    with SweepLock(plan.output_dir):  # one writer per sweep directory
        return _run(plan, connection, resume=resume, force=force, progress=progress)


def _download_weights(plan: SweepPlan) -> None:
    """The pretrained weights the plan will download, fetched once here, in the sweep's process,
    before any trial is dispatched: the trials find them in the Hugging Face cache and never
    race for the same file. A failed download warns once (``"auto"``: those models start from
    scratch) or raises ``MissingWeightsError`` (``pretrained=True``)."""
    _, warning = download_planned(plan.weights)
    if warning is not None:
        warnings.warn(warning, MissingWeightsWarning, stacklevel=4)


def _run(
    plan: SweepPlan, connection: Any, *, resume: bool, force: bool, progress: bool
) -> TuneResult:
    _download_weights(plan)
    # the executor first: a cluster that cannot hold the sweep is refused before anything
    # is written
    executor = plan.backend.executor(
        _training_target(plan),
        plan.capacity,
        output_dir=plan.output_dir,
        trial_timeout=plan.trial_timeout,
        connection=connection,
    )
    try:
        store, history, notes, sweep_id = _open_store(plan, resume, force)
    except BaseException:
        executor.close()
        raise
    for line in (*executor.notes, *notes):
        announce(line)
    deployment = SweepDeployment.for_plan(plan)
    pareto = plan.pareto_sampler
    if pareto is not None and isinstance(pareto.known, DeferredKnown):
        # the search's cheap objectives: the same measurement, once per architecture, that the
        # constraints and the trials' records use
        if deployment is None:  # the plan searches objectives only when they are deployment's
            raise ValueError("a multi-objective search needs deployment objectives to measure")
        pareto.known.bind(deployment.known)
    sampler: Sampler = plan.sampler
    if deployment is not None and deployment.constraints:
        # a configuration over a deployment constraint is refused before it becomes a trial
        sampler = ConstrainedSampler(plan.sampler, deployment.refuse)
    observers: list[SweepObserver] = [
        # first: a trial's architecture is measured (and recorded) before it trains
        *([DeploymentRecord(deployment)] if deployment is not None else []),
        *(
            # the refusals so far, in the store as trials start (status and dashboard, live)
            [RefusalsRecord(sampler, lambda: _write_settings(store, plan, sampler))]
            if isinstance(sampler, ConstrainedSampler)
            else []
        ),
        store,
        TrialFolderRecord(plan.output_dir, sweep_id),
        CheckpointRetention(plan.keep_checkpoints, plan.goal, history, run_dir=plan.output_dir),
        *make_observers(parse_log_to(plan.log_to), plan.output_dir, plan.primary_metric, plan.goal),
    ]
    if progress:
        observers.append(
            ProgressDisplay(
                max_trials=plan.max_trials,
                concurrency=plan.max_concurrent_trials,
                goal=plan.goal,
                metric=plan.primary_metric,
                kept=history,  # a resumed sweep's counter goes on from its finished trials
            )
        )
    policy, known = _front_aware(plan, deployment)
    scheduler = Scheduler(
        sampler,
        executor,
        goal=plan.goal,
        max_trials=plan.max_trials,
        policy=policy,
        primary_metric=plan.primary_metric,
        criteria=plan.criteria,
        observers=observers,
        trials=history,
        reuse=plan.reuse,
        trial_timeout=plan.trial_timeout,
        # a schedule-aware policy judges each trial by its learning-rate schedule
        windows=trial_judging_window if getattr(plan.policy, "schedule_aware", False) else None,
        known=known,
    )
    try:
        with interruptible(scheduler.interrupt, plan.output_dir) as caught:
            outcome = scheduler.run()
        if isinstance(sampler, ConstrainedSampler):
            _write_settings(store, plan, sampler)
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
        settings=_settings_meta(plan, sampler)["settings"],
    )
    if outcome.storage_problem is not None:
        raise StorageError(_storage_message(outcome.storage_problem, plan))
    _write_outputs(plan, result)
    verdict = result.baseline
    if verdict is not None and verdict.warning():
        log.warning("%s", verdict.warning())
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


# -- the outputs ------------------------------------------------------------------------------
def _write_outputs(plan: SweepPlan, result: TuneResult) -> None:
    result.to_json(plan.output_dir / "metrics.json")
    best = best_trial(result.trials, plan.goal)
    save_plots(
        result.trials,
        plan.goal,
        plan.primary_metric,
        plan.output_dir / "plots",
        best,
        settings=result.settings,
    )
    if best is not None and result.best_checkpoint is not None and result.best_checkpoint.is_file():
        _link_best(plan.output_dir / BEST_FILE, result.best_checkpoint)
        if plan.export_onnx:
            from automl_vision.training import export_onnx  # lazy: torch

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
