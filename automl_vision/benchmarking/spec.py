"""``BenchmarkSpec``: what a benchmark compares (datasets × methods) and its protocol.

Keys (the same in Python and in a YAML file, ``BenchmarkSpec.from_yaml``):

- ``datasets``: ``{name: data}``; ``data`` is anything ``load_dataset`` reads (a path, or in
  Python ``(images, labels)`` arrays) or a ``DatasetSpec`` mapping: ``data``, ``test_data``
  (a given test set), ``validation_data`` (a given validation set), ``task``,
  ``target_column_name``, ``allow_outside_root``.
- ``methods``: ``{name: {tune keyword options}}`` (``max_trials``, ``search_space``,
  ``sampling``, ``policy``, ...), each checked against ``tune``'s options when the spec is
  built; the options the protocol owns (the data and its split, the sweep's folder, resuming)
  are refused.
- ``seeds`` (K, 1..20), ``top_k`` (configurations retrained), ``retrain_on``
  (``train_validation`` | ``train``), ``test_size`` and ``validation_size`` (shares of the
  data), ``split_seed``, ``bootstrap`` (resamples of the test images), ``level`` (of the
  confidence intervals), ``output_dir``.

Names of datasets and methods become folder names: letters, digits, ``_``, ``-`` and ``.``.
Every bad key or value is one ``BenchmarkSpecError`` line naming it and what is allowed.
Nothing here reads data or imports torch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from automl_vision.config.checks import checked_number
from automl_vision.config.options import SweepOptions
from automl_vision.data.task import Task
from automl_vision.enums import ChoiceEnum
from automl_vision.space.errors import short_repr
from automl_vision.space.load import read_yaml

__all__ = [
    "PROTOCOL_OPTIONS",
    "BenchmarkSpec",
    "BenchmarkSpecError",
    "DatasetSpec",
    "RetrainOn",
    "canonical",
]

#: tune's options and arguments a method may not set: the benchmark decides them (the data and
#: its fixed split come from ``datasets``, each sweep lives in its cell's folder and resumes
#: with the benchmark)
PROTOCOL_OPTIONS = frozenset({
    "data", "validation_data", "validation_size", "task", "target_column_name",
    "allow_outside_root", "cache_dir", "output_dir", "resume", "force", "dry_run", "progress",
    "config",
})  # fmt: skip

MAX_SEEDS = 20
MAX_TOP_K = 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


class BenchmarkSpecError(ValueError):
    """A bad benchmark spec: one line per problem, each naming its key."""


class RetrainOn(ChoiceEnum):
    """What the top configurations are retrained on: ``train_validation`` (the final model
    sees the validation images too; nothing is then selected on them) or ``train``."""

    TRAIN_VALIDATION = "train_validation"
    TRAIN = "train"

    @classmethod
    def _aliases(cls) -> dict[str, RetrainOn]:
        return {"train+validation": cls.TRAIN_VALIDATION, "trainval": cls.TRAIN_VALIDATION}


def _close(name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"


def _check_keys(given: Mapping[str, Any], allowed: list[str], where: str) -> None:
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise BenchmarkSpecError(
                f"{where}: unknown key {short_repr(key)}; {hint}allowed: {', '.join(allowed)}"
            )


def _number(name: str, kind: type, minimum: float, maximum: float, exclusive: bool = False) -> Any:
    return BeforeValidator(
        lambda v: checked_number(
            name, v, kind, minimum=minimum, maximum=maximum, exclusive=exclusive
        )
    )


def _flag(name: str) -> BeforeValidator:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {short_repr(value)}")
        return value

    return BeforeValidator(check)


def _data(name: str, required: bool) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is None:
            if required:
                raise ValueError(f"{name} is required: a path or (images, labels) arrays")
            return None
        if isinstance(value, (str, Path)):
            if not str(value).strip():
                raise ValueError(f"{name} must be a path, got {short_repr(value)}")
            return Path(value).expanduser()
        return value

    return BeforeValidator(check)


class DatasetSpec(BaseModel):
    """One dataset of a benchmark: its data and, optionally, a given test and validation set.

    Without ``test_data`` a seeded split of ``data`` holds out the test images (``test_size``),
    stratified for multilabel (iterative stratification); with it, ``data`` is split into
    training and validation only. ``validation_data`` replaces the validation part of that
    split."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    data: Annotated[Any, Field(None, validate_default=True), _data("data", True)]
    test_data: Annotated[Any, Field(None), _data("test_data", False)]
    validation_data: Annotated[Any, Field(None), _data("validation_data", False)]
    task: Annotated[
        Task | None,
        Field(None),
        BeforeValidator(lambda v: None if v is None else Task.parse(getattr(v, "value", v))),
    ]
    target_column_name: str = "label"
    allow_outside_root: Annotated[bool, Field(False), _flag("allow_outside_root")]


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data that is equal exactly when the values are (a search space or
    a policy by its definition, a path as text, an enum by its value)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, ChoiceEnum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return {"type": type(value).__name__, **canonical(value.to_dict())}
    if isinstance(value, BaseModel):
        return canonical(value.model_dump(mode="json"))
    if hasattr(value, "__dict__"):
        return {"type": type(value).__name__, **canonical(vars(value))}
    return repr(value)


