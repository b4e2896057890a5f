"""``SweepSpec``: the one definition of a sweep's options, from keywords, a YAML job or the CLI.

Every way of asking for a sweep ends here: ``tune(data, **options)`` builds
``SweepSpec(data=data, **options)``, a YAML job becomes ``SweepSpec.from_yaml(path)``
(``job.py`` validates Azure's nested shape, ``SweepJob.spec_options`` maps it onto these names)
and the command line ``SweepSpec.from_cli(argv)``. The spec is frozen and validated when it is
built: each bad option is one ``ValueError`` line naming it and what is allowed, an unknown one
is a ``TypeError`` that suggests the closest name. Nothing here reads data or imports torch;
``plan_sweep(spec)`` (``plan.py``) resolves it against the data and the machine.

Units are the library's: seconds for ``timeout``/``trial_timeout`` (the YAML job and the CLI
say minutes and are converted here, once).
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from automl_vision.config.checks import check_keywords, checked_number
from automl_vision.data.task import Task
from automl_vision.enums import ChoiceEnum
from automl_vision.executors.base import ExecutorKind
from automl_vision.executors.ray_cluster import RAY_INSTALL_HINT
from automl_vision.reporting.announce import announce
from automl_vision.sampling.base import Sampler
from automl_vision.sampling.factory import SamplingAlgorithm
from automl_vision.space import ImageClassificationSearchSpace, load_search_space
from automl_vision.space.errors import SearchSpaceError
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["DeviceChoice", "SweepSpec"]


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


#: (name, kind, lower bound, exclusive, upper bound) of every plain number option
_NUMBERS: tuple[tuple[str, type, float | None, bool, float | None], ...] = (
    ("max_trials", int, 1, False, None),
    ("timeout", float, 0, True, None),
    ("trial_timeout", float, 0, True, None),
    ("seed", int, 0, False, None),
    ("validation_size", float, 0, True, 1),
    ("target_value", float, None, False, None),
    ("no_improvement_trials", int, 1, False, None),
    ("min_improvement", float, 0, False, None),
    ("max_consecutive_failures", int, 1, False, None),
    ("threads_per_trial", int, 1, False, None),
)
#: options that are a count >= 1 or "auto"
_COUNTS_OR_AUTO = ("max_concurrent_trials", "recycle_workers_after")


def _path(value: Any) -> Any:
    """A path given as text or ``PathLike`` is a ``Path`` (``~`` expanded); others stay."""
    if isinstance(value, (str, Path)) and "://" not in str(value):
        return Path(value).expanduser()
    return value


def _messages(err: ValidationError) -> str:
    """One line per bad option, ``option: what is wrong`` (without pydantic's boilerplate)."""
    lines = []
    for e in err.errors(include_url=False):
        msg = str(e["msg"]).removeprefix("Value error, ")
        name = ".".join(str(p) for p in e["loc"])
        lines.append(msg if not name or msg.startswith(e["loc"][0]) else f"{name}: {msg}")
    return "\n".join(lines)


class SweepSpec(BaseModel):
    """Everything a sweep is asked to do; see ``tune`` for what each option means."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    data: Any = Field(None, validate_default=True)  # required: the validator says how
    task: Task | None = None
    search_space: tuple[ImageClassificationSearchSpace, ...] | None = None
    sampling: SamplingAlgorithm | Sampler | None = None
    policy: Any = None  # an EarlyTerminationPolicy; None: tune()'s default
    primary_metric: str | None = None
    goal: PrimaryMetricGoal | None = None
    max_trials: int | None = None
    max_concurrent_trials: int | str = 1
    timeout: float | None = None
    trial_timeout: float | None = None
    output_dir: Path | None = None
    device: DeviceChoice = DeviceChoice.AUTO
    seed: int = 0
    validation_data: Any = None
    validation_size: float = 0.2
    target_value: float | None = None
    no_improvement_trials: int | None = None
    min_improvement: float = 0.01
    max_consecutive_failures: int = 5
    warm_start_from: tuple[Path, ...] = ()
    reuse_from: tuple[Path, ...] = ()
    include_default_trial: bool = True
    export_onnx: bool = False
    training_options: dict[str, Any] = {}
    cache_dir: Path | None = None
    target_column_name: str = "label"
    keep_checkpoints: int | None = 3
    threads_per_trial: int | None = None
    recycle_workers_after: int | str | None = "auto"
    log_to: tuple[str, ...] | None = None
    executor: ExecutorKind = ExecutorKind.AUTO
    ray_address: str | None = None
    resources_per_trial: dict[str, float] | None = None

    def __init__(self, **options: Any) -> None:
        check_keywords(options, type(self).model_fields, "SweepSpec")
        try:
            super().__init__(**options)
        except ValidationError as err:
            raise ValueError(_messages(err)) from None

    # -- validation (each message names the option) -------------------------------------------
    @field_validator(*(n[0] for n in _NUMBERS), mode="before")
    @classmethod
    def _number(cls, value: Any, info: Any) -> Any:
        _, kind, low, exclusive, high = next(n for n in _NUMBERS if n[0] == info.field_name)
        return checked_number(
            info.field_name, value, kind, minimum=low, exclusive=exclusive, maximum=high
        )

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("no data: give data (--data PATH), or a job file with training_data")
        return _path(value)

    @field_validator("validation_data", mode="before")
    @classmethod
    def _validation_data(cls, value: Any) -> Any:
        return _path(value)

    @field_validator("task", mode="before")
    @classmethod
    def _task(cls, value: Any) -> Any:
        return None if value is None else Task.parse(getattr(value, "value", value), "task")

    @field_validator("goal", mode="before")
    @classmethod
    def _goal(cls, value: Any) -> Any:
        return None if value is None else PrimaryMetricGoal.parse(value, "goal")

    @field_validator("device", mode="before")
    @classmethod
    def _device(cls, value: Any) -> Any:
        return DeviceChoice.parse(str(value), "device")

    @field_validator("sampling", mode="before")
    @classmethod
    def _sampling(cls, value: Any) -> Any:
        if value is None or isinstance(value, Sampler):
            return value
        return SamplingAlgorithm.parse(getattr(value, "value", value), "sampling", "a Sampler or ")

    @field_validator("policy", mode="before")
    @classmethod
    def _policy(cls, value: Any) -> Any:
        from automl_vision.policies import policy_from_dict

        return None if value is None else policy_from_dict(value)  # its error names the field

    @field_validator("search_space", mode="before")
    @classmethod
    def _search_space(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            if isinstance(value, ImageClassificationSearchSpace):
                return (value,)
            if isinstance(value, (str, Path, Mapping)):
                return tuple(load_search_space(value))
            if isinstance(value, Sequence):
                return tuple(
                    s if isinstance(s, ImageClassificationSearchSpace) else load_search_space(s)[0]
                    for s in value
                )
        except SearchSpaceError as err:
            raise ValueError(f"search_space: {err}") from None
        raise ValueError(
            "search_space must be an ImageClassificationSearchSpace, a list of them, a preset "
            f"name or a YAML path, got {type(value).__name__}"
        )

    @field_validator(*_COUNTS_OR_AUTO, mode="before")
    @classmethod
    def _count_or_auto(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name == "recycle_workers_after":
            return None
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        try:
            return checked_number(info.field_name, value, int, minimum=1)
        except ValueError:
            raise ValueError(
                f"{info.field_name} must be an integer >= 1 or 'auto', got {value!r}"
            ) from None

    @field_validator("keep_checkpoints", mode="before")
    @classmethod
    def _keep(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return checked_number("keep_checkpoints", value, int, minimum=1)
        except ValueError:
            raise ValueError(
                f"keep_checkpoints must be >= 1 or None (keep all), got {value!r}"
            ) from None

    @field_validator("warm_start_from", "reuse_from", mode="before")
    @classmethod
    def _run_dirs(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, (str, Path)):
            value = [value]
        return tuple(Path(v).expanduser() for v in value)

    @field_validator("output_dir", "cache_dir", mode="before")
    @classmethod
    def _dir(cls, value: Any) -> Any:
        return None if value is None else Path(value).expanduser()

    @field_validator("training_options", mode="before")
    @classmethod
    def _training_options(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError(f"training_options must be a mapping, got {type(value).__name__}")
        if "pretrained" in value:
            from automl_vision.training.weights import parse_pretrained

            try:
                parse_pretrained(value["pretrained"])
            except ValueError as err:
                raise ValueError(f"training_options.{err}") from None
        return dict(value)

    @field_validator("log_to", mode="before")
    @classmethod
    def _log_to(cls, value: Any) -> Any:
        from automl_vision.reporting.integrations import parse_log_to

        targets = parse_log_to(value)  # a missing package is reported now
        return tuple(t.value for t in targets) or None

    @field_validator("executor", mode="before")
    @classmethod
    def _executor(cls, value: Any) -> Any:
        kind = ExecutorKind.parse(getattr(value, "value", value), "executor")
        if kind is ExecutorKind.RAY and importlib.util.find_spec("ray") is None:
            raise ValueError(f"executor: {RAY_INSTALL_HINT}")
        return kind

    @field_validator("ray_address", mode="before")
    @classmethod
    def _ray_address(cls, value: Any) -> Any:
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

    @field_validator("resources_per_trial", mode="before")
    @classmethod
    def _resources(cls, value: Any) -> Any:
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

    @model_validator(mode="after")
    def _ray_options_need_ray(self) -> SweepSpec:
        if self.executor is not ExecutorKind.RAY:
            given = [n for n in ("ray_address", "resources_per_trial") if getattr(self, n)]
            if given:
                raise ValueError(
                    f"{given[0]} is only used with executor='ray' (executor is "
                    f"{self.executor.value!r})"
                )
        if self.executor is ExecutorKind.INLINE and self.max_concurrent_trials not in (1, "auto"):
            raise ValueError(
                "executor: 'inline' runs one trial at a time in the sweep's process; "
                f"max_concurrent_trials={self.max_concurrent_trials} needs 'process' or 'ray'"
            )
        return self

    # -- the other ways in ------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> SweepSpec:
        """The spec of a YAML sweep job (Azure's CLI v2 shape, ``job.py``); ``overrides`` are
        keyword options that win over the file's (``data=`` replaces ``training_data``)."""
        options = cls._job_options(path)
        options.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**options)

    @classmethod
    def from_cli(cls, argv: Sequence[str]) -> SweepSpec:
        """The spec of ``automl-vision tune ARGS...`` (``argv`` without the ``tune``)."""
        from automl_vision.cli import build_parser

        return cls.from_args(build_parser().parse_args(["tune", *argv]))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SweepSpec:
        """The spec of the parsed ``tune`` command line: a job file (``-c``) and/or flags;
        a flag that is given wins over the job file."""
        flags: dict[str, Any] = {
            "data": args.data,
            "task": args.task,
            "search_space": args.search_space,
            "sampling": args.sampling,
            "policy": _cli_policy(args.policy),
            "primary_metric": args.primary_metric,
            "goal": args.goal,
            "max_trials": args.max_trials,
            "max_concurrent_trials": args.max_concurrent_trials,
            "recycle_workers_after": args.recycle_workers_after,
            "timeout": _seconds(args.timeout_minutes),
            "trial_timeout": _seconds(args.trial_timeout_minutes),
            "seed": args.seed,
            "validation_data": args.validation_data,
            "target_value": args.target_value,
            "no_improvement_trials": args.no_improvement_trials,
            "warm_start_from": args.warm_start_from,
            "log_to": args.log_to,
            "keep_checkpoints": args.keep_checkpoints,
            "output_dir": args.output_dir,
            "device": args.device,
            "executor": args.executor,
            "ray_address": args.ray_address,
            "resources_per_trial": _cli_resources(args.resources_per_trial),
        }
        if not args.default_trial:
            flags["include_default_trial"] = False
        if args.export_onnx:
            flags["export_onnx"] = True
        flags = {k: v for k, v in flags.items() if v is not None}
        if args.config:
            base = cls._job_options(args.config)
            if args.pretrained is not None:
                options = dict(base.get("training_options") or {})
                flags["training_options"] = {**options, "pretrained": args.pretrained}
            return cls(**{**base, **flags})
        if args.pretrained is not None:
            flags["training_options"] = {"pretrained": args.pretrained}
        return cls(**flags)

    @classmethod
    def _job_options(cls, path: str | Path) -> dict[str, Any]:
        from automl_vision.config.job import load_sweep_job

        job = load_sweep_job(path)
        for key, why in job.ignored_keys.items():
            announce(f"note: {key!r} is ignored here: {why}")
        return job.spec_options()

    def replace(self, **changes: Any) -> SweepSpec:
        """A copy with ``changes`` (validated like the original)."""
        return type(self)(**{**self.options(), **changes})

    def options(self) -> dict[str, Any]:
        """The options as keywords (``SweepSpec(**spec.options()) == spec``)."""
        return {name: getattr(self, name) for name in type(self).model_fields}


def _seconds(minutes: float | None) -> float | None:
    return None if minutes is None else minutes * 60


def _cli_policy(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    from automl_vision.cli import parse_policy

    return parse_policy(text)


def _cli_resources(text: str | None) -> dict[str, str] | None:
    """``cpu=2,gpu=0.25`` -> ``{"cpu": "2", "gpu": "0.25"}`` (the spec checks the numbers)."""
    if text is None:
        return None
    pairs = [part.partition("=") for part in text.split(",") if part.strip()]
    if not pairs or any(not sep or not key.strip() for key, sep, _ in pairs):
        raise ValueError(f"--resources-per-trial must look like cpu=2,gpu=0.25, got {text!r}")
    return {key.strip(): value.strip() for key, _, value in pairs}
