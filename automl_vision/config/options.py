"""``SweepOptions``: the one definition of every sweep option — its type, its default, its
range and validation (each bad value one ``ValueError`` line naming the option and what is
allowed), what it means and how it is written in a job file and on the command line (its
``surfaces.Option``). ``SweepSpec`` (``spec.py``) is these options plus the ways to build them;
the job file (``job.py``) and the ``tune`` flags (``flags.py``) are derived from them, and
``optimize`` validates its options with the same definitions (``SweepOptions.check``).

Units are the library's: seconds for ``timeout`` and ``trial_timeout`` (the job file and the
command line say minutes; they are converted once, where they are read).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from automl_vision.config.checks import check_keywords, checked_number
from automl_vision.config.surfaces import Form, Option
from automl_vision.data.task import Task
from automl_vision.enums import ChoiceEnum
from automl_vision.executors.backend import ExecutorKind, ExecutorRequest, Purpose
from automl_vision.executors.registry import backend, check_request
from automl_vision.metric_catalog import DEPLOYMENT_METRICS, METRICS, metric_spec
from automl_vision.pareto import Constraint, Objective, parse_constraints, parse_objectives
from automl_vision.policies import EarlyTerminationPolicy, policy_from_dict
from automl_vision.reporting.integrations import parse_log_to
from automl_vision.sampling.base import Sampler
from automl_vision.sampling.factory import SamplingAlgorithm
from automl_vision.space import ImageClassificationSearchSpace, load_search_space
from automl_vision.space.errors import SearchSpaceError, short_repr
from automl_vision.space.load import search_space_from_data
from automl_vision.trial import PrimaryMetricGoal
from automl_vision.weights import parse_pretrained

__all__ = [
    "EXECUTOR_OPTIONS",
    "MAX_PARALLEL",
    "DeviceChoice",
    "OptionError",
    "SweepOptions",
    "executor_request",
]


class DeviceChoice(ChoiceEnum):
    """Where a sweep's trials run: ``auto`` (every GPU when there is one, else the CPU)."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str) and value.strip().lower().startswith("cuda:"):
            return cls.CUDA  # a sweep spreads its trials over every visible GPU
        return super()._missing_(value)

    @classmethod
    def _allowed_text(cls) -> str:
        return "'auto', 'cpu' or 'cuda'"


class OptionError(ValueError):
    """Bad options: one line per problem, each naming its option (``problems``: (option,
    line); the job file renames an option to its key, ``job.py``)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(line for _, line in self.problems))


def problems(err: ValidationError) -> list[tuple[str, str]]:
    """(option, one line) per error of a pydantic validation, without its boilerplate."""
    out = []
    for e in err.errors(include_url=False):
        message = str(e["msg"]).removeprefix("Value error, ")
        option = str(e["loc"][0]) if e["loc"] else ""
        line = message if not option or message.startswith(option) else f"{option}: {message}"
        out.append((option, line))
    return out


# -- the checks of single options (each message names the option) -----------------------------
def _number(
    name: str,
    kind: type[int] | type[float],
    minimum: float | None = None,
    *,
    exclusive: bool = False,
    maximum: float | None = None,
) -> BeforeValidator:
    return BeforeValidator(
        functools.partial(
            checked_number, name, kind=kind, minimum=minimum, exclusive=exclusive, maximum=maximum
        )
    )


#: the most trials at once and CPU threads per trial: far above any machine's, low enough that
#: a typo cannot start a million worker processes or ask torch for 10**20 threads
MAX_PARALLEL = 1024


def _count_or_auto(
    name: str, none_allowed: bool = False, maximum: int | None = None
) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None and none_allowed:
            return None
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        try:
            number = checked_number(name, value, int, minimum=1)
            if number is None:
                raise ValueError(name)
        except ValueError:
            raise ValueError(
                f"{name} must be an integer >= 1 or 'auto', got {short_repr(value)}"
            ) from None
        if maximum is not None and number > maximum:
            raise ValueError(f"{name} must be at most {maximum} (or 'auto'), got {value!r}")
        return number

    return BeforeValidator(check)


def _flag(name: str) -> BeforeValidator:
    """A switch: true or false, nothing that merely converts to one (1, "yes", 0.0)."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {short_repr(value)}")
        return value

    return BeforeValidator(check)