def _name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{kind} name {short_repr(name)} is not allowed: it names a folder, so use 1 to 64 "
            "letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return name


def _datasets(value: Any) -> dict[str, DatasetSpec]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("datasets must be a mapping {name: data path or {data: ..., ...}}")
    out: dict[str, DatasetSpec] = {}
    for name, item in value.items():
        where = f"datasets.{_name('a dataset', name)}"
        if isinstance(item, DatasetSpec):
            out[name] = item
            continue
        if isinstance(item, Mapping):
            _check_keys(item, list(DatasetSpec.model_fields), where)
            options = dict(item)
        else:
            options = {"data": item}
        try:
            out[name] = DatasetSpec(**options)
        except ValidationError as err:
            raise ValueError(f"{where}.{_first(err)}") from None
    return out


def _first(err: ValidationError) -> str:
    e = err.errors(include_url=False)[0]
    message = str(e["msg"]).removeprefix("Value error, ")
    field = ".".join(str(p) for p in e["loc"])
    return message if message.startswith(field) else f"{field}: {message}"


def _methods(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("methods must be a mapping {name: {tune option: value, ...}}")
    allowed = sorted(set(SweepOptions.model_fields) - PROTOCOL_OPTIONS)
    out: dict[str, dict[str, Any]] = {}
    for name, options in value.items():
        where = f"methods.{_name('a method', name)}"
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise ValueError(
                f"{where} must be a mapping of tune options, got {short_repr(options)}"
            )
        for key in options:
            if key in PROTOCOL_OPTIONS:
                raise ValueError(
                    f"{where}.{key}: the benchmark protocol sets it (the data and its split come "
                    "from datasets, each sweep lives in its cell of output_dir and resumes with "
                    "the benchmark); remove it"
                )
            if key not in allowed:
                raise ValueError(
                    f"{where}: {short_repr(key)} is not a tune option; {_close(str(key), allowed)}"
                )
        try:
            SweepOptions(data="<benchmark>", **options)
        except ValueError as err:  # OptionError: one line per bad option, each naming it
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            raise ValueError("; ".join(f"{where}.{line}" for line in lines)) from None
        out[name] = dict(options)
    return out


class BenchmarkSpec(BaseModel):
    """A benchmark: datasets × methods under one protocol (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    datasets: Annotated[dict[str, DatasetSpec], BeforeValidator(_datasets)]
    methods: Annotated[dict[str, dict[str, Any]], BeforeValidator(_methods)]
    seeds: Annotated[int, Field(3), _number("seeds", int, 1, MAX_SEEDS)]
    top_k: Annotated[int, Field(1), _number("top_k", int, 1, MAX_TOP_K)]
    retrain_on: Annotated[
        RetrainOn,
        Field(RetrainOn.TRAIN_VALIDATION),
        BeforeValidator(lambda v: RetrainOn.parse(getattr(v, "value", v), "retrain_on")),
    ]
    test_size: Annotated[float, Field(0.2), _number("test_size", float, 0, 1, exclusive=True)]
    validation_size: Annotated[
        float, Field(0.2), _number("validation_size", float, 0, 1, exclusive=True)
    ]
    split_seed: Annotated[int, Field(0), _number("split_seed", int, 0, 2**32 - 1)]
    bootstrap: Annotated[int, Field(1000), _number("bootstrap", int, 100, 100_000)]
    level: Annotated[float, Field(0.95), _number("level", float, 0, 1, exclusive=True)]
    output_dir: Annotated[
        Path | None,
        Field(None),
        BeforeValidator(lambda v: None if v is None else _output_dir(v)),
    ]

    def __init__(self, **keys: Any) -> None:
        _check_keys(keys, list(type(self).model_fields), "benchmark spec")
        try:
            super().__init__(**keys)
        except ValidationError as err:
            raise BenchmarkSpecError(_first(err)) from None
        if self.test_size + self.validation_size >= 1:
            raise BenchmarkSpecError(
                f"test_size + validation_size must be below 1 (training keeps the rest), got "
                f"{self.test_size} + {self.validation_size}"
            )

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> BenchmarkSpec:
        """The spec of a YAML file with the same keys; relative data paths (and method
        ``search_space`` files) are relative to the file's folder, ``output_dir`` to the
        current directory. ``overrides`` (not None) win over the file's keys."""
        path = Path(path).expanduser()
        raw = read_yaml(path, "benchmark file", BenchmarkSpecError)
        if not isinstance(raw, Mapping):
            raise BenchmarkSpecError(f"benchmark file {str(path)!r}: expected a mapping of keys")
        _check_keys(raw, list(cls.model_fields), f"benchmark file {str(path)!r}")
        folder = path.parent
        keys = dict(raw)
        if isinstance(keys.get("datasets"), Mapping):
            keys["datasets"] = {n: _relative_data(d, folder) for n, d in keys["datasets"].items()}
        if isinstance(keys.get("methods"), Mapping):
            keys["methods"] = {
                n: _relative_files(m, folder) if isinstance(m, Mapping) else m
                for n, m in keys["methods"].items()
            }
        keys.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**keys)
        except BenchmarkSpecError as err:
            raise BenchmarkSpecError(f"{path}: {err}") from None

    def keys(self) -> dict[str, Any]:
        """The spec as keywords (``BenchmarkSpec(**spec.keys()) == spec``)."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def replace(self, **changes: Any) -> BenchmarkSpec:
        """A copy with ``changes`` (validated like the original)."""
        return type(self)(**{**self.keys(), **changes})

    def resolved_output_dir(self) -> Path:
        """``output_dir``, or ``runs/benchmark-<digest of the datasets and methods>``."""
        if self.output_dir is not None:
            return self.output_dir
        text = json.dumps(
            canonical({"datasets": self.datasets, "methods": self.methods}), sort_keys=True
        )
        return Path("runs") / f"benchmark-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _output_dir(value: Any) -> Path:
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise ValueError(f"output_dir must be a path, got {short_repr(value)}")
    return Path(value).expanduser()


def _relative(value: Any, folder: Path) -> Any:
    """A relative path written in the benchmark file, taken relative to its ``folder``."""
    if isinstance(value, str) and value.strip() and not Path(value).expanduser().is_absolute():
        return str(folder / Path(value).expanduser())
    return value


def _relative_data(item: Any, folder: Path) -> Any:
    """A dataset entry of the benchmark file with its paths relative to the file's folder."""
    if isinstance(item, Mapping):
        keys = ("data", "test_data", "validation_data")
        return {k: _relative(v, folder) if k in keys else v for k, v in item.items()}
    return _relative(item, folder)


def _relative_files(options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """A method's ``search_space`` YAML files relative to the benchmark file's ``folder``."""

    def fix(value: Any) -> Any:
        yaml_file = isinstance(value, str) and value.endswith((".yaml", ".yml"))
        return _relative(value, folder) if yaml_file else value

    space = options.get("search_space")
    if space is None:
        return dict(options)
    fixed = [fix(s) for s in space] if isinstance(space, list) else fix(space)
    return {**options, "search_space": fixed}
