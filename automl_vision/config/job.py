"""``SweepJob``: a sweep job as YAML in Azure's CLI v2 sweep-job shape (the nested form),
derived from the sweep's options (``options.SweepOptions``): each option's key is its
``Option.yaml``, its type and checks are the option's own (the same error lines as a keyword),
and ``SweepJob.spec_options`` maps a job back onto the options.

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

Azure's own shapes: ``task`` by Azure's names, the data as ``{path, type}`` (relative paths
resolve against the YAML file's folder), ``training_parameters`` (fixed values of search-space
fields, merged into every sub-space; ``pretrained`` among them is a trainer option), and the
keys Azure's sweep jobs use besides ours (``limits.max_total_trials``, and ``limits.timeout`` /
``limits.trial_timeout`` in seconds). Every other option of ``SweepOptions`` is a key too, at
its ``Option.yaml`` place. Azure keys that mean nothing locally (``$schema``, ``type``,
``compute``, ...) are accepted; those that would change behaviour on Azure are reported by
``ignored_keys``. Any other unknown key is an error naming it. Validation is pure (no torch), so
a bad job fails in milliseconds, before anything is written.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from automl_vision.config.options import SweepOptions, executor_request
from automl_vision.config.surfaces import NO_DEFAULT, Option
from automl_vision.enums import ChoiceEnum
from automl_vision.executors.backend import Purpose
from automl_vision.executors.registry import check_request
from automl_vision.space import ImageClassificationSearchSpace, SearchSpaceError
from automl_vision.space.errors import short_repr
from automl_vision.space.load import format_validation_error, read_yaml, search_space_from_data
from automl_vision.weights import parse_pretrained

__all__ = [
    "DataInput",
    "DataType",
    "Limits",
    "SweepJob",
    "SweepSettings",
    "TaskType",
    "load_sweep_job",
    "sweep_job_from_data",
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

#: the options a job file writes in a shape of Azure's own (declared on ``SweepJob``)
_AZURE_SHAPED = ("data", "task", "validation_data", "search_space")


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
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=False, arbitrary_types_allowed=True
    )


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


# -- the sections, derived from the options --------------------------------------------------
@functools.cache
def _placed(section: str) -> dict[str, tuple[str, Option]]:
    """key -> (option, its ``Option``) of the options a job file writes in ``section``."""
    return {
        option.key: (name, option)
        for name, option in SweepOptions.surfaces().items()
        if option.section == section and name not in _AZURE_SHAPED
    }


def _fields(section: str) -> dict[str, Any]:
    """The pydantic fields of ``section``: each option's own type and checks, with its
    default in a job file."""
    fields: dict[str, Any] = {}
    for key, (name, option) in _placed(section).items():
        field = SweepOptions.model_fields[name]
        default = field.default if option.job_default is NO_DEFAULT else option.job_default
        fields[key] = (SweepOptions.annotated(name), default)
    return fields


def _azure_names(section: str, data: Any) -> Any:
    """The other names Azure's job files use for a section's keys: same-unit aliases, and
    seconds for a key in minutes."""
    if not isinstance(data, Mapping):
        return data
    data = dict(data)
    for key, (_, option) in _placed(section).items():
        for alias in option.yaml_aliases:
            if alias.rpartition(".")[2] in data:
                data.setdefault(key, data.pop(alias.rpartition(".")[2]))
        seconds = option.yaml_seconds and option.yaml_seconds.rpartition(".")[2]
        if seconds and seconds in data:
            value = data.pop(seconds)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            data.setdefault(key, value / 60 if number and math.isfinite(value) else value)
    return data


def _written_as(key: str, message: str) -> str:
    """``message`` about the option at ``key`` (dotted), naming the option as the file writes
    it: ``max_trials must be >= 1`` at ``limits.max_trials`` is ``limits.max_trials must be >=
    1``; a message that does not name it is led by the key."""
    name = _OPTION_AT.get(key)
    if name is not None and re.search(rf"(?<![\w.]){name}(?!\w)", message):
        return re.sub(rf"(?<![\w.]){name}(?!\w)", key, message)
    return message if not key or message.startswith(key) else f"{key}: {message}"


def _lines(err: ValidationError, where: str = "") -> list[str]:
    """One line per problem of a job's validation, each naming its key as the file writes it
    (``where``: the section the model validated)."""
    lines = []
    for e in err.errors(include_url=False):
        message = str(e["msg"]).removeprefix("Value error, ")
        key = ".".join(str(p) for p in ((where,) if where else ()) + tuple(e["loc"]))
        lines.append(_written_as(key, message))
    return lines


class _Section(_Strict):
    """A section of the job file (``_name``): Azure's other names for its keys are read, and its
    errors name their keys as the file writes them."""

    _name: ClassVar[str] = ""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise ValueError("\n".join(_lines(err, self._name))) from None

    @model_validator(mode="before")
    @classmethod
    def _azure_sweep_names(cls, data: Any) -> Any:
        return _azure_names(cls._name, data)


class _LimitsBase(_Section):
    _name = "limits"


class _SweepBase(_Section):
    _name = "sweep"

    def policy(self) -> Any:
        """The early-termination policy (None: ``tune()``'s default)."""
        return getattr(self, "early_termination", None)


#: the key each option has in a job file -> the option
_OPTION_AT: dict[str, str] = {
    option.yaml: name
    for name, option in SweepOptions.surfaces().items()
    if name not in _AZURE_SHAPED
}

#: how long the sweep may run, and the stop criteria besides the limits
Limits = create_model("Limits", __base__=_LimitsBase, **_fields("limits"))
#: Azure's ``sweep:`` section (plus ``seed``)
SweepSettings = create_model("SweepSettings", __base__=_SweepBase, **_fields("sweep"))
_TopLevel = create_model("_TopLevel", __base__=_Strict, **_fields(""))


class SweepJob(_TopLevel):  # type: ignore[misc,valid-type]
    """A whole sweep job. Build it in Python or with ``load_sweep_job(path)``."""

    task: TaskType | None = None
    training_data: DataInput | None = None
    validation_data: DataInput | None = None
    limits: Limits = Field(default_factory=Limits)  # type: ignore[valid-type]
    sweep: SweepSettings = Field(default_factory=SweepSettings)  # type: ignore[valid-type]
    training_parameters: dict[str, Any] = Field(default_factory=dict)
    pretrained: Any = None  # from training_parameters.pretrained: "auto" | true | false | path
    search_space: list[ImageClassificationSearchSpace] | None = None
    ignored_keys: dict[str, str] = Field(default_factory=dict)

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

    @model_validator(mode="after")
    def _executor_fits(self) -> SweepJob:
        check_request(executor_request(self._placed_options()), Purpose.TRAINING)
        return self

    def _placed_options(self) -> dict[str, Any]:
        """The options the job writes at their ``Option.yaml`` place (minutes as seconds)."""
        options: dict[str, Any] = {}
        for section, holder in (("", self), ("limits", self.limits), ("sweep", self.sweep)):
            for key, (name, option) in _placed(section).items():
                value = getattr(holder, key)
                if option.minutes and value is not None:
                    value = value * 60
                options[name] = value
        return options

    def spec_options(self) -> dict[str, Any]:
        """The job as ``SweepSpec`` keywords (minutes become seconds; ``training_parameters``
        are merged into every sub-space, or are the one configuration when nothing is
        searched). Data paths are checked against their ``type`` here."""
        options = self._placed_options()
        options["task"] = self.task
        if self.training_data is not None:
            options["data"] = self.training_data.checked_path("training_data")
        if self.validation_data is not None:
            options["validation_data"] = self.validation_data.checked_path("validation_data")
        if self.search_space is not None:
            options["search_space"] = self.spaces()
        elif self.training_parameters:
            options["search_space"] = [self.training_parameters]  # every trial the same config
        if self.pretrained is not None:
            options["training_options"] = {
                **options["training_options"],
                "pretrained": self.pretrained,
            }
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


def _known(section: str) -> list[str]:
    keys = {"": set(SweepJob.model_fields) - {"ignored_keys", "pretrained"}}.get(section)
    if keys is None:
        model = {"limits": Limits, "sweep": SweepSettings}[section]
        keys = set(model.model_fields)
        for _, option in _placed(section).values():
            keys |= {a.rpartition(".")[2] for a in option.yaml_aliases}
            if option.yaml_seconds:
                keys.add(option.yaml_seconds.rpartition(".")[2])
    return sorted(keys)


def _check_section_keys(data: Mapping[str, Any], where: str) -> None:
    """A section's keys are names (a number as a key would reach pydantic as a keyword)."""
    for section in ("limits", "sweep"):
        body = data.get(section)
        if not isinstance(body, Mapping):
            continue
        for key in body:
            if not isinstance(key, str):
                raise ValueError(
                    f"{where}: unknown key {short_repr(key)} in {section} "
                    f"(keys: {', '.join(_known(section))})"
                )


def _check_keys(data: Mapping[str, Any]) -> dict[str, str]:
    known = set(_known(""))
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
            f"unknown key {short_repr(key)} in the sweep job{hint} "
            f"(keys: {', '.join(sorted(known))})"
        )
    return ignored


def sweep_job_from_data(
    data: Any, base_dir: Path | None = None, where: str = "sweep job"
) -> SweepJob:
    """Validate parsed YAML (a mapping); relative data paths resolve against ``base_dir``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping of keys, got {type(data).__name__}")
    ignored = _check_keys(data)
    _check_section_keys(data, where)
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
        raise ValueError("\n".join(f"{where}: {line}" for line in _lines(err))) from None


def load_sweep_job(path: str | Path) -> SweepJob:
    """Read and validate a sweep job YAML file."""
    path = Path(path)
    data = read_yaml(path, "sweep job file")
    return sweep_job_from_data(data, path.resolve().parent, where=str(path))
