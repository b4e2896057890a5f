"""``plan_sweep``: resolve ``tune``'s arguments into a ``SweepPlan`` and say what was picked.

The data (read and fingerprinted once), the task, the primary metric and its goal, the search
space (a preset for the machine when none is given), the sampler (with Azure's defaults as trial
0), the policy (Hyperband when none is given), the devices and one slot per concurrent trial,
the stop criteria and the output directory. Planning writes nothing; ``SweepPlan.describe`` is the text
of ``--dry-run``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
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
from automl_vision.sweep.arguments import checked_number
from automl_vision.sweep.criteria import MaxConsecutiveFailures, NoImprovement, TargetValue, Timeout
from automl_vision.sweep.defaults import DEFAULT_SAMPLING, default_policy, default_suggestion
from automl_vision.sweep.packing import cpu_concurrency
from automl_vision.sweep.preflight import check_plan
from automl_vision.sweep.store import SweepStore
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["SweepPlan", "pack_trials", "plan_sweep", "previous_trials"]


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
    keep_checkpoints: int | None = 3  # the best k trials keep best.pt (None: all)
    weights: list[Any] = field(default_factory=list)  # training.weights.WeightsLookup per model
    threads_per_trial: int = 1
    #: max_concurrent_trials="auto" on CUDA: trials are packed by predicted memory when the
    #: sweep starts (``pack_trials``), which sets max_concurrent_trials, slots and placer
    packing: bool = False
    placer: Any = None  # packing.LedgerPlacer once packed
    recycle_workers_after: int | None = None  # pool workers: a fresh process after N trials
    #: injectable for tests: ``probe(shapes) -> {shape: bytes}`` and the GPUs' capacities
    memory_probe: Any = None
    gpu_memory: list[int] | None = None

    @property
    def multilabel(self) -> bool:
        return self.dataset.multilabel

    @property
    def shares_gpus(self) -> bool:
        """Packed: more trials than GPUs at once."""
        return self.packing and self.max_concurrent_trials > len(set(self.slots))

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
                for b in range(self.policy.bracket_count):
                    lines.append(f"  bracket {b} rungs: {self.policy.rungs(b, epochs)}")
        concurrency = (
            "auto (trials packed on the GPUs by predicted memory when the sweep starts)"
            if self.packing
            else str(self.max_concurrent_trials)
        )
        lines.append(
            f"limits: max_trials={self.max_trials}, max_concurrent_trials={concurrency}"
            + "".join(f", {_criterion_text(c)}" for c in self.criteria)
            + (f", trial_timeout={self.trial_timeout:.0f}s" if self.trial_timeout else "")
        )
        lines.append(f"pretrained: {self.options.get('pretrained', 'auto')}")
        for w in self.weights:
            found = f"weights found ({w.path})" if w.found else "no weights"
            lines.append(f"  {w.model}: {found}")
        lines.append(
            f"devices: {self.device}; trial slots: {_slots_text(self.slots)}; "
            f"{self.threads_per_trial} CPU thread(s) per trial"
        )
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
def _task(task: Any) -> Any:
    from automl_vision.data import Task

    if task is None:
        return None
    return Task.parse(getattr(task, "value", task))  # Azure's task names are Task's aliases


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


def _cpus() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpus or 1)


def _is_auto(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "auto"


def _count_or_auto(name: str, value: Any) -> int:
    try:
        return checked_number(name, value, int, minimum=1)
    except ValueError:
        raise ValueError(f"{name} must be an integer >= 1 or 'auto', got {value!r}") from None


def default_threads(concurrency: int) -> int:
    """CPU threads per trial: the CPUs this process may use, shared by the concurrent trials."""
    return max(1, _cpus() // concurrency)


def pack_trials(plan: SweepPlan) -> None:
    """``max_concurrent_trials="auto"`` on CUDA: probe (or read from the sweep directory) the
    step peak of every shape the space can produce, run as many trials as the worst one fits
    on the GPUs together (at most ``max_trials`` and the CPUs: each trial is a process that
    feeds its GPU), and place each trial by its own predicted peak (``packing.py``).
    With more trials than GPUs, the training images stay in pinned host memory (unless
    ``image_placement`` is set; ``shares_gpus``), since the probe does not count a dataset
    copy on the GPU."""
    from automl_vision.sweep import memory
    from automl_vision.sweep.packing import GpuLedger, LedgerPlacer, auto_concurrency

    if not plan.packing:
        return
    probe = plan.memory_probe or memory.cuda_probe(plan.dataset.num_classes, plan.options)
    if plan.memory_probe is not None and plan.gpu_memory is not None:  # injected (tests)
        identity, capacities = {"injected": True}, list(plan.gpu_memory)
    else:
        identity, capacities = memory.gpu_info(plan.options)
        capacities = list(plan.gpu_memory or capacities)
    shapes = memory.space_shapes(plan.parameter_spaces)
    peaks = memory.step_peaks(shapes, plan.output_dir, identity=identity, probe=probe)
    predict = memory.peak_of(peaks)
    predicted = {s: predict({"model_name": s.model, "training_crop_size": s.crop,
                             "training_batch_size": s.batch}) for s in peaks}  # fmt: skip
    fits = auto_concurrency(predicted, capacities)
    # never more processes than trials, nor than CPUs (each trial process feeds its GPU work)
    count = max(1, min(fits, plan.max_trials, _cpus()))
    plan.max_concurrent_trials = count
    plan.slots = [str(i % len(capacities)) for i in range(count)]
    plan.placer = LedgerPlacer(GpuLedger(capacities), predict)
    if plan.threads_per_trial == default_threads(len(capacities)):  # the default: re-share
        plan.threads_per_trial = default_threads(count)
    worst = max(predicted.values(), default=0)
    plan.choices.append(
        f"max_concurrent_trials=auto: {count} trials on {len(capacities)} GPU(s) "
        f"({fits} fit by the largest predicted peak, {worst / 2**30:.1f} GiB of "
        f"{len(peaks)} probed shape(s); at most max_trials and the CPUs)"
    )


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
    """tune()'s default policy (``sweep/defaults.py``: the best measured combination)."""
    policy, said = default_policy(max_epochs)
    choices.append(said)
    return policy


