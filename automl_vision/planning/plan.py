"""``plan_sweep``: resolve ``tune``'s arguments into a ``SweepPlan`` and say what was picked.

The data (read and fingerprinted once), the task, the primary metric and its goal, the search
space (a preset for the machine when none is given), the sampler (with Azure's defaults as trial
0), the policy (Hyperband when none is given), the devices and one slot per concurrent trial,
the stop criteria and the output directory. Planning writes nothing; ``SweepPlan.describe`` is the text
of ``--dry-run``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.config.spec import DeviceChoice, SweepSpec
from automl_vision.enums import ChoiceEnum
from automl_vision.executors.base import ExecutorKind
from automl_vision.executors.packing import cpu_concurrency
from automl_vision.metric_catalog import primary_metric as metric_for
from automl_vision.planning.defaults import DEFAULT_SAMPLING, default_policy, default_suggestion
from automl_vision.planning.preflight import check_plan
from automl_vision.policies import EarlyTerminationPolicy, HyperbandPolicy, policy_from_dict
from automl_vision.sampling import (
    BayesianParameterSampling,
    FixedConfigurations,
    GridParameterSampling,
    Sampler,
    create_sampler,
)
from automl_vision.scheduling.criteria import (
    MaxConsecutiveFailures,
    NoImprovement,
    TargetValue,
    Timeout,
)
from automl_vision.scheduling.reuse import ReuseIndex
from automl_vision.space import (
    Distribution,
    ImageClassificationSearchSpace,
    ParameterSpace,
    as_parameter_spaces,
    load_search_space,
)
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.store.database import SweepStore
from automl_vision.store.sweep_dir import with_absolute_artifacts
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["DeviceKind", "Devices", "SweepPlan", "pack_trials", "plan_sweep", "previous_trials"]


# -- the plan ---------------------------------------------------------------------------------
class DeviceKind(ChoiceEnum):
    """Where the trials of a planned sweep run."""

    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class Devices:
    """The devices a sweep's trials use: the CPU, or ``gpus`` GPUs (slots split them)."""

    kind: DeviceKind
    gpus: int = 0

    @property
    def cuda(self) -> bool:
        return self.kind is DeviceKind.CUDA

    def __str__(self) -> str:  # the text of describe() and of the store's settings
        if not self.cuda:
            return self.kind.value
        return f"cuda ({self.gpus} GPU{'s' if self.gpus > 1 else ''})"


