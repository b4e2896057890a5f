"""``tune(data)``: one call from a folder of images to the best model.

``plan_sweep`` resolves every choice (data, task, metric, space, sampler, policy, devices,
limits, output directory) into a ``SweepPlan`` and says what it picked; ``run_plan`` runs it
with the scheduler, the SQLite store, resume and reuse, and writes the results (metrics JSON,
plots, best checkpoint, ONNX). ``tune`` is the two together; ``dry_run=True`` stops after the
plan and prints it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_vision.metric_catalog import primary_metric as metric_for
from automl_vision.policies import EarlyTerminationPolicy, HyperbandPolicy, policy_from_dict
from automl_vision.sampling import (
    BayesianParameterSampling,
    FixedConfigurations,
    GridParameterSampling,
    Sampler,
    create_sampler,
)
from automl_vision.space import (
    Distribution,
    ImageClassificationSearchSpace,
    ParameterSpace,
    as_parameter_spaces,
    load_search_space,
)
from automl_vision.space.defaults import azure_defaults
from automl_vision.sweep.criteria import MaxConsecutiveFailures, NoImprovement, TargetValue, Timeout
from automl_vision.sweep.defaults import default_suggestion
from automl_vision.sweep.executors import Executor, FunctionExecutor
from automl_vision.sweep.optimize import best_trial
from automl_vision.sweep.plots import save_plots
from automl_vision.sweep.pool import ProcessPoolExecutor, TrialContext
from automl_vision.sweep.progress import ProgressDisplay
from automl_vision.sweep.result import TuneResult
from automl_vision.sweep.scheduler import Scheduler, SweepObserver
from automl_vision.sweep.store import SweepStore
from automl_vision.sweep.training_trial import TrainingJob, run_training_trial
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["SweepPlan", "plan_sweep", "run_plan", "tune"]

log = logging.getLogger("automl_vision.sweep")


# -- the plan ---------------------------------------------------------------------------------
@dataclass
class SweepPlan:
    """A fully resolved sweep: what will run, where, and why those choices."""

    dataset: Any
    spaces: list[ImageClassificationSearchSpace]
    parameter_spaces: list[ParameterSpace]
    sampler: Sampler
    policy: EarlyTerminationPolicy | None
    primary_metric: str
    goal: PrimaryMetricGoal
    max_trials: int
    max_concurrent_trials: int
    slots: list[str]
    device: str
    output_dir: Path
    seed: int
    criteria: list[Any] = field(default_factory=list)
    trial_timeout: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    export_onnx: bool = False
    previous_runs: list[Path] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    sampling_name: str = ""

    @property
    def multilabel(self) -> bool:
        return self.dataset.multilabel

    def max_epochs(self) -> int:
        """The most epochs any trial can run (the number_of_epochs bound over the spaces)."""
        default = azure_defaults()["number_of_epochs"]
        worst = 0
        for space in self.parameter_spaces:
            spec = space.parameters.get("number_of_epochs", default)
            if isinstance(spec, Distribution):
                s = spec.support
                spec = max(s.options) if s.options else s.high
            worst = max(worst, int(spec))
        return worst

    def definition(self) -> dict[str, Any]:
        """What makes two sweeps the same sweep (compared on resume; limits may change)."""
        return {
            "data_fingerprint": self.dataset.fingerprint,
            "task": self.dataset.task.value,
            "search_space": [s.to_dict() for s in self.spaces],
            "sampling": self.sampling_name,
            "policy": _policy_dict(self.policy),
            "primary_metric": self.primary_metric,
            "goal": self.goal.value,
            "seed": self.seed,
            "options": {k: str(v) for k, v in sorted(self.options.items())},
        }

    def describe(self) -> str:
        """The dry-run text: space, sampler, policy schedule, limits, worst-case epochs."""
        epochs = self.max_epochs()
        lines = [f"data: {self.dataset!r}", f"task: {self.dataset.task.value}"]
        lines.append(f"primary metric: {self.primary_metric} ({self.goal.value})")
        lines.append("search space:")
        for i, space in enumerate(self.parameter_spaces):
            lines.append(f"  [{i}] " + ", ".join(f"{k}={v}" for k, v in space.to_dict().items()))
        lines.append(f"sampler: {self.sampling_name}" + _sampler_note(self.sampler))
        if self.policy is None:
            lines.append("early termination: none")
        else:
            lines.append(f"early termination: {_policy_dict(self.policy)}")
            lines.append(f"  evaluated at reports: {_points(self.policy, epochs)}")
            if isinstance(self.policy, HyperbandPolicy):
                for b in range(self.policy.brackets):
                    lines.append(f"  bracket {b} rungs: {self.policy.rungs(b, epochs)}")
        lines.append(
            f"limits: max_trials={self.max_trials}, max_concurrent_trials="
            f"{self.max_concurrent_trials}"
            + "".join(f", {_criterion_text(c)}" for c in self.criteria)
            + (f", trial_timeout={self.trial_timeout:.0f}s" if self.trial_timeout else "")
        )
        lines.append(f"devices: {self.device}; trial slots: {_slots_text(self.slots)}")
        lines.append(
            f"worst case: {self.max_trials} trials x {epochs} epochs = "
            f"{self.max_trials * epochs} epochs (early termination only lowers this)"
        )
        lines.append(f"output: {self.output_dir}")
        return "\n".join(lines)


def _policy_dict(policy: EarlyTerminationPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    to_dict = getattr(policy, "to_dict", None)
    return to_dict() if callable(to_dict) else {"type": type(policy).__name__}


def _points(policy: EarlyTerminationPolicy, epochs: int) -> str:
    points = policy.evaluation_points(epochs)
    return ", ".join(map(str, points)) if points else "none"


def _sampler_note(sampler: Sampler) -> str:
    if isinstance(sampler, FixedConfigurations) and sampler.then is not None:
        return f" (trial 0: Azure's defaults {sampler.configs[0].params})"
    if sampler.size is not None:
        return f" ({sampler.size} configurations)"
    return ""


def _criterion_text(c: Any) -> str:
    if isinstance(c, Timeout):
        return f"timeout={c.seconds:.0f}s"
    if isinstance(c, TargetValue):
        return f"target_value={c.target}"
    if isinstance(c, NoImprovement):
        return f"stop after {c.trials} trials without {c.min_improvement:.0%} improvement"
    if isinstance(c, MaxConsecutiveFailures):
        return f"max_consecutive_failures={c.count}"
    return repr(c)


def _slots_text(slots: Sequence[str]) -> str:
    return ", ".join(s if s else "cpu" for s in slots)


# -- resolving the arguments ------------------------------------------------------------------
_AZURE_TASKS = {
    "image_classification": "multiclass",
    "image_classification_multilabel": "multilabel",
}


def _task(task: Any) -> Any:
    from automl_vision.data import Task

    if task is None:
        return None
    if isinstance(task, str) and task.strip().lower() in _AZURE_TASKS:
        task = _AZURE_TASKS[task.strip().lower()]
    return Task.parse(getattr(task, "value", task))


def _gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _device(device: str) -> tuple[str, int]:
    """(device kind for the trials, number of GPUs to spread trials over)."""
    kind = str(device).strip().lower()
    gpus = _gpus()
    if kind == "auto":
        return ("cuda", gpus) if gpus else ("cpu", 0)
    if kind == "cpu":
        return "cpu", 0
    if kind.startswith("cuda"):
        if not gpus:
            raise ValueError(f"device={device!r}: CUDA is not available on this machine")
        return "cuda", gpus
    raise ValueError(f"device={device!r} is not allowed; use 'auto', 'cpu' or 'cuda'")


def _slots(kind: str, gpus: int, concurrency: int) -> list[str]:
    """One CUDA_VISIBLE_DEVICES value per concurrent trial: GPUs split evenly, or shared."""
    if kind == "cpu":
        return [""] * concurrency
    if gpus >= concurrency:
        per = gpus // concurrency
        return [",".join(str(g) for g in range(i * per, (i + 1) * per)) for i in range(concurrency)]
    return [str(i % gpus) for i in range(concurrency)]


def _spaces(
    search_space: Any, kind: str, choices: list[str]
) -> list[ImageClassificationSearchSpace]:
    if search_space is None:
        preset = "default" if kind == "cuda" else "cpu_tiny"
        why = "a GPU is available" if kind == "cuda" else "no GPU: timm's tiny test models"
        choices.append(f"search space: preset {preset!r} ({why})")
        return load_search_space(preset)
    if isinstance(search_space, (str, Path)):
        return load_search_space(search_space)
    if isinstance(search_space, ImageClassificationSearchSpace):
        return [search_space]
    if isinstance(search_space, Mapping):
        return load_search_space(search_space)
    if isinstance(search_space, Sequence):
        return [
            s if isinstance(s, ImageClassificationSearchSpace) else load_search_space(s)[0]
            for s in search_space
        ]
    raise ValueError(
        f"search_space must be an ImageClassificationSearchSpace, a list of them, a preset name "
        f"or a YAML path, got {type(search_space).__name__}"
    )


def _auto_policy(max_epochs: int, choices: list[str]) -> EarlyTerminationPolicy:
    """ASHA with rungs at about a ninth and a third of the epochs (benchmarks/RESULTS.md)."""
    min_resource = max(1, round(max_epochs / 9))
    policy = HyperbandPolicy(min_resource=min_resource, max_resource=max(max_epochs, min_resource))
    choices.append(
        f"early termination: ASHA HyperbandPolicy(min_resource={min_resource}, "
        f"max_resource={max_epochs}, reduction_factor=3) (pass NoTerminationPolicy() for none)"
    )
    return policy


def _policy(policy: Any, max_epochs: int, choices: list[str]) -> EarlyTerminationPolicy | None:
    if policy is None:
        return _auto_policy(max_epochs, choices)
    if isinstance(policy, EarlyTerminationPolicy):
        return policy
    return policy_from_dict(policy)


def _previous_trials(
    run_dirs: Sequence[str | Path],
) -> list[tuple[Path, list[Trial], dict[str, Any]]]:
    runs = []
    for run_dir in run_dirs:
        path = Path(run_dir) / SweepStore.FILENAME
        if not path.is_file():
            raise ValueError(
                f"warm_start_from: {str(run_dir)!r} holds no sweep ({path} is missing)"
            )
        store = SweepStore(path)
        try:
            runs.append((Path(run_dir), store.load_trials(), store.meta()))
        finally:
            store.close()
    return runs


def _sampler(
    sampling: Any,
    spaces: list[ImageClassificationSearchSpace],
    seed: int,
    prior: list[Trial],
    include_default_trial: bool,
    multilabel: bool,
    choices: list[str],
) -> tuple[Sampler, str]:
    if isinstance(sampling, Sampler):
        sampler, name = sampling, type(sampling).__name__
    else:
        name = str(getattr(sampling, "value", sampling)).lower()
        if name == "bayesian" and prior:
            sampler = BayesianParameterSampling(spaces, seed=seed, prior_trials=prior)
            skipped = sampler.skipped_prior_trials
            choices.append(
                f"warm start: {len(prior) - skipped} earlier trials as prior observations"
                + (f" ({skipped} outside this search space skipped)" if skipped else "")
            )
        else:
            sampler = create_sampler(sampling, spaces, seed=seed)
            if prior:
                choices.append(f"warm start: ignored by {name} sampling (only bayesian uses it)")
    if include_default_trial and not isinstance(
        sampler, (GridParameterSampling, FixedConfigurations)
    ):
        first = default_suggestion(as_parameter_spaces(spaces), multilabel)
        sampler = FixedConfigurations([first], then=sampler)
    return sampler, name


def _output_dir(output_dir: str | Path | None, data: Any, definition: Mapping[str, Any]) -> Path:
    if output_dir is not None:
        return Path(output_dir).expanduser()
    stem = Path(str(data)).stem if isinstance(data, (str, Path)) else "arrays"
    digest = hashlib.sha256(
        json.dumps(definition, sort_keys=True, default=str).encode()
    ).hexdigest()
    return Path("runs") / f"{stem or 'data'}-{digest[:8]}"


def plan_sweep(
    data: Any,
    *,
    task: Any = None,
    search_space: Any = None,
    sampling: str | Sampler = "random",
    policy: EarlyTerminationPolicy | Mapping[str, Any] | None = None,
    primary_metric: str | None = None,
    goal: PrimaryMetricGoal | str | None = None,
    max_trials: int | None = None,
    max_concurrent_trials: int = 1,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    output_dir: str | Path | None = None,
    device: str = "auto",
    seed: int = 0,
    validation_data: Any = None,
    validation_size: float = 0.2,
    target_value: float | None = None,
    no_improvement_trials: int | None = None,
    min_improvement: float = 0.01,
    max_consecutive_failures: int = 5,
    warm_start_from: Sequence[str | Path] = (),
    reuse_from: Sequence[str | Path] = (),
    include_default_trial: bool = True,
    export_onnx: bool = False,
    training_options: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    target_column_name: str = "label",
) -> SweepPlan:
    """Resolve ``tune``'s arguments into a ``SweepPlan`` (see ``tune``). Writes nothing."""
    from automl_vision.data import load_dataset

    choices: list[str] = []
    if max_concurrent_trials < 1:
        raise ValueError(f"max_concurrent_trials must be >= 1, got {max_concurrent_trials}")
    if max_trials is not None and max_trials < 1:
        raise ValueError(f"max_trials must be >= 1, got {max_trials}")
    for name, value in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be > 0 seconds, got {value}")
    dataset = load_dataset(
        data,
        task=_task(task),
        validation=validation_data,
        validation_size=validation_size,
        seed=seed,
        cache_dir=cache_dir,
        label_column=target_column_name,
    )
    spec = metric_for(dataset.task, primary_metric)
    goal = PrimaryMetricGoal.parse(goal) if goal is not None else spec.goal
    kind, gpus = _device(device)
    spaces = _spaces(search_space, kind, choices)
    previous = _previous_trials(list(warm_start_from))
    prior = [
        t
        for _, trials, meta in previous
        for t in trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and meta.get("definition", {}).get("primary_metric", spec.name) == spec.name
    ]
    sampler, sampling_name = _sampler(
        sampling, spaces, seed, prior, include_default_trial, dataset.multilabel, choices
    )
    if max_trials is None:
        max_trials = sampler.size if isinstance(sampler, GridParameterSampling) else 20
    plan = SweepPlan(
        dataset=dataset,
        spaces=spaces,
        parameter_spaces=as_parameter_spaces(spaces),
        sampler=sampler,
        policy=None,
        primary_metric=spec.name,
        goal=goal,
        max_trials=int(max_trials),
        max_concurrent_trials=max_concurrent_trials,
        slots=_slots(kind, gpus, max_concurrent_trials),
        device=kind if kind == "cpu" else f"cuda ({gpus} GPU{'s' if gpus > 1 else ''})",
        output_dir=Path("."),
        seed=seed,
        trial_timeout=trial_timeout,
        options=dict(training_options or {}),
        export_onnx=export_onnx,
        previous_runs=[Path(p) for p in (*warm_start_from, *reuse_from)],
        choices=choices,
        sampling_name=sampling_name,
    )
    plan.policy = _policy(policy, plan.max_epochs(), choices)
    criteria: list[Any] = [MaxConsecutiveFailures(max_consecutive_failures)]
    if timeout is not None:
        criteria.append(Timeout(float(timeout)))
    if target_value is not None:
        criteria.append(TargetValue(float(target_value)))
    if no_improvement_trials is not None:
        criteria.append(NoImprovement(int(no_improvement_trials), float(min_improvement)))
    plan.criteria = criteria
    plan.output_dir = _output_dir(output_dir, data, plan.definition())
    return plan


