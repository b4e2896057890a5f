"""``plan_sweep``: resolve a ``SweepSpec`` into a frozen ``SweepPlan`` and say what was picked.

The data (read and fingerprinted once), the task, the primary metric and its goal, the search
space (a preset for the machine when none is given), the sampler (with Azure's defaults as trial
0), the policy (Hyperband when none is given), the devices and the executor's capacity (how many
trials at once, on which slots, packed by predicted memory: the executor kind's backend decides,
``executors/registry.py``), the stop criteria, the reuse index and the output directory. The plan
is complete when it is returned and never changed after. Planning writes nothing but the memory
probe's cache in the sweep directory (not in a dry run); ``SweepPlan.describe`` is the text of
``--dry-run``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.baseline import Baseline, trivial_baseline
from automl_vision.config.spec import SweepSpec
from automl_vision.data import load_dataset
from automl_vision.executors.backend import Capacity, ExecutorBackend, ExecutorKind, Purpose
from automl_vision.executors.machine import Devices
from automl_vision.executors.registry import backend, resolve
from automl_vision.metric_catalog import DEPLOYMENT_METRICS
from automl_vision.metric_catalog import primary_metric as metric_for
from automl_vision.pareto import Objective
from automl_vision.planning.defaults import DEFAULT_SAMPLING, default_policy, default_suggestion
from automl_vision.planning.machine import LocalMachine
from automl_vision.planning.preflight import check_plan, check_training_options
from automl_vision.policies import EarlyTerminationPolicy, HyperbandPolicy, Resource
from automl_vision.sampling import (
    BayesianParameterSampling,
    DeferredKnown,
    FixedConfigurations,
    GridParameterSampling,
    MultiObjectiveAcquisition,
    ParetoBayesianSampling,
    Sampler,
    create_sampler,
)
from automl_vision.scheduling.criteria import (
    MaxConsecutiveFailures,
    NoImprovement,
    StopCriterion,
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
from automl_vision.store.sweep_dir import SweepRecord, read_sweep, with_absolute_artifacts
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus
from automl_vision.weights import (
    MissingWeightsWarning,
    PretrainedMode,
    WeightsPlan,
    WeightsSource,
    parse_pretrained,
    plan_weights,
)

__all__ = ["SweepPlan", "plan_sweep", "previous_sweeps"]


# -- the plan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepPlan:
    """A fully resolved sweep: what will run, where, and why those choices. Built complete by
    ``plan_sweep`` and never changed."""

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
    #: how the trials run: the executor kind, how many at once, on which devices and slots
    capacity: Capacity
    output_dir: Path
    criteria: list[StopCriterion]
    reuse: ReuseIndex
    #: every model's starting weights: cached, will download (before the first trial), random
    weights: WeightsPlan
    choices: list[str]  # what was picked for the user, and why (announced)
    #: the trivial baseline of the primary metric on the validation split (None: train_loss)
    baseline: Baseline | None = None
    #: False for a dry run's plan of a cluster sweep: what depends on the cluster is said, not
    #: counted (a sweep plans again once connected)
    connected: bool = True

    # -- what the spec and the capacity hold, by the names the rest of the sweep uses ---------
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
        return tuple(self.spec.log_to or ())

    @property
    def executor(self) -> ExecutorKind:
        """What runs the trials (``auto`` resolved: inline for one trial at a time, else the
        process pool)."""
        return self.capacity.kind

    @property
    def backend(self) -> ExecutorBackend:
        return backend(self.capacity.kind)

    @property
    def max_concurrent_trials(self) -> int:
        return self.capacity.trials

    @property
    def device(self) -> Devices:
        return self.capacity.devices

    @property
    def slots(self) -> list[str]:
        """One ``CUDA_VISIBLE_DEVICES`` value per concurrent trial ("" on CPU)."""
        return list(self.capacity.slots)

    @property
    def threads_per_trial(self) -> int:
        return self.capacity.threads_per_trial

    @property
    def recycle_workers_after(self) -> int | None:
        return self.capacity.recycle_after

    @property
    def packing(self) -> bool:
        """``max_concurrent_trials="auto"`` packed the trials on the GPUs by predicted memory."""
        return self.capacity.packed

    @property
    def placer(self) -> Any:
        return self.capacity.placer

    @property
    def shares_gpus(self) -> bool:
        """Packed: more trials than GPUs at once."""
        return self.capacity.shares_gpus

    @property
    def multilabel(self) -> bool:
        return self.dataset.multilabel

    def pretrained_weights(self) -> dict[str, bool]:
        """Each model of the search space -> whether it starts from pretrained weights."""
        mode = parse_pretrained(self.options.get("pretrained", "auto"))
        if mode is PretrainedMode.OFF:
            return dict.fromkeys(_models(self.parameter_spaces), False)
        if isinstance(mode, Path) and mode.is_file():
            return dict.fromkeys(_models(self.parameter_spaces), True)
        return {w.model: w.source is not WeightsSource.RANDOM for w in self.weights.models}

    def min_train_images_per_class(self) -> int:
        """The fewest training images of any class (multilabel: carrying any label)."""
        return int(self.dataset.class_counts().min())

    def max_epochs(self) -> int:
        """The most epochs any trial can run (the number_of_epochs bound over the spaces)."""
        return _max_epochs(self.parameter_spaces)

    def definition(self) -> dict[str, Any]:
        """What makes two sweeps the same sweep (compared on resume; limits may change)."""
        return _definition(
            self.spec, self.dataset, self.spaces, self.sampling_name, self.policy,
            self.primary_metric, self.goal,
        )  # fmt: skip

    @property
    def pareto_sampler(self) -> ParetoBayesianSampling | None:
        """The multi-objective Bayesian sampler the search uses (see ``_bayesian``), or None.
        Its ``known`` is a ``DeferredKnown`` that the running sweep binds to its deployment
        measurement."""
        sampler = self.sampler
        if isinstance(sampler, FixedConfigurations):
            sampler = sampler.then
        return sampler if isinstance(sampler, ParetoBayesianSampling) else None

    @property
    def front_objectives(self) -> tuple[Objective, ...] | None:
        """The objectives that make early termination front-aware (``policies/front.py``): the
        trained metric then the deployment metrics, when the sweep has a policy and such
        objectives; else None (the policy judges the primary metric alone)."""
        if self.policy is None:
            return None
        return _searched_objectives(self.spec.objectives)

    def _deployment_lines(self) -> list[str]:
        """The objectives, constraints and what measures latency (only when given)."""
        spec, lines = self.spec, []
        if spec.objectives is not None:
            lines.append(
                "objectives: " + ", ".join(f"{o.name} ({o.goal.value})" for o in spec.objectives)
            )
            if self.pareto_sampler is not None:
                lines.append(
                    "  the search trades the objectives off (multi-objective Bayesian sampler); "
                    "the objectives give the Pareto front of the results "
                    "(result.pareto_front, result.select, automl-vision pareto)"
                )
            elif len(spec.objectives) > 1:
                lines.append(
                    f"  the search follows {self.primary_metric} alone (sampling='bayesian' "
                    "trades off a trained metric against deployment metrics); the objectives "
                    "give the Pareto front of the results (result.pareto_front, result.select, "
                    "automl-vision pareto)"
                )
            front = self.front_objectives
            if front is not None:
                known = ", ".join(o.name for o in front[1:])
                lines.append(
                    f"  early termination is front-aware: a trial the policy would stop on "
                    f"{self.primary_metric} is stopped only when another trial, by the same "
                    f"report, is at least as good in {self.primary_metric} and in {known} "
                    "(known before training), and is kept otherwise"
                )
            elif len(spec.objectives) > 1 and self.policy is not None:
                lines.append(f"  early termination follows {self.primary_metric} alone")
        if spec.constraints is not None:
            lines.append(
                "constraints (refused before training): "
                + ", ".join(f"{c.name} {c.bound.value} {c.limit:g}" for c in spec.constraints)
            )
        if lines:
            runtime = (
                "torch on the GPU"
                if self.device.kind.value == "cuda"
                else ("onnxruntime on the CPU")
            )
            lines.append(
                f"deployment metrics: measured once per architecture (model, "
                f"validation_crop_size, classes) with {runtime}, "
                f"{self.threads_per_trial or 'all'} threads"
            )
        return lines

    def describe(self) -> str:
        """The dry-run text: space, sampler, policy schedule, limits, worst-case epochs."""
        epochs = self.max_epochs()
        lines = [f"data: {self.dataset!r}", f"task: {self.dataset.task.value}"]
        lines.append(f"primary metric: {self.primary_metric} ({self.goal.value})")
        lines += self._deployment_lines()
        if self.baseline is not None:
            lines.append(f"  trivial baseline ({self.baseline.rule}): {self.baseline.value:.4f}")
        lines.append("search space:")
        for i, space in enumerate(self.parameter_spaces):
            lines.append(f"  [{i}] " + ", ".join(f"{k}={v}" for k, v in space.to_dict().items()))
        lines.append(f"sampler: {self.sampling_name}" + _pareto_note(self.pareto_sampler)
                     + _sampler_note(self.sampler))  # fmt: skip
        if self.policy is None:
            lines.append("early termination: none")
        else:
            lines.append(f"early termination: {_policy_dict(self.policy)}")
            lines += _policy_schedule(self.policy, epochs)
        lines.append(
            f"limits: max_trials={self.max_trials}, "
            f"max_concurrent_trials={self.capacity.summary}"
            + "".join(f", {_criterion_text(c)}" for c in self.criteria)
            + (f", trial_timeout={self.trial_timeout:.0f}s" if self.trial_timeout else "")
        )
        lines.append(f"pretrained: {self.options.get('pretrained', 'auto')}")
        lines += [f"  {w.describe()}" for w in self.weights.models]
        origin = self.dataset.images.origin
        lines += self.backend.describe(self.capacity, self.spec.executor_request(), origin)
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


def _policy_schedule(policy: EarlyTerminationPolicy, epochs: int) -> list[str]:
    """Where the policy judges: report counts, or for rungs in another resource (fraction of
    the schedule, seconds) the rungs in that unit, each judged at a trial's first report
    reaching it."""
    unit = getattr(policy, "resource", Resource.EPOCHS)
    if not isinstance(policy, HyperbandPolicy) or unit is Resource.EPOCHS:
        lines = [f"  evaluated at reports: {_points(policy, epochs)}"]
        if isinstance(policy, HyperbandPolicy):
            lines += [f"  bracket {b} rungs: {policy.rungs(b, epochs)}"
                      for b in range(policy.bracket_count)]  # fmt: skip
        return lines
    lines = [f"  evaluated in {unit.value}: at each trial's first report that reaches a rung"]
    for b in range(policy.bracket_count):
        rungs = ", ".join(f"{r:.4g}" for r in policy.rungs(b))
        lines.append(f"  bracket {b} rungs ({unit.value}): [{rungs}]")
    return lines


def _points(policy: EarlyTerminationPolicy, epochs: int) -> str:
    points = policy.evaluation_points(epochs)
    return ", ".join(map(str, points)) if points else "none"


def _pareto_note(sampler: ParetoBayesianSampling | None) -> str:
    """``, multi-objective: <acquisition> over <trained metric> with <others> known before
    training`` for the multi-objective sampler, else nothing."""
    if sampler is None:
        return ""
    how = {
        MultiObjectiveAcquisition.EHVI: "expected hypervolume improvement",
        MultiObjectiveAcquisition.SCALARIZATION: "random Chebyshev scalarizations",
    }[sampler.acquisition]
    first, *known = sampler.objectives
    return (
        f", multi-objective: {how} over {first.name} with "
        f"{', '.join(o.name for o in known)} known before training"
    )


def _searched_objectives(objectives: Sequence[Objective] | None) -> tuple[Objective, ...] | None:
    """The objectives the Bayesian search trades off, the trained one first: two or more, one
    trained metric (the primary metric) and the others deployment metrics, known before
    training; else None (the search follows the primary metric alone)."""
    if objectives is None or len(objectives) < 2:
        return None
    trained = [o for o in objectives if o.name not in DEPLOYMENT_METRICS]
    if len(trained) != 1:
        return None
    return (*trained, *(o for o in objectives if o.name in DEPLOYMENT_METRICS))


def _bayesian(
    spaces: list[ImageClassificationSearchSpace],
    seed: int,
    prior: list[Trial],
    objectives: Sequence[Objective] | None,
) -> BayesianParameterSampling:
    """The plan's Bayesian sampler, the one place it is built: single-objective, or (objectives
    a trained metric then deployment metrics) ``ParetoBayesianSampling`` with the same seed,
    warm start and GP settings, expected hypervolume improvement for two objectives and
    random scalarizations for more (``benchmarks/RESULTS.md``), its known objectives bound when
    the sweep runs (``DeferredKnown``)."""
    searched = _searched_objectives(objectives)
    if searched is None:
        return BayesianParameterSampling(spaces, seed=seed, prior_trials=prior)
    acquisition = (
        MultiObjectiveAcquisition.EHVI
        if len(searched) == 2
        else MultiObjectiveAcquisition.SCALARIZATION
    )
    return ParetoBayesianSampling(
        spaces,
        searched,
        DeferredKnown(),
        seed=seed,
        prior_trials=prior,
        acquisition=acquisition,
    )


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


# -- resolving the options --------------------------------------------------------------------
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


def _policy(
    policy: EarlyTerminationPolicy | None, max_epochs: int, choices: list[str]
) -> EarlyTerminationPolicy | None:
    if policy is None:  # tune()'s default (defaults.py: the best measured combination)
        policy, said = default_policy(max_epochs)
        choices.append(said)
        return policy
    if isinstance(policy, HyperbandPolicy) and policy.max_resource is None:
        # Hyperband's brackets need the full budget: the trials' most epochs
        policy = policy.with_max_resource(max_epochs)
        choices.append(
            f"early termination: max_resource={policy.max_resource} (the most epochs a trial "
            f"runs), so {policy.bracket_count} bracket(s)"
        )
    return policy


def previous_sweeps(run_dirs: Sequence[str | Path], option: str) -> list[SweepRecord]:
    """The earlier sweeps an option names (``warm_start_from``, ``reuse_from``), read once."""
    records = []
    for run_dir in run_dirs:
        if not (Path(run_dir) / "sweep.db").is_file():
            raise ValueError(
                f"{option}: {str(run_dir)!r} holds no sweep ({Path(run_dir) / 'sweep.db'} is "
                "missing)"
            )
        records.append(read_sweep(run_dir))
    return records


def _sampler(
    sampling: Any,
    spaces: list[ImageClassificationSearchSpace],
    seed: int,
    prior: list[Trial],
    include_default_trial: bool,
    multilabel: bool,
    choices: list[str],
    objectives: Sequence[Objective] | None = None,
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
        if name == "bayesian":
            sampler = _bayesian(spaces, seed, prior, objectives)
            skipped = sampler.skipped_prior_trials
            if prior:
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


#: the options the sweep's definition already covers (the data by its fingerprint, the space,
#: sampler, policy, metric, seed and training options as resolved) or that do not change what
#: the sweep's trials do (where it writes, where the decoded images are cached, which outputs
#: it adds, how many checkpoints it keeps, where it logs, where the cluster is, whether images
#: outside the data's folder were allowed)
_NOT_IN_IDENTITY = frozenset({
    "data", "validation_data", "validation_size", "target_column_name", "task", "search_space",
    "sampling", "policy", "primary_metric", "goal", "seed", "training_options", "output_dir",
    "cache_dir", "export_onnx", "keep_checkpoints", "log_to", "ray_address",
    "allow_outside_root",
})  # fmt: skip


def _identity(spec: SweepSpec, definition: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two sweeps the same sweep for their default folder: the definition and
    every other option (limits, stop criteria, executor, ...), so that a run asked to do
    something else (``max_trials=3`` rather than a job's 12) gets a folder of its own instead of
    silently resuming another's."""
    options = {
        name: getattr(value, "value", value)
        for name, value in spec.options().items()
        if name not in _NOT_IN_IDENTITY and name not in ("objectives", "constraints")
    }
    # objectives and constraints change which configurations are trained (a constraint refuses
    # some, the sampler trades the objectives off): in the digest when given, absent when not,
    # so that a single-objective sweep keeps the folder it had before they existed
    if spec.objectives is not None:
        options["objectives"] = [[o.name, o.goal.value] for o in spec.objectives]
    if spec.constraints is not None:
        options["constraints"] = [[c.name, c.bound.value, c.limit] for c in spec.constraints]
    return {"definition": dict(definition), "options": options}