@dataclass(frozen=True)
class SweepPlan:
    """A fully resolved sweep: what will run, where, and why those choices. Built complete by
    ``plan_sweep`` and never changed; ``pack_trials`` returns a packed copy."""

    spec: SweepSpec
    dataset: Any
    spaces: list[ImageClassificationSearchSpace]
    parameter_spaces: list[ParameterSpace]
    sampler: Sampler
    sampling_name: str
    policy: EarlyTerminationPolicy | None
    primary_metric: str
    goal: PrimaryMetricGoal
    max_trials: int
    max_concurrent_trials: int
    device: Devices
    slots: list[str]  # one CUDA_VISIBLE_DEVICES value per concurrent trial ("" on CPU)
    threads_per_trial: int
    output_dir: Path
    criteria: list[Any]
    reuse: ReuseIndex
    weights: list[Any]  # training.weights.WeightsLookup per model
    choices: list[str]  # what was picked for the user, and why (announced)
    recycle_workers_after: int | None = None  # pool workers: a fresh process after N trials
    #: max_concurrent_trials="auto" on CUDA: trials are packed by predicted memory when the
    #: sweep starts (``pack_trials``, which returns the plan with the count, slots and placer)
    packing: bool = False
    placer: Any = None  # packing.LedgerPlacer once packed

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def trial_timeout(self) -> float | None:
        return self.spec.trial_timeout

    @property
    def options(self) -> dict[str, Any]:
        """The trainer's options every trial gets (``training_options``)."""
        return dict(self.spec.training_options)

    @property
    def export_onnx(self) -> bool:
        return self.spec.export_onnx

    @property
    def keep_checkpoints(self) -> int | None:
        return self.spec.keep_checkpoints

    @property
    def log_to(self) -> tuple[str, ...]:
        return self.spec.log_to or ()

    @property
    def executor(self) -> ExecutorKind:
        """What runs the trials: ``auto`` resolves to inline for one trial at a time, else to
        the process pool."""
        kind = self.spec.executor
        if kind is ExecutorKind.AUTO:
            return ExecutorKind.INLINE if self.max_concurrent_trials == 1 else ExecutorKind.PROCESS
        return kind

    @property
    def multilabel(self) -> bool:
        return self.dataset.multilabel

    @property
    def shares_gpus(self) -> bool:
        """Packed: more trials than GPUs at once."""
        return self.packing and self.max_concurrent_trials > len(set(self.slots))

    def max_epochs(self) -> int:
        """The most epochs any trial can run (the number_of_epochs bound over the spaces)."""
        return _max_epochs(self.parameter_spaces)

    def definition(self) -> dict[str, Any]:
        """What makes two sweeps the same sweep (compared on resume; limits may change)."""
        return _definition(
            self.spec, self.dataset, self.spaces, self.sampling_name, self.policy,
            self.primary_metric, self.goal,
        )  # fmt: skip

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
        if self.executor is ExecutorKind.RAY:
            from automl_vision.executors.ray_backend import describe_ray

            lines += describe_ray(self)
        else:
            lines.append(
                f"executor: {self.executor.value}; devices: {self.device}; trial slots: "
                f"{_slots_text(self.slots)}; {self.threads_per_trial} CPU thread(s) per trial"
            )
        lines.append(
            f"worst case: {self.max_trials} trials x {epochs} epochs = "
            f"{self.max_trials * epochs} epochs (early termination only lowers this)"
        )
        lines.append(f"output: {self.output_dir}")
        return "\n".join(lines)


def _max_epochs(spaces: Sequence[ParameterSpace]) -> int:
    default = azure_defaults()["number_of_epochs"]
    worst = 0
    for space in spaces:
        spec = space.parameters.get("number_of_epochs", default)
        if isinstance(spec, Distribution):
            s = spec.support
            spec = max(s.options) if s.options else s.high
        worst = max(worst, int(spec))
    return worst


def _definition(
    spec: SweepSpec,
    dataset: Any,
    spaces: Sequence[ImageClassificationSearchSpace],
    sampling_name: str,
    policy: EarlyTerminationPolicy | None,
    primary_metric: str,
    goal: PrimaryMetricGoal,
) -> dict[str, Any]:
    return {
        "data_fingerprint": dataset.fingerprint,
        "task": dataset.task.value,
        "search_space": [s.to_dict() for s in spaces],
        "sampling": sampling_name,
        "policy": _policy_dict(policy),
        "primary_metric": primary_metric,
        "goal": goal.value,
        "seed": spec.seed,
        "options": {k: str(v) for k, v in sorted(spec.training_options.items())},
    }


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
def _gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _devices(device: DeviceChoice) -> Devices:
    """The devices for the trials: ``auto`` is every GPU when there is one, else the CPU."""
    gpus = _gpus()
    if device is DeviceChoice.CPU or (device is DeviceChoice.AUTO and not gpus):
        return Devices(DeviceKind.CPU)
    if not gpus:
        raise ValueError(f"device={device.value!r}: CUDA is not available on this machine")
    return Devices(DeviceKind.CUDA, gpus)


def _cpus() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpus or 1)