def _metric(value: Any) -> Any:
    """A metric the trainer reports (for which task is checked once the task is known)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"primary_metric must be a metric name, got {short_repr(value)}")
    metric_spec(value)  # its error names the option and lists the metrics
    return value


def _metric_name(option: str, name: str) -> None:
    if name not in METRICS and name not in DEPLOYMENT_METRICS:
        raise ValueError(
            f"{option}: {name!r} is not a metric; choose a trainer metric "
            f"({', '.join(METRICS)}) or a deployment metric ({', '.join(DEPLOYMENT_METRICS)})"
        )


def _objectives(value: Any) -> Any:
    """``{"accuracy": "max", "latency_ms": "min"}`` (or ``Objective`` records) as a tuple."""
    if value is None:
        return None
    out = parse_objectives(value)
    for objective in out:
        _metric_name("objectives", objective.name)
    if not any(o.name in METRICS for o in out):
        raise ValueError(
            f"objectives {[o.name for o in out]} name no trainer metric; one at least (e.g. "
            "accuracy) must be, the one training is judged by"
        )
    return out


def _constraint_item(name: str, spec: Any) -> Any:
    """A bound as text from a flag or a job file: ``10``, ``'<=10'``, ``'>=0.9'``."""
    if isinstance(spec, str):
        text = spec.strip()
        for bound in ("<=", ">="):
            if text.startswith(bound):
                try:
                    return (bound, float(text[2:]))
                except ValueError:
                    break
        raise ValueError(
            f"constraints[{name!r}]={spec!r} is not allowed; a constraint must be a number "
            "(an upper bound), '<=N', '>=N' or a pair like ('>=', 0.9)"
        )
    return spec


def _constraints(value: Any) -> Any:
    """``{"latency_ms": 10, "accuracy": ">=0.9"}`` (or ``Constraint`` records) as a tuple,
    sorted by name; none (an empty mapping) is None."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = {str(k): _constraint_item(str(k), v) for k, v in value.items()}
    out = parse_constraints(value)
    for constraint in out:
        _metric_name("constraints", constraint.name)
    return tuple(sorted(out, key=lambda c: c.name)) or None  # their order means nothing


def _choice(cls: type[ChoiceEnum], name: str, hint: str = "") -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None:
            return None
        return cls.parse(getattr(value, "value", value), name, hint)

    return BeforeValidator(check)


def _path(value: Any) -> Any:
    """A path given as text or ``PathLike`` is a ``Path`` (``~`` expanded); others stay."""
    if isinstance(value, (str, Path)) and "://" not in str(value):
        return Path(value).expanduser()
    return value


def _data(value: Any) -> Any:
    if value is None:
        raise ValueError("no data: give data (--data PATH), or a job file with training_data")
    return _path(value)