def _output_dir(output_dir: Path | None, data: Any, identity: Mapping[str, Any]) -> Path:
    """``output_dir``, or ``runs/<data>-<digest of the sweep's identity>``: the same call
    resumes the same sweep, and any other call starts its own."""
    if output_dir is not None:
        return Path(output_dir).expanduser()
    stem = Path(str(data)).stem if isinstance(data, (str, Path)) else "arrays"
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return Path("runs") / f"{stem or 'data'}-{digest[:8]}"


def _models(spaces: Sequence[ParameterSpace]) -> list[str]:
    """Every model the spaces can pick, in order, once each."""
    models: list[str] = []
    for space in spaces:
        spec = space.parameters.get("model_name", azure_defaults()["model_name"])
        options = spec.support.options if isinstance(spec, Distribution) else [spec]
        models += [str(m) for m in options]
    return list(dict.fromkeys(models))


def _weights(spaces: Sequence[ParameterSpace], pretrained: Any) -> WeightsPlan:
    """Every model's starting weights, decided now (``weights.plan_weights``; downloads wait for
    the run): an error for ``pretrained=True`` and a model that cannot have them, one warning
    for ``"auto"`` naming the models with published weights that start from scratch."""
    planned = plan_weights(_models(spaces), pretrained)
    if planned.warning is not None:
        warnings.warn(planned.warning, MissingWeightsWarning, stacklevel=3)
    return planned