def default_threads(concurrency: int) -> int:
    """CPU threads per trial: the CPUs this process may use, shared by the concurrent trials."""
    return max(1, _cpus() // concurrency)


def pack_trials(
    plan: SweepPlan, *, probe: Any = None, gpu_memory: Sequence[int] | None = None
) -> SweepPlan:
    """``max_concurrent_trials="auto"`` on CUDA: probe (or read from the sweep directory) the
    step peak of every shape the space can produce, run as many trials as the worst one fits
    on the GPUs together (at most ``max_trials`` and the CPUs: each trial is a process that
    feeds its GPU), and place each trial by its own predicted peak (``packing.py``). Returns the
    packed plan (the plan itself when it does not pack).
    With more trials than GPUs, the training images stay in pinned host memory (unless
    ``image_placement`` is set; ``shares_gpus``), since the probe does not count a dataset
    copy on the GPU. ``probe(shapes) -> {shape: bytes}`` and ``gpu_memory`` (the GPUs'
    capacities) replace the real ones (tests)."""
    from automl_vision.executors.packing import GpuLedger, LedgerPlacer, auto_concurrency
    from automl_vision.planning import memory

    if not plan.packing or plan.placer is not None:
        return plan
    probe = probe or memory.cuda_probe(plan.dataset.num_classes, plan.options)
    if gpu_memory is not None:  # injected (tests)
        identity, capacities = {"injected": True}, list(gpu_memory)
    else:
        identity, capacities = memory.gpu_info(plan.options)
    shapes = memory.space_shapes(plan.parameter_spaces)
    peaks = memory.step_peaks(shapes, plan.output_dir, identity=identity, probe=probe)
    predict = memory.peak_of(peaks)
    predicted = {s: predict({"model_name": s.model, "training_crop_size": s.crop,
                             "training_batch_size": s.batch}) for s in peaks}  # fmt: skip
    fits = auto_concurrency(predicted, capacities)
    # never more processes than trials, nor than CPUs (each trial process feeds its GPU work)
    count = max(1, min(fits, plan.max_trials, _cpus()))
    worst = max(predicted.values(), default=0)
    said = (
        f"max_concurrent_trials=auto: {count} trials on {len(capacities)} GPU(s) "
        f"({fits} fit by the largest predicted peak, {worst / 2**30:.1f} GiB of "
        f"{len(peaks)} probed shape(s); at most max_trials and the CPUs)"
    )
    return dataclasses.replace(
        plan,
        max_concurrent_trials=count,
        slots=[str(i % len(capacities)) for i in range(count)],
        placer=LedgerPlacer(GpuLedger(capacities), predict),
        threads_per_trial=plan.spec.threads_per_trial or default_threads(count),
        choices=[*plan.choices, said],
    )


def _slots(devices: Devices, concurrency: int) -> list[str]:
    """One CUDA_VISIBLE_DEVICES value per concurrent trial: GPUs split evenly, or shared."""
    gpus = devices.gpus
    if not devices.cuda:
        return [""] * concurrency
    if gpus >= concurrency:
        per = gpus // concurrency
        return [",".join(str(g) for g in range(i * per, (i + 1) * per)) for i in range(concurrency)]
    return [str(i % gpus) for i in range(concurrency)]


def _spaces(
    search_space: Sequence[ImageClassificationSearchSpace] | None,
    devices: Devices,
    choices: list[str],
) -> list[ImageClassificationSearchSpace]:
    if search_space is not None:
        return list(search_space)
    preset = "default" if devices.cuda else "cpu_tiny"
    why = "a GPU is available" if devices.cuda else "no GPU: timm's tiny test models"
    choices.append(f"search space: preset {preset!r} ({why})")
    return load_search_space(preset)


def _auto_policy(max_epochs: int, choices: list[str]) -> EarlyTerminationPolicy:
    """tune()'s default policy (``sweep/tune_defaults.py``: the best measured combination)."""
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


def _criteria(spec: SweepSpec) -> list[Any]:
    criteria: list[Any] = [MaxConsecutiveFailures(spec.max_consecutive_failures)]
    if spec.timeout is not None:
        criteria.append(Timeout(spec.timeout))
    if spec.target_value is not None:
        criteria.append(TargetValue(spec.target_value))
    if spec.no_improvement_trials is not None:
        criteria.append(NoImprovement(spec.no_improvement_trials, spec.min_improvement))
    return criteria


def _concurrency(spec: SweepSpec, devices: Devices, choices: list[str]) -> tuple[int, bool]:
    """(trials at once, packed later by predicted memory)."""
    if spec.max_concurrent_trials != "auto":
        return int(spec.max_concurrent_trials), False
    if spec.executor is ExecutorKind.INLINE:
        return 1, False
    if spec.executor is ExecutorKind.RAY:
        return 1, False  # counted from the cluster's resources when the sweep starts
    if devices.cuda:
        return devices.gpus, True  # until pack_trials measures what fits
    count = cpu_concurrency(_cpus())
    choices.append(f"max_concurrent_trials=auto: {count} (one trial per two CPUs)")
    return count, False


def _reuse_index(
    fingerprint: str, runs: Sequence[tuple[Path, list[Trial], dict[str, Any]]]
) -> ReuseIndex:
    same_data = [
        (run_dir, [with_absolute_artifacts(t, run_dir) for t in trials])
        for run_dir, trials, meta in runs
        if meta.get("definition", {}).get("data_fingerprint") == fingerprint
    ]
    return ReuseIndex.build(fingerprint, same_data)


def plan_sweep(spec: SweepSpec | Any, /, **options: Any) -> SweepPlan:
    """Resolve a ``SweepSpec`` (or ``data`` and ``tune``'s keyword options, which build one)
    into a ``SweepPlan``. Reads the data and the earlier sweeps it names; writes nothing."""
    from automl_vision.data import load_dataset

    if not isinstance(spec, SweepSpec):
        spec = SweepSpec(data=spec, **options)
    elif options:
        spec = spec.replace(**options)
    choices: list[str] = []
    dataset = load_dataset(
        spec.data,
        task=spec.task,
        validation=spec.validation_data,
        validation_size=spec.validation_size,
        seed=spec.seed,
        cache_dir=spec.cache_dir,
        label_column=spec.target_column_name,
    )
    metric = metric_for(dataset.task, spec.primary_metric)
    goal = spec.goal if spec.goal is not None else metric.goal
    devices = _devices(spec.device)
    concurrency, packing = _concurrency(spec, devices, choices)
    recycle = spec.recycle_workers_after
    if recycle == "auto":
        recycle = 1 if devices.cuda else None
    spaces = _spaces(spec.search_space, devices, choices)
    parameter_spaces = as_parameter_spaces(spaces)
    # the earlier sweeps are read once: warm start (prior observations) and reuse
    warm = previous_trials(spec.warm_start_from)
    runs = warm + previous_trials(spec.reuse_from)
    prior = [
        t
        for _, trials, meta in warm
        for t in trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and meta.get("definition", {}).get("primary_metric", metric.name) == metric.name
    ]
    sampler, sampling_name = _sampler(
        spec.sampling, spaces, spec.seed, prior, spec.include_default_trial,
        dataset.multilabel, choices,
    )  # fmt: skip
    max_trials = spec.max_trials
    if max_trials is None:
        max_trials = sampler.size if isinstance(sampler, GridParameterSampling) else 20
    policy = _policy(spec.policy, _max_epochs(parameter_spaces), choices)
    output_dir = _output_dir(
        spec.output_dir,
        spec.data,
        _definition(spec, dataset, spaces, sampling_name, policy, metric.name, goal),
    )
    check_plan(dataset, parameter_spaces)  # what every trial would hit, found now
    return SweepPlan(
        spec=spec,
        dataset=dataset,
        spaces=spaces,
        parameter_spaces=parameter_spaces,
        sampler=sampler,
        sampling_name=sampling_name,
        policy=policy,
        primary_metric=metric.name,
        goal=goal,
        max_trials=int(max_trials),
        max_concurrent_trials=concurrency,
        device=devices,
        slots=_slots(devices, concurrency),
        threads_per_trial=spec.threads_per_trial or default_threads(concurrency),
        output_dir=output_dir,
        criteria=_criteria(spec),
        reuse=_reuse_index(dataset.fingerprint, runs),
        weights=_weights(parameter_spaces, spec.training_options.get("pretrained", "auto")),
        choices=choices,
        recycle_workers_after=recycle,
        packing=packing,
    )