# -- running it -------------------------------------------------------------------------------
def _config_key(params: Mapping[str, Any], fingerprint: str) -> str:
    return json.dumps([fingerprint, sorted(params.items())], default=str)


def _reuse_lookup(
    plan: SweepPlan, scheduler_trials: Callable[[], list[Trial]]
) -> Callable[[Trial], Trial | None]:
    """A COMPLETED trial with identical params on the same data (this sweep or earlier ones)."""
    fingerprint = plan.dataset.fingerprint
    earlier: dict[str, Trial] = {}
    for _, trials, meta in _previous_trials(plan.previous_runs):
        if meta.get("definition", {}).get("data_fingerprint") != fingerprint:
            continue
        for t in trials:
            if t.status is TrialStatus.COMPLETED:
                earlier.setdefault(_config_key(t.params, fingerprint), t)

    def lookup(trial: Trial) -> Trial | None:
        key = _config_key(trial.params, fingerprint)
        for t in scheduler_trials():
            if (
                t is not trial
                and t.status is TrialStatus.COMPLETED
                and _config_key(t.params, fingerprint) == key
            ):
                return t
        return earlier.get(key)

    return lookup


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [
        f"  {key}: was {old.get(key)!r}, now {new.get(key)!r}"
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def _open_store(
    plan: SweepPlan, resume: bool, force: bool
) -> tuple[SweepStore, list[Trial], list[str]]:
    """Open (or create) the sweep's store; refuse what would corrupt an existing sweep."""
    path = plan.output_dir / SweepStore.FILENAME
    definition = json.loads(json.dumps(plan.definition(), default=str))
    if path.is_file():
        store = SweepStore(path)
        meta = store.meta()
        trials = store.load_trials()
        if not resume:
            store.close()
            raise ValueError(
                f"{plan.output_dir} already holds a sweep ({len(trials)} trials); pass resume=True "
                "(--resume) to continue it, or choose another output_dir"
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
        store.log("sweep_resumed", f"{done} finished trials kept, {rerun} unfinished re-queued")
        notes = [f"resuming {plan.output_dir}: {done} finished trials kept, {rerun} re-run"]
        if differences:
            notes.append("resumed with changes (force):\n" + "\n".join(differences))
        store.set_meta({"definition": definition, **_settings_meta(plan)})
        return store, trials, notes
    store = SweepStore(path)
    store.set_meta({"definition": definition, **_settings_meta(plan)})
    store.log("sweep_started", f"{plan.max_trials} trials planned")
    return store, [], []


def _settings_meta(plan: SweepPlan) -> dict[str, Any]:
    return {
        "primary_metric": plan.primary_metric,
        "goal": plan.goal.value,
        "settings": {
            "max_trials": plan.max_trials,
            "max_concurrent_trials": plan.max_concurrent_trials,
            "device": plan.device,
            "class_names": list(plan.dataset.class_names),
        },
    }


def _executor(plan: SweepPlan, job: TrainingJob) -> Executor:
    target = functools.partial(run_training_trial, job=job)
    if plan.max_concurrent_trials == 1:
        # inline: the trial runs in this process, on the job's device (every visible GPU)

        def runner(trial: Trial, report: Any) -> Any:
            workdir = plan.output_dir / "trials" / trial.trial_id
            context = TrialContext(trial.trial_id, trial.index, str(workdir), "")
            return target(trial.params, report, context)

        return FunctionExecutor(runner, capacity=1)
    return ProcessPoolExecutor(
        target, slots=plan.slots, output_dir=plan.output_dir, trial_timeout=plan.trial_timeout
    )


def run_plan(
    plan: SweepPlan, *, resume: bool = True, force: bool = False, progress: bool = True
) -> TuneResult:
    """Run a planned sweep to its end and write its results into ``plan.output_dir``."""
    plan.output_dir.mkdir(parents=True, exist_ok=True)
    store, history, notes = _open_store(plan, resume, force)
    for line in notes:
        print(f"automl_vision: {line}", file=sys.stderr)
    job = TrainingJob(
        dataset=plan.dataset,
        primary_metric=plan.primary_metric,
        seed=plan.seed,
        device="cuda" if plan.device.startswith("cuda") else "cpu",
        options=plan.options,
        export_onnx=False,
    )
    observers: list[SweepObserver] = [store]
    if progress:
        observers.append(
            ProgressDisplay(
                max_trials=plan.max_trials,
                concurrency=plan.max_concurrent_trials,
                goal=plan.goal,
                metric=plan.primary_metric,
            )
        )
    scheduler_ref: list[Scheduler] = []
    scheduler = Scheduler(
        plan.sampler,
        _executor(plan, job),
        goal=plan.goal,
        max_trials=plan.max_trials,
        policy=plan.policy,
        primary_metric=plan.primary_metric,
        criteria=plan.criteria,
        observers=observers,
        trials=history,
        reuse=_reuse_lookup(plan, lambda: scheduler_ref[0].trials),
        trial_timeout=plan.trial_timeout,
    )
    scheduler_ref.append(scheduler)
    _annotate_inactive(plan, scheduler)
    try:
        outcome = scheduler.run()
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
    _write_outputs(plan, result)
    return result


def _annotate_inactive(plan: SweepPlan, scheduler: Scheduler) -> None:
    """Record, for each trial as it starts, the fields its sub-space leaves inactive."""

    class Inactive(SweepObserver):
        def trial_started(self, trial: Trial) -> None:
            if trial.space_index < len(plan.parameter_spaces):
                trial.inactive = plan.parameter_spaces[trial.space_index].inactive(trial.params)

    scheduler.observers.insert(0, Inactive())


def _write_outputs(plan: SweepPlan, result: TuneResult) -> None:
    result.to_json(plan.output_dir / "metrics.json")
    best = best_trial(result.trials, plan.goal)
    save_plots(result.trials, plan.goal, plan.primary_metric, plan.output_dir / "plots", best)
    if best is not None and result.best_checkpoint is not None and result.best_checkpoint.is_file():
        link = plan.output_dir / "best.pt"
        link.unlink(missing_ok=True)
        link.symlink_to(result.best_checkpoint.resolve())
        if plan.export_onnx:
            from automl_vision.training import export_onnx

            export_onnx(result.best_checkpoint, plan.output_dir / "best.onnx")


def tune(
    data: Any,
    *,
    task: Any = None,
    search_space: Any = None,
    sampling: str | Sampler = "random",
    policy: EarlyTerminationPolicy | Mapping[str, Any] | None = None,
    primary_metric: str | None = None,
    goal: PrimaryMetricGoal | str | None = None,
    max_trials: int | None = None,
    max_concurrent_trials: int = 1,
    timeout: float | None = None,
    output_dir: str | Path | None = None,
    device: str = "auto",
    resume: bool = True,
    seed: int = 0,
    dry_run: bool = False,
    force: bool = False,
    progress: bool = True,
    **options: Any,
) -> TuneResult | SweepPlan:
    """Tune an image classifier on ``data``; return the sweep's ``TuneResult``.

    ``data``: an image folder (``root/<class>/*.png``), a JSONL file in Azure's shape, an Azure
    MLTable folder, a CSV file, ``(images, labels)`` arrays, or an ``ImageDataset``.
    ``task``: ``"multiclass"``/``"multilabel"`` (or Azure's task names); inferred when None.
    ``search_space``: an ``ImageClassificationSearchSpace``, a list of them, a preset name or a
    YAML path; None picks a preset for the machine (``default`` on a GPU, ``cpu_tiny`` on CPU).
    ``sampling``: ``random``, ``sobol``, ``grid``, ``bayesian`` or a ``Sampler``.
    ``policy``: an early-termination policy or its dict form; None picks ASHA for the epochs.
    ``primary_metric``/``goal``: default ``accuracy`` (multiclass) or ``iou`` (multilabel), and
    that metric's goal. ``max_trials``: default 20 (the grid size for grid sampling).
    ``timeout``: seconds for the whole sweep. ``output_dir``: default ``runs/<data>-<hash>``
    (the same call resumes the same sweep). ``resume``: continue a sweep already in
    ``output_dir`` (its completed trials are kept, unfinished ones re-run). ``dry_run``: print
    the plan and return it without training or writing anything. ``force``: resume even if the
    sweep's definition changed.

    More options (keywords): ``trial_timeout`` (s), ``validation_data``, ``validation_size``,
    ``target_value``, ``no_improvement_trials``, ``min_improvement``,
    ``max_consecutive_failures`` (5), ``warm_start_from`` (run dirs whose trials seed the
    Bayesian sampler and are reused), ``reuse_from`` (run dirs whose identical trials are
    reused), ``include_default_trial`` (True: trial 0 uses Azure's defaults),
    ``export_onnx`` (write ``best.onnx``), ``training_options`` (``TrainingConfig`` options
    such as ``pretrained``), ``cache_dir`` (decoded-image cache), ``target_column_name`` (the
    JSONL/MLTable key of the labels, ``label`` by default).
    """
    plan = plan_sweep(
        data,
        task=task,
        search_space=search_space,
        sampling=sampling,
        policy=policy,
        primary_metric=primary_metric,
        goal=goal,
        max_trials=max_trials,
        max_concurrent_trials=max_concurrent_trials,
        timeout=timeout,
        output_dir=output_dir,
        device=device,
        seed=seed,
        **options,
    )
    for line in plan.choices:
        print(f"automl_vision: {line}", file=sys.stderr)
    if dry_run:
        print(plan.describe(), file=sys.stdout)
        return plan
    result = run_plan(plan, resume=resume, force=force, progress=progress)
    return result