def _criteria(spec: SweepSpec) -> list[StopCriterion]:
    criteria: list[StopCriterion] = [MaxConsecutiveFailures(spec.max_consecutive_failures)]
    if spec.timeout is not None:
        criteria.append(Timeout(spec.timeout))
    if spec.target_value is not None:
        criteria.append(TargetValue(spec.target_value))
    if spec.no_improvement_trials is not None:
        criteria.append(NoImprovement(spec.no_improvement_trials, spec.min_improvement))
    return criteria


def _reuse_index(fingerprint: str, runs: Sequence[SweepRecord]) -> ReuseIndex:
    same_data = [
        (run.run_dir, [with_absolute_artifacts(t, run.run_dir) for t in run.trials])
        for run in runs
        if run.meta.get("definition", {}).get("data_fingerprint") == fingerprint
    ]
    return ReuseIndex.build(fingerprint, same_data)


def plan_sweep(
    spec: SweepSpec | Any,
    /,
    *,
    machine: LocalMachine | None = None,
    connection: Any = None,
    dry_run: bool = False,
    **options: Any,
) -> SweepPlan:
    """Resolve a ``SweepSpec`` (or ``data`` and ``tune``'s keyword options, which build one)
    into a ``SweepPlan``. Reads the data and the earlier sweeps it names.

    ``machine``: this machine (``LocalMachine.detect()`` when None; tests give fake GPUs).
    ``connection``: where a cluster executor runs its trials (the backend's ``connect``);
    without one, a cluster sweep's plan says what it will count when connected
    (``connected=False``). ``dry_run``: nothing is written, the memory probe's cache
    included."""
    if not isinstance(spec, SweepSpec):
        spec = SweepSpec(data=spec, **options)
    elif options:
        spec = spec.replace(**options)
    machine = machine or LocalMachine.detect()
    choices: list[str] = []
    dataset = load_dataset(
        spec.data,
        task=spec.task,
        validation=spec.validation_data,
        validation_size=spec.validation_size,
        seed=spec.seed,
        cache_dir=spec.cache_dir,
        label_column=spec.target_column_name,
        allow_outside_root=spec.allow_outside_root,
    )
    metric = metric_for(dataset.task, spec.primary_metric)
    goal = spec.goal if spec.goal is not None else metric.goal
    devices = machine.devices(spec.device)
    spaces = _spaces(spec.search_space, devices, choices)
    parameter_spaces = as_parameter_spaces(spaces)
    # the earlier sweeps are read once: warm start (prior observations) and reuse
    warm = previous_sweeps(spec.warm_start_from, "warm_start_from")
    runs = warm + previous_sweeps(spec.reuse_from, "reuse_from")
    prior = [
        t
        for run in warm
        for t in run.trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and run.meta.get("definition", {}).get("primary_metric", metric.name) == metric.name
    ]
    sampler, sampling_name = _sampler(
        spec.sampling, spaces, spec.seed, prior, spec.include_default_trial,
        dataset.multilabel, choices, spec.objectives,
    )  # fmt: skip
    max_trials = spec.max_trials
    if max_trials is None:
        max_trials = sampler.size if isinstance(sampler, GridParameterSampling) else 20
    policy = _policy(spec.policy, _max_epochs(parameter_spaces), choices)
    definition = _definition(spec, dataset, spaces, sampling_name, policy, metric.name, goal)
    output_dir = _output_dir(spec.output_dir, spec.data, _identity(spec, definition))
    check_plan(dataset, parameter_spaces)  # what every trial would hit, found now
    check_training_options(spec.training_options, dataset.task, metric.name)
    request = spec.executor_request()
    if request.max_trials is None:
        request = dataclasses.replace(request, max_trials=int(max_trials))
    sized_on = machine.for_sweep(
        devices,
        parameter_spaces=parameter_spaces,
        num_classes=dataset.num_classes,
        options=spec.training_options,
        sweep_dir=output_dir,
        write=not dry_run,
    )
    capacity = resolve(request, Purpose.TRAINING, sized_on, connection)
    choices += capacity.notes
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
        capacity=capacity,
        output_dir=output_dir,
        criteria=_criteria(spec),
        reuse=_reuse_index(dataset.fingerprint, runs),
        weights=_weights(parameter_spaces, spec.training_options.get("pretrained", "auto")),
        choices=choices,
        baseline=trivial_baseline(
            dataset.task,
            metric.name,
            dataset.targets(dataset.train_indices),
            dataset.targets(dataset.validation_indices),
            dataset.class_names,
        ),
        connected=connection is not None or not backend(capacity.kind).connects,
    )