def _a_path(name: str, value: Any) -> Path:
    """``value`` as a ``Path`` (``~`` expanded), or a ``ValueError`` naming the option."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ValueError(f"{name} must be a path, got {short_repr(value)}")
    return Path(value).expanduser()


def _directory(name: str) -> BeforeValidator:
    return BeforeValidator(lambda value: None if value is None else _a_path(name, value))


def _run_dirs(name: str) -> BeforeValidator:
    def check(value: Any) -> tuple[Path, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, os.PathLike)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list of sweep directories, got {short_repr(value)}")
        return tuple(_a_path(name, v) for v in value)

    return BeforeValidator(check)


def _sampling(value: Any) -> Any:
    if value is None or isinstance(value, Sampler):
        return value
    return SamplingAlgorithm.parse(getattr(value, "value", value), "sampling", "a Sampler or ")


def _policy(value: Any) -> Any:
    return None if value is None else policy_from_dict(value)  # its error names the field


def _search_space(value: Any) -> Any:
    if value is None:
        return None
    try:
        if isinstance(value, ImageClassificationSearchSpace):
            return (value,)
        if isinstance(value, (str, Path, Mapping)):
            return tuple(load_search_space(value))
        if isinstance(value, Sequence):
            if any(isinstance(s, (str, Path)) for s in value):  # preset names or files
                return tuple(
                    s if isinstance(s, ImageClassificationSearchSpace) else load_search_space(s)[0]
                    for s in value
                )
            return tuple(search_space_from_data(list(value)))
    except SearchSpaceError as err:
        raise ValueError(f"search_space: {err}") from None
    raise ValueError(
        "search_space must be an ImageClassificationSearchSpace, a list of them, a preset "
        f"name or a YAML path, got {type(value).__name__}"
    )


def _keep(value: Any) -> Any:
    if value is None:
        return None
    try:
        return checked_number("keep_checkpoints", value, int, minimum=1)
    except ValueError:
        raise ValueError(
            f"keep_checkpoints must be >= 1 or None (keep all), got {value!r}"
        ) from None


def _training_options(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"training_options must be a mapping, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"training_options: {short_repr(key)} is not an option name")
    for key in ("task", "primary_metric"):
        if key in value:
            raise ValueError(
                f"training_options.{key}: {key} is a sweep option of its own; give it as "
                f"{key}, not among the training options"
            )
    if "pretrained" in value:
        try:
            parse_pretrained(value["pretrained"])
        except ValueError as err:
            raise ValueError(f"training_options.{err}") from None
    return dict(value)


def _log_to(value: Any) -> Any:
    targets = parse_log_to(value)  # a missing package is reported now
    return [t.value for t in targets] or None


def _executor(value: Any) -> Any:
    kind = ExecutorKind.parse(getattr(value, "value", value), "executor")
    if kind is not ExecutorKind.AUTO:
        try:
            backend(kind).available()
        except ValueError as err:
            raise ValueError(f"executor: {err}") from None
    return kind


def _ray_address(value: Any) -> Any:
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None if value is None else "auto"
    text = str(value).strip()
    host, _, port = text.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"ray_address must be 'auto', 'host:port' (the head's GCS port) or "
            f"'ray://host:port' (Ray Client), got {value!r}"
        )
    return text


def _resources(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            "resources_per_trial must be a mapping such as {'cpu': 2, 'gpu': 0.25}, "
            f"got {value!r}"
        )
    out: dict[str, float] = {}
    for key, amount in value.items():
        name = str(key).strip().lower() if str(key).lower() in ("cpu", "gpu") else str(key)
        number = checked_number(f"resources_per_trial.{key}", amount, float, minimum=0)
        if name == "gpu" and number > 1 and not float(number).is_integer():
            raise ValueError(
                f"resources_per_trial.gpu must be a fraction of one GPU (<= 1) or a whole "
                f"number of GPUs, got {amount!r}"
            )
        if name == "cpu" and number == 0:
            raise ValueError("resources_per_trial.cpu must be > 0 (a trial needs a CPU)")
        out[name] = float(number)
    return out


#: the options that choose and size a sweep's executor (``executors.ExecutorRequest``)
EXECUTOR_OPTIONS = (
    "max_concurrent_trials", "threads_per_trial", "recycle_workers_after", "ray_address",
    "resources_per_trial", "device", "max_trials",
)  # fmt: skip


def executor_request(options: Mapping[str, Any]) -> ExecutorRequest:
    """The executor request of validated options (a spec's, a job file's, ``optimize``'s);
    absent ones take the options' defaults."""
    fields = SweepOptions.model_fields
    given = {n: options.get(n, fields[n].default) for n in (*EXECUTOR_OPTIONS, "executor")}
    device = given.pop("device")
    return ExecutorRequest(
        kind=given.pop("executor"), device=getattr(device, "value", device), **given
    )


# -- the options --------------------------------------------------------------------------------
class SweepOptions(BaseModel):
    """Every option of a sweep (see ``tune`` for the story of each): frozen and validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    data: Annotated[
        Any,
        Field(None, validate_default=True),
        BeforeValidator(_data),
        Option("image folder, JSONL, CSV or MLTable folder (Python: also arrays or a dataset)",
               yaml="training_data", metavar="PATH"),
    ]  # fmt: skip
    task: Annotated[
        Task | None,
        Field(None),
        _choice(Task, "task"),
        Option("multiclass | multilabel (inferred when absent)", yaml="task"),
    ]
    search_space: Annotated[
        tuple[ImageClassificationSearchSpace, ...] | None,
        Field(None),
        BeforeValidator(_search_space),
        Option("a preset name or a YAML file (a job file: the list of spaces); default: a "
               "preset for the machine", yaml="search_space"),
    ]  # fmt: skip
    sampling: Annotated[
        SamplingAlgorithm | Sampler | None,
        Field(None),
        BeforeValidator(_sampling),
        Option("random | sobol | grid | bayesian (default bayesian; a job file: random, as "
               "Azure)", yaml="sweep.sampling_algorithm", job_default=SamplingAlgorithm.RANDOM),
    ]  # fmt: skip
    policy: Annotated[
        EarlyTerminationPolicy | None,
        Field(None),
        BeforeValidator(_policy),
        Option("early termination, e.g. bandit:slack_factor=0.2,delay_evaluation=2 or none "
               "(default: Hyperband over the epochs)", yaml="sweep.early_termination"),
    ]  # fmt: skip
    primary_metric: Annotated[
        str | None,
        Field(None),
        BeforeValidator(_metric),
        Option("the metric to optimize (default accuracy; multilabel: iou)", yaml="primary_metric"),
    ]
    goal: Annotated[
        PrimaryMetricGoal | None,
        Field(None),
        _choice(PrimaryMetricGoal, "goal"),
        Option("maximize | minimize (default: the metric's)", yaml="goal"),
    ]
    objectives: Annotated[
        tuple[Objective, ...] | None,
        Field(None),
        BeforeValidator(_objectives),
        Option("what the sweep trades off, e.g. accuracy=max,latency_ms=min (trainer metrics or "
               "latency_ms, latency_p90_ms, throughput_ips, params_m, macs_g, model_mb; default: "
               "the primary metric alone; the primary metric is the first trainer metric named)",
               yaml="objectives", form=Form.PAIRS, metavar="METRIC=max|min,..."),
    ]  # fmt: skip
    constraints: Annotated[
        tuple[Constraint, ...] | None,
        Field(None),
        BeforeValidator(_constraints),
        Option("bounds a configuration must meet to be trained, e.g. latency_ms=10,params_m=25 "
               "(a number: at most; '>=N': at least); deployment metrics are measured before "
               "training and a configuration over a bound is never trained",
               yaml="constraints", form=Form.PAIRS, metavar="METRIC=N,..."),
    ]  # fmt: skip
    max_trials: Annotated[
        int | None,
        Field(None),
        _number("max_trials", int, 1),
        Option("how many trials (default 20; grid sampling: every configuration)",
               yaml="limits.max_trials", form=Form.NUMBER,
               yaml_aliases=("limits.max_total_trials",), job_default=20),
    ]  # fmt: skip
    max_concurrent_trials: Annotated[
        int | str,
        Field(1),
        _count_or_auto("max_concurrent_trials", maximum=MAX_PARALLEL),
        Option("trials at once: a number, or auto (GPU: as many as fit by predicted memory; "
               "CPU: 1 per 2 CPUs)", yaml="limits.max_concurrent_trials", form=Form.NUMBER),
    ]  # fmt: skip
    timeout: Annotated[
        float | None,
        Field(None),
        _number("timeout", float, 0, exclusive=True),
        Option("the sweep's time limit (minutes on the command line and in a job file)",
               yaml="limits.timeout_minutes", form=Form.NUMBER, flag="--timeout-minutes",
               minutes=True, yaml_seconds="limits.timeout"),
    ]  # fmt: skip
    trial_timeout: Annotated[
        float | None,
        Field(None),
        _number("trial_timeout", float, 0, exclusive=True),
        Option("each trial's time limit (minutes on the command line and in a job file)",
               yaml="limits.trial_timeout_minutes", form=Form.NUMBER,
               flag="--trial-timeout-minutes", minutes=True, yaml_seconds="limits.trial_timeout"),
    ]  # fmt: skip
    output_dir: Annotated[
        Path | None,
        Field(None),
        _directory("output_dir"),
        Option("where the sweep lives (default runs/<data>-<options hash>)", yaml="output_dir"),
    ]
    device: Annotated[
        DeviceChoice,
        Field(DeviceChoice.AUTO),
        BeforeValidator(lambda v: DeviceChoice.parse(str(v), "device")),
        Option("auto | cpu | cuda", yaml="device"),
    ]
    seed: Annotated[
        int,
        Field(0),
        _number("seed", int, 0),
        Option("the seed of the sampler and of the validation split", yaml="sweep.seed",
               form=Form.NUMBER),
    ]  # fmt: skip
    validation_data: Annotated[
        Any,
        Field(None),
        BeforeValidator(_path),
        Option("a separate validation source (else a split of the data)",
               yaml="validation_data", metavar="PATH"),
    ]  # fmt: skip
    validation_size: Annotated[
        float,
        Field(0.2),
        _number("validation_size", float, 0, exclusive=True, maximum=1),
        Option("the share of the data held out for validation (without validation_data)",
               yaml="validation_data_size", form=Form.NUMBER),
    ]  # fmt: skip
    target_value: Annotated[
        float | None,
        Field(None),
        _number("target_value", float),
        Option("stop once a trial reaches this value", yaml="limits.target_value",
               form=Form.NUMBER),
    ]  # fmt: skip
    no_improvement_trials: Annotated[
        int | None,
        Field(None),
        _number("no_improvement_trials", int, 1),
        Option("stop after N trials without min_improvement over the best",
               yaml="limits.no_improvement_trials", form=Form.NUMBER),
    ]  # fmt: skip
    min_improvement: Annotated[
        float,
        Field(0.01),
        _number("min_improvement", float, 0),
        Option("the relative gain that counts as an improvement (0.01: 1%%)",
               yaml="limits.min_improvement", form=Form.NUMBER),
    ]  # fmt: skip
    max_consecutive_failures: Annotated[
        int,
        Field(5),
        _number("max_consecutive_failures", int, 1),
        Option("stop after N failed trials in a row", yaml="limits.max_consecutive_failures",
               form=Form.NUMBER),
    ]  # fmt: skip
    warm_start_from: Annotated[
        tuple[Path, ...],
        Field(()),
        _run_dirs("warm_start_from"),
        Option("earlier sweeps whose trials seed the Bayesian sampler (and are reused)",
               yaml="warm_start_from", form=Form.LIST, metavar="RUN_DIR"),
    ]  # fmt: skip
    reuse_from: Annotated[
        tuple[Path, ...],
        Field(()),
        _run_dirs("reuse_from"),
        Option("earlier sweeps whose identical trials are reused", yaml="reuse_from",
               form=Form.LIST, metavar="RUN_DIR"),
    ]  # fmt: skip
    include_default_trial: Annotated[
        bool,
        Field(True),
        _flag("include_default_trial"),
        Option("trial 0 uses Azure's defaults", yaml="include_default_trial", form=Form.SWITCH,
               flag="--default-trial"),
    ]  # fmt: skip
    export_onnx: Annotated[
        bool,
        Field(False),
        _flag("export_onnx"),
        Option("write best.onnx", yaml="export_onnx", form=Form.SWITCH),
    ]
    training_options: Annotated[
        dict[str, Any],
        Field({}),
        BeforeValidator(_training_options),
        Option("the trainer's options beyond the search space, e.g. pretrained=false,amp=true",
               yaml="training_options", form=Form.PAIRS, metavar="KEY=VALUE,...",
               key_flags={"pretrained": "auto (default: ImageNet weights, from this "
                          "machine or downloaded when the hub answers, else random init) | "
                          "true | false | PATH"}),
    ]  # fmt: skip
    cache_dir: Annotated[
        Path | None,
        Field(None),
        _directory("cache_dir"),
        Option("the decoded-image cache (default $AUTOML_VISION_CACHE or ~/.cache/automl_vision)",
               yaml="cache_dir"),
    ]  # fmt: skip
    target_column_name: Annotated[
        str,
        Field("label"),
        Option("the label key of JSONL and MLTable data", yaml="target_column_name"),
    ]
    allow_outside_root: Annotated[
        bool,
        Field(False),
        Option("read images a JSONL, MLTable or CSV file names outside its folder (or an image "
               "folder's symbolic links lead to outside it); refused by default",
               yaml="allow_outside_root", form=Form.SWITCH),
    ]  # fmt: skip
    keep_checkpoints: Annotated[
        int | None,
        Field(3),
        BeforeValidator(_keep),
        Option("the best k trials keep their checkpoint (none: all)", yaml="keep_checkpoints",
               form=Form.NUMBER),
    ]  # fmt: skip
    threads_per_trial: Annotated[
        int | None,
        Field(None),
        _number("threads_per_trial", int, 1, maximum=MAX_PARALLEL),
        Option("CPU threads of each trial (default: the CPUs shared by the trials at once)",
               yaml="threads_per_trial", form=Form.NUMBER),
    ]  # fmt: skip
    recycle_workers_after: Annotated[
        int | str | None,
        Field("auto"),
        _count_or_auto("recycle_workers_after", none_allowed=True),
        Option("replace a worker process after N trials (auto: 1 on CUDA, never on CPU)",
               yaml="limits.recycle_workers_after", form=Form.NUMBER),
    ]  # fmt: skip
    log_to: Annotated[
        list[str] | None,
        Field(None),
        BeforeValidator(_log_to),
        Option("tensorboard,mlflow (optional packages)", yaml="log_to"),
    ]
    executor: Annotated[
        ExecutorKind,
        Field(ExecutorKind.AUTO),
        BeforeValidator(_executor),
        Option("auto (inline for one trial at a time, else process) | inline | process | ray",
               yaml="executor"),
    ]  # fmt: skip
    ray_address: Annotated[
        str | None,
        Field(None),
        BeforeValidator(_ray_address),
        Option("with executor ray: auto | HOST:PORT of a running cluster (default: a local Ray)",
               yaml="ray_address"),
    ]  # fmt: skip
    resources_per_trial: Annotated[
        dict[str, float] | None,
        Field(None),
        BeforeValidator(_resources),
        Option("with executor ray, each trial's resources, e.g. cpu=2,gpu=0.25",
               yaml="resources_per_trial", form=Form.PAIRS, metavar="cpu=N,gpu=F"),
    ]  # fmt: skip

    def __init__(self, **options: Any) -> None:
        check_keywords(options, type(self).model_fields, type(self).__name__)
        try:
            super().__init__(**options)
        except ValidationError as err:
            raise OptionError(problems(err)) from None

    @model_validator(mode="after")
    def _primary_among_objectives(self) -> SweepOptions:
        """With ``objectives``, the primary metric is one of them: the first trainer metric
        named when ``primary_metric`` is not given (its goal the objective's when ``goal`` is
        not given); a given ``primary_metric`` or ``goal`` must agree with them."""
        if self.objectives is None:
            return self
        goals = {o.name: o.goal for o in self.objectives}
        names = list(goals)
        if self.primary_metric is None:
            derived = next(n for n in names if n in METRICS)
            object.__setattr__(self, "primary_metric", derived)
        elif self.primary_metric not in goals:
            raise ValueError(
                f"primary_metric={self.primary_metric!r} is not among objectives {names}; "
                "name it there too, or leave primary_metric out (the first trainer metric of "
                "objectives is then the primary metric)"
            )
        goal = goals[self.primary_metric]
        if self.goal is None:
            object.__setattr__(self, "goal", goal)
        elif self.goal is not goal:
            raise ValueError(
                f"goal={self.goal.value!r} contradicts objectives[{self.primary_metric!r}]="
                f"{goal.value!r}; give one goal for the primary metric"
            )
        return self

    @model_validator(mode="after")
    def _metric_of_task(self) -> SweepOptions:
        if self.primary_metric is not None and self.task is not None:
            metric_spec(self.primary_metric, self.task)  # the task reports it
        return self

    @model_validator(mode="after")
    def _executor_fits(self) -> SweepOptions:
        check_request(self.executor_request(), Purpose.TRAINING)  # its message names the option
        return self

    def executor_request(self) -> ExecutorRequest:
        """The options that choose and size the executor."""
        return executor_request({n: getattr(self, n) for n in (*EXECUTOR_OPTIONS, "executor")})

    # -- the definitions, for the ways in --------------------------------------------------------
    @classmethod
    def surfaces(cls) -> dict[str, Option]:
        """Each option's ``Option``: how it is written in a job file and on the command line."""
        return {
            name: next(m for m in field.metadata if isinstance(m, Option))
            for name, field in cls.model_fields.items()
        }

    @classmethod
    def annotated(cls, name: str) -> Any:
        """The option's whole type: its annotation with its checks and its ``Option``."""
        field = cls.model_fields[name]
        return Annotated.__class_getitem__((field.annotation, *field.metadata))  # type: ignore[attr-defined]

    @classmethod
    def check(cls, name: str, value: Any) -> Any:
        """``value`` validated as the option ``name`` alone (what ``optimize`` takes of these
        options), or an ``OptionError`` with the line the spec gives."""
        try:
            return _adapter(cls, name).validate_python(value)
        except ValidationError as err:
            lines = [
                line if line.startswith(name) else f"{name}: {line}" for _, line in problems(err)
            ]
            raise OptionError([(name, line) for line in lines]) from None


@functools.cache
def _adapter(cls: type[SweepOptions], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(cls.annotated(name), config=ConfigDict(arbitrary_types_allowed=True))
