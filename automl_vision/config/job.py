"""``SweepJob``: a sweep job as YAML in Azure's CLI v2 sweep-job shape (the nested form).

``SweepJob.spec_options`` maps it onto ``SweepSpec`` (``spec.py``), the one flat definition of
a sweep's options that ``tune`` and the CLI use too; ``SweepSpec.from_yaml(path)`` does both.

```yaml
task: image_classification            # or image_classification_multilabel
primary_metric: accuracy
target_column_name: label
training_data: {path: ./digits, type: uri_folder}   # mltable | uri_folder | uri_file
validation_data_size: 0.2
limits: {max_trials: 10, max_concurrent_trials: 2, timeout_minutes: 60, trial_timeout_minutes: 20}
training_parameters: {number_of_epochs: 5}          # fixed for every trial
sweep:
  sampling_algorithm: bayesian
  early_termination: {type: bandit, evaluation_interval: 1, slack_factor: 0.2}
search_space:
  - model_name: "choice('resnet18', 'mobilenetv2')"
    learning_rate: "uniform(0.001, 0.05)"
```

Azure keys that mean nothing locally (``$schema``, ``type``, ``compute``, ``experiment_name``,
``description``, ``log_verbosity``, ``outputs``, ``resources``, ``tags``, ``display_name``) are
accepted; those that would change behaviour on Azure are reported by ``ignored_keys``. Any other
unknown key is an error naming it. Relative data paths resolve against the YAML file's folder.
Validation is pure (no torch), so a bad job fails in milliseconds, before anything is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from automl_vision.enums import ChoiceEnum
from automl_vision.sampling.factory import SamplingAlgorithm
from automl_vision.space import ImageClassificationSearchSpace, SearchSpaceError
from automl_vision.space.load import format_validation_error, search_space_from_data
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "DataInput",
    "DataType",
    "Limits",
    "SweepJob",
    "SweepSettings",
    "TaskType",
    "load_sweep_job",
]

# Keys of Azure's job YAML that have no local meaning. The value says why it is ignored when
# it would matter on Azure (shown to the user), or is None when it is purely descriptive.
AZURE_ONLY_KEYS: dict[str, str | None] = {
    "$schema": None,
    "type": None,
    "experiment_name": None,
    "description": None,
    "display_name": None,
    "tags": None,
    "log_verbosity": None,
    "outputs": None,
    "compute": "runs on this machine's devices (see --device / max_concurrent_trials)",
    "resources": "runs on this machine's devices",
}


class TaskType(ChoiceEnum):
    """Azure's task names."""

    IMAGE_CLASSIFICATION = "image_classification"
    IMAGE_CLASSIFICATION_MULTILABEL = "image_classification_multilabel"

    @property
    def multilabel(self) -> bool:
        return self is TaskType.IMAGE_CLASSIFICATION_MULTILABEL


class DataType(ChoiceEnum):
    MLTABLE = "mltable"
    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class DataInput(_Strict):
    """``{path: ..., type: mltable | uri_folder | uri_file}``; ``type`` is inferred when absent."""

    path: str
    type: DataType | None = None

    def checked_path(self, name: str) -> str:
        """The path, after checking that it exists and is what ``type`` says."""
        path = Path(self.path).expanduser()
        if not path.exists():
            raise ValueError(f"{name}.path {self.path!r} does not exist")
        if (
            self.type is DataType.MLTABLE
            and not (path / "MLTable").is_file()
            and path.name != "MLTable"
        ):
            raise ValueError(f"{name}: type mltable, but {self.path!r} has no MLTable file")
        if self.type is DataType.URI_FOLDER and not path.is_dir():
            raise ValueError(f"{name}: type uri_folder, but {self.path!r} is not a folder")
        if self.type is DataType.URI_FILE and not path.is_file():
            raise ValueError(f"{name}: type uri_file, but {self.path!r} is not a file")
        return str(path)