def _policy(policy: Any, max_epochs: int, choices: list[str]) -> EarlyTerminationPolicy | None:
    if policy is None:
        return _auto_policy(max_epochs, choices)
    if not isinstance(policy, EarlyTerminationPolicy):
        policy = policy_from_dict(policy)
    if isinstance(policy, HyperbandPolicy) and policy.max_resource is None:
        # Hyperband's brackets need the full budget: the trials' most epochs
        policy = policy.with_max_resource(max_epochs)
        choices.append(
            f"early termination: max_resource={policy.max_resource} (the most epochs a trial "
            f"runs), so {policy.bracket_count} bracket(s)"
        )
    return policy


def previous_trials(
    run_dirs: Sequence[str | Path],
) -> list[tuple[Path, list[Trial], dict[str, Any]]]:
    runs = []
    for run_dir in run_dirs:
        path = Path(run_dir) / SweepStore.FILENAME
        if not path.is_file():
            raise ValueError(
                f"warm_start_from: {str(run_dir)!r} holds no sweep ({path} is missing)"
            )
        store = SweepStore.open_readonly(path)
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
    if sampling is None:
        sampling = DEFAULT_SAMPLING
        choices.append(
            f"sampling: {DEFAULT_SAMPLING} (the default: GP over configuration x epochs; "
            f"pass sampling='random' for random search)"
        )
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


def _weights(spaces: Sequence[ParameterSpace], pretrained: Any) -> list[Any]:
    """Every model's pretrained weights, looked up now: an error for ``pretrained=True`` and a
    missing model, one warning for ``"auto"`` naming the models that start from scratch."""
    import warnings

    from automl_vision.training.weights import MissingWeightsWarning, plan_weights

    models: list[str] = []
    for space in spaces:
        spec = space.parameters.get("model_name", azure_defaults()["model_name"])
        options = spec.support.options if isinstance(spec, Distribution) else [spec]
        models += [str(m) for m in options]
    lookups, warning = plan_weights(models, pretrained)
    if warning is not None:
        warnings.warn(warning, MissingWeightsWarning, stacklevel=3)
    return lookups