class Limits(_Strict):
    """How long the sweep may run, and the stop criteria besides the limits."""

    max_trials: int = Field(20, ge=1)
    #: a count, or "auto" (CUDA: packed by predicted memory; CPU: one trial per two CPUs)
    max_concurrent_trials: int | str = 1
    #: pool workers are replaced after this many trials ("auto": 1 on CUDA, never on CPU)
    recycle_workers_after: int | str | None = "auto"
    timeout_minutes: float | None = Field(None, gt=0)
    trial_timeout_minutes: float | None = Field(None, gt=0)
    max_consecutive_failures: int = Field(5, ge=1)
    target_value: float | None = None
    no_improvement_trials: int | None = Field(None, ge=1)
    min_improvement: float = Field(0.01, ge=0)

    @field_validator("max_concurrent_trials", "recycle_workers_after", mode="before")
    @classmethod
    def _count_or_auto(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name == "recycle_workers_after":
            return None
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"limits.{info.field_name} must be an integer >= 1 or 'auto', got {value!r}"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _azure_sweep_names(cls, data: Any) -> Any:
        """Azure's sweep jobs say ``max_total_trials``, ``timeout`` and ``trial_timeout`` (s)."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if "max_total_trials" in data:
            data.setdefault("max_trials", data.pop("max_total_trials"))
        for seconds, minutes in (
            ("timeout", "timeout_minutes"),
            ("trial_timeout", "trial_timeout_minutes"),
        ):
            if seconds in data:
                data.setdefault(minutes, float(data.pop(seconds)) / 60)
        return data


class SweepSettings(_Strict):
    """Azure's ``sweep:`` section (plus ``seed``)."""

    sampling_algorithm: SamplingAlgorithm = SamplingAlgorithm.RANDOM
    early_termination: dict[str, Any] | None = None
    seed: int = Field(0, ge=0)

    @field_validator("early_termination", mode="after")
    @classmethod
    def _policy(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from automl_vision.policies import policy_from_dict

            policy_from_dict(value)  # raises a ValueError naming the bad field
        return value

    def policy(self) -> Any:
        from automl_vision.policies import policy_from_dict

        return None if self.early_termination is None else policy_from_dict(self.early_termination)


class SweepJob(_Strict):
    """A whole sweep job. Build it in Python or with ``load_sweep_job(path)``."""

    task: TaskType | None = None
    primary_metric: str | None = None
    goal: PrimaryMetricGoal | None = None
    target_column_name: str = "label"
    training_data: DataInput | None = None
    validation_data: DataInput | None = None
    validation_data_size: float = Field(0.2, gt=0, lt=1)
    limits: Limits = Limits()
    sweep: SweepSettings = SweepSettings()
    training_parameters: dict[str, Any] = Field(default_factory=dict)
    pretrained: Any = None  # from training_parameters.pretrained: "auto" | true | false | path
    log_to: list[str] | None = None  # "tensorboard", "mlflow" (see sweep/integrations.py)
    # what runs the trials (checked by SweepSpec: executors.ExecutorKind, ray_cluster)
    executor: str | None = None
    ray_address: str | None = None
    resources_per_trial: dict[str, Any] | None = None
    search_space: list[ImageClassificationSearchSpace] | None = None
    ignored_keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("log_to", mode="before")
    @classmethod
    def _log_to(cls, value: Any) -> Any:
        if value is None:
            return None
        from automl_vision.reporting.integrations import parse_log_to

        return [target.value for target in parse_log_to(value)]

    @field_validator("search_space", mode="before")
    @classmethod
    def _spaces(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return search_space_from_data(value)
        except SearchSpaceError as err:
            raise ValueError(str(err)) from None

    @model_validator(mode="before")
    @classmethod
    def _pretrained(cls, data: Any) -> Any:
        params = data.get("training_parameters") if isinstance(data, dict) else None
        if isinstance(params, dict) and "pretrained" in params:
            from automl_vision.training.weights import parse_pretrained

            params = dict(params)
            value = params.pop("pretrained")
            try:
                parse_pretrained(value)
            except ValueError as err:
                raise ValueError(f"training_parameters.{err}") from None
            data = {**data, "training_parameters": params, "pretrained": value}
        return data

    @field_validator("training_parameters", mode="after")
    @classmethod
    def _fixed(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            space = ImageClassificationSearchSpace.model_validate(value)
        except ValidationError as err:
            raise ValueError(format_validation_error(err)) from None
        if any(not isinstance(v, (str, int, float, bool)) for v in space.set_fields().values()):
            raise ValueError("training_parameters are fixed values, not distributions")
        return space.set_fields()

    @model_validator(mode="after")
    def _no_overlap(self) -> SweepJob:
        for i, space in enumerate(self.search_space or []):
            both = sorted(set(space.set_fields()) & set(self.training_parameters))
            if both:
                raise ValueError(
                    f"{', '.join(both)} set both in training_parameters and in search_space[{i}]; "
                    "a field is either fixed for every trial or searched"
                )
        return self

    def spec_options(self) -> dict[str, Any]:
        """The job as ``SweepSpec`` keywords (minutes become seconds; ``training_parameters``
        are merged into every sub-space, or are the one configuration when nothing is
        searched). Data paths are checked against their ``type`` here."""
        limits = self.limits
        options: dict[str, Any] = {
            "target_column_name": self.target_column_name,
            "validation_size": self.validation_data_size,
            "task": self.task,
            "primary_metric": self.primary_metric,
            "goal": self.goal,
            "sampling": self.sweep.sampling_algorithm,
            "policy": self.sweep.early_termination,
            "seed": self.sweep.seed,
            "max_trials": limits.max_trials,
            "max_concurrent_trials": limits.max_concurrent_trials,
            "recycle_workers_after": limits.recycle_workers_after,
            "timeout": None if limits.timeout_minutes is None else limits.timeout_minutes * 60,
            "trial_timeout": (
                None if limits.trial_timeout_minutes is None else limits.trial_timeout_minutes * 60
            ),
            "max_consecutive_failures": limits.max_consecutive_failures,
            "target_value": limits.target_value,
            "no_improvement_trials": limits.no_improvement_trials,
            "min_improvement": limits.min_improvement,
        }
        if self.training_data is not None:
            options["data"] = self.training_data.checked_path("training_data")
        if self.validation_data is not None:
            options["validation_data"] = self.validation_data.checked_path("validation_data")
        if self.search_space is not None:
            options["search_space"] = self.spaces()
        elif self.training_parameters:
            options["search_space"] = [self.training_parameters]  # every trial the same config
        if self.pretrained is not None:
            options["training_options"] = {"pretrained": self.pretrained}
        if self.log_to:
            options["log_to"] = list(self.log_to)
        for name in ("executor", "ray_address", "resources_per_trial"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        return options

    def spaces(self) -> list[ImageClassificationSearchSpace] | None:
        """The search space with ``training_parameters`` merged into every sub-space."""
        if self.search_space is None:
            return None
        return [
            ImageClassificationSearchSpace.model_validate(
                {**s.set_fields(), **self.training_parameters}
            )
            for s in self.search_space
        ]


def _check_keys(data: Mapping[str, Any]) -> dict[str, str]:
    known = set(SweepJob.model_fields) - {"ignored_keys"}
    ignored: dict[str, str] = {}
    for key in data:
        if key in known:
            continue
        if key in AZURE_ONLY_KEYS:
            why = AZURE_ONLY_KEYS[key]
            if why:
                ignored[key] = why
            continue
        close = difflib.get_close_matches(str(key), sorted(known | set(AZURE_ONLY_KEYS)), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown key {key!r} in the sweep job{hint} (keys: {', '.join(sorted(known))})"
        )
    return ignored


def sweep_job_from_data(
    data: Any, base_dir: Path | None = None, where: str = "sweep job"
) -> SweepJob:
    """Validate parsed YAML (a mapping); relative data paths resolve against ``base_dir``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping of keys, got {type(data).__name__}")
    ignored = _check_keys(data)
    body = {k: v for k, v in data.items() if k not in AZURE_ONLY_KEYS}
    if base_dir is not None:
        for key in ("training_data", "validation_data"):
            entry = body.get(key)
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
                path = Path(entry["path"]).expanduser()
                if not path.is_absolute() and "://" not in entry["path"]:
                    body[key] = {**entry, "path": str((base_dir / path).resolve())}
    try:
        return SweepJob.model_validate({**body, "ignored_keys": ignored})
    except ValidationError as err:
        raise ValueError(
            f"{where}: " + format_validation_error(err).replace("\n", f"\n{where}: ")
        ) from None


def load_sweep_job(path: str | Path) -> SweepJob:
    """Read and validate a sweep job YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"sweep job file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    return sweep_job_from_data(data, path.resolve().parent, where=str(path))