def plan_sweep(
    data: Any,
    *,
    task: Any = None,
    search_space: Any = None,
    sampling: str | Sampler | None = None,
    policy: EarlyTerminationPolicy | Mapping[str, Any] | None = None,
    primary_metric: str | None = None,
    goal: PrimaryMetricGoal | str | None = None,
    max_trials: int | None = None,
    max_concurrent_trials: int | str = 1,
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
    keep_checkpoints: int | None = 3,
    threads_per_trial: int | None = None,
    recycle_workers_after: int | str | None = "auto",
) -> SweepPlan:
    """Resolve ``tune``'s arguments into a ``SweepPlan`` (see ``tune``). Writes nothing."""
    from automl_vision.data import load_dataset

    choices: list[str] = []
    auto_count = _is_auto(max_concurrent_trials)
    if not auto_count:
        max_concurrent_trials = _count_or_auto("max_concurrent_trials", max_concurrent_trials)
    recycle_auto = _is_auto(recycle_workers_after)
    if not recycle_auto and recycle_workers_after is not None:
        recycle_workers_after = _count_or_auto("recycle_workers_after", recycle_workers_after)
    max_trials = checked_number("max_trials", max_trials, int, minimum=1)
    timeout = checked_number("timeout", timeout, float, minimum=0, exclusive=True)
    trial_timeout = checked_number("trial_timeout", trial_timeout, float, minimum=0, exclusive=True)
    seed = checked_number("seed", seed, int, minimum=0)
    target_value = checked_number("target_value", target_value, float)
    no_improvement_trials = checked_number("no_improvement_trials", no_improvement_trials, int,
                                           minimum=1)  # fmt: skip
    min_improvement = checked_number("min_improvement", min_improvement, float, minimum=0)
    max_consecutive_failures = checked_number(
        "max_consecutive_failures", max_consecutive_failures, int, minimum=1
    )
    threads_per_trial = checked_number("threads_per_trial", threads_per_trial, int, minimum=1)
    validation_size = checked_number("validation_size", validation_size, float, minimum=0,
                                     exclusive=True, maximum=1)  # fmt: skip
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
    if auto_count and kind == "cpu":
        max_concurrent_trials = cpu_concurrency(_cpus())
        choices.append(
            f"max_concurrent_trials=auto: {max_concurrent_trials} (one trial per two CPUs)"
        )
    elif auto_count:
        max_concurrent_trials = gpus  # until pack_trials measures what fits
    if recycle_auto:
        recycle_workers_after = 1 if kind == "cuda" else None
    spaces = _spaces(search_space, kind, choices)
    previous = previous_trials(list(warm_start_from))
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
        threads_per_trial=threads_per_trial or default_threads(max_concurrent_trials),
        packing=auto_count and kind == "cuda",
        recycle_workers_after=recycle_workers_after,
    )
    if keep_checkpoints is not None and keep_checkpoints < 1:
        raise ValueError(
            f"keep_checkpoints must be >= 1 or None (keep all), got {keep_checkpoints}"
        )
    plan.keep_checkpoints = keep_checkpoints
    plan.policy = _policy(policy, plan.max_epochs(), choices)
    plan.weights = _weights(plan.parameter_spaces, plan.options.get("pretrained", "auto"))
    criteria: list[Any] = [MaxConsecutiveFailures(max_consecutive_failures)]
    if timeout is not None:
        criteria.append(Timeout(float(timeout)))
    if target_value is not None:
        criteria.append(TargetValue(float(target_value)))
    if no_improvement_trials is not None:
        criteria.append(NoImprovement(int(no_improvement_trials), float(min_improvement)))
    plan.criteria = criteria
    plan.output_dir = _output_dir(output_dir, data, plan.definition())
    check_plan(dataset, plan.parameter_spaces)  # what every trial would hit, found now
    return plan
