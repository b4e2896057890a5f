"""The 31 fields of Azure's image-classification search space: types, ranges, conditions.

One table (``FIELDS``) drives validation of fixed values and of distributions' supports, the
conditional-activity rules and the documentation; ``model_names.py`` holds the model names and
``azure_defaults.py`` Azure's default values.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from automl_vision.space.distributions import Distribution, Kind, Support, _fmt, choice
from automl_vision.space.model_names import canonical_model_name, model_name_problem

__all__ = ["CONDITIONS", "FIELDS", "FieldSpec", "ValueType"]


class ValueType(enum.Enum):
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    OPTION = "option"  # one of a fixed set of strings
    MODEL = "model"  # an Azure or timm model name


@dataclass(frozen=True)
class FieldSpec:
    """What values one field accepts."""

    name: str
    type: ValueType
    help: str
    low: float = -math.inf
    high: float = math.inf
    options: tuple[str, ...] = ()

    # -- fixed values -----------------------------------------------------------------------
    def allowed(self) -> str:
        """The allowed values, in words, for error messages."""
        if self.type is ValueType.BOOL:
            return "true or false"
        if self.type is ValueType.OPTION:
            return "one of " + ", ".join(repr(o) for o in self.options)
        if self.type is ValueType.MODEL:
            return "an Azure model name or a timm model name"
        what = "an integer" if self.type is ValueType.INT else "a number"
        if math.isinf(self.high):
            return f"{what} >= {_fmt(self.low)}"
        return f"{what} in [{_fmt(self.low)}, {_fmt(self.high)}]"

    def check_value(self, value: Any) -> Any:
        """Validate and normalize a fixed value; raise ``ValueError`` naming the field."""
        reason, normalized = self._check(value)
        if reason:
            raise ValueError(
                f"{self.name}={value!r} {reason}; {self.name} must be {self.allowed()}"
            )
        return normalized

    def _check(self, value: Any) -> tuple[str, Any]:
        """(reason it is not allowed or '', normalized value)."""
        t = self.type
        if t is ValueType.BOOL:
            if isinstance(value, bool):
                return "", value
            if isinstance(value, int) and value in (0, 1):
                return "", bool(value)
            return "is not a boolean", None
        if t is ValueType.OPTION:
            if isinstance(value, str) and value.strip().lower() in self.options:
                return "", value.strip().lower()
            return "is not allowed", None
        if t is ValueType.MODEL:
            problem = model_name_problem(value)
            return problem, (None if problem else canonical_model_name(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number", None
        if not math.isfinite(value):
            return "is not a finite number", None
        if t is ValueType.INT:
            if float(value) != int(value):
                return "is not an integer", None
            value = int(value)
        else:
            value = float(value)
        if not self.low <= value <= self.high:
            return "is out of range", None
        return "", value

    # -- distributions ----------------------------------------------------------------------
    def check_distribution(self, dist: Distribution) -> Distribution:
        """Check that every value ``dist`` can produce is allowed; normalize choice options."""
        if isinstance(dist, choice):
            checked = [(option, *self._check(option)) for option in dist.options]
            bad = [f"{option!r} {reason}" for option, reason, _ in checked if reason]
            if bad:
                raise ValueError(
                    f"{self.name}={dist} has options that are not allowed: {'; '.join(bad)}. "
                    f"{self.name} must be {self.allowed()}"
                )
            values = [value for _, _, value in checked]
            if len({(type(v), v) for v in values}) != len(values):
                raise ValueError(f"{self.name}={dist}: two options mean the same value")
            return choice(*values)
        if self.type in (ValueType.BOOL, ValueType.OPTION, ValueType.MODEL):
            raise ValueError(
                f"{self.name}={dist}: {self.name} takes {self.allowed()}, so only a fixed value "
                f"or choice(...) can be searched"
            )
        support: Support = dist.support
        if self.type is ValueType.INT and support.kind is Kind.REAL:
            raise ValueError(
                f"{self.name}={dist} produces non-integer values; {self.name} must be "
                f"{self.allowed()}: use choice(...), randint(...) or a q-distribution with an "
                "integer q, e.g. quniform(16, 64, 16)"
            )
        if support.low < self.low or support.high > self.high:
            what = "is unbounded" if not support.bounded else f"can produce {support.describe()}"
            raise ValueError(
                f"{self.name}={dist} {what}, outside the allowed range: "
                f"{self.name} must be {self.allowed()}"
            )
        return dist


def _f(
    name: str,
    type_: ValueType,
    help_: str,
    low: float = -math.inf,
    high: float = math.inf,
    options: tuple[str, ...] = (),
) -> FieldSpec:
    return FieldSpec(name, type_, help_, low, high, options)


B, INT, F, OPT, M = (
    ValueType.BOOL,
    ValueType.INT,
    ValueType.FLOAT,
    ValueType.OPTION,
    ValueType.MODEL,
)

FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _f("ams_gradient", B, "use AMSGrad with adam/adamw"),
        _f("beta1", F, "adam/adamw first-moment decay", 0, 1),
        _f("beta2", F, "adam/adamw second-moment decay", 0, 1),
        _f("distributed", B, "train data-parallel when a trial is given several devices"),
        _f("early_stopping", B, "stop a trial's training when the primary metric stalls"),
        _f("early_stopping_delay", INT, "evaluations to wait before early stopping counts", 0),
        _f("early_stopping_patience", INT, "evaluations without improvement before stopping", 1),
        _f("enable_onnx_normalization", B, "fold input normalization into the exported ONNX model"),
        _f("evaluation_frequency", INT, "evaluate every N epochs (and at the last one)", 1),
        _f("gradient_accumulation_step", INT, "batches whose gradients add up before a step", 1),
        _f("layers_to_freeze", INT, "freeze the first N stages of the model", 0),
        _f("learning_rate", F, "initial learning rate", 0, 1),
        _f(
            "learning_rate_scheduler",
            OPT,
            "learning-rate schedule",
            options=("warmup_cosine", "step"),
        ),
        _f("model_name", M, "model architecture (Azure name or any timm model)"),
        _f("momentum", F, "sgd momentum", 0, 1),
        _f("nesterov", B, "sgd Nesterov momentum"),
        _f("number_of_epochs", INT, "training epochs", 1),
        _f("number_of_workers", INT, "data-loader workers (capped by the machine)", 0),
        _f("optimizer", OPT, "optimizer", options=("sgd", "adam", "adamw")),
        _f("random_seed", INT, "seed of every random generator of the trial", 0),
        _f("step_lr_gamma", F, "step schedule: factor applied every step size", 0, 1),
        _f("step_lr_step_size", INT, "step schedule: epochs between decays", 1),
        _f("training_batch_size", INT, "training batch size", 1),
        _f("validation_batch_size", INT, "validation batch size", 1),
        _f("warmup_cosine_lr_cycles", F, "cosine cycles after warm-up", 0, 1),
        _f("warmup_cosine_lr_warmup_epochs", INT, "warm-up epochs", 0),
        _f("weight_decay", F, "weight decay (not on norm weights and biases)", 0, 1),
        _f("training_crop_size", INT, "training random-resized-crop size (pixels)", 1),
        _f("validation_crop_size", INT, "validation centre-crop size (pixels)", 1),
        _f("validation_resize_size", INT, "validation resize size before cropping (pixels)", 1),
        _f("weighted_loss", INT, "0 none, 1 sqrt of class weights, 2 class weights", 0, 2),
    )
}

# child field -> (parent field, parent values under which the child is active)
CONDITIONS: dict[str, tuple[str, frozenset[str]]] = {
    "momentum": ("optimizer", frozenset({"sgd"})),
    "nesterov": ("optimizer", frozenset({"sgd"})),
    "beta1": ("optimizer", frozenset({"adam", "adamw"})),
    "beta2": ("optimizer", frozenset({"adam", "adamw"})),
    "ams_gradient": ("optimizer", frozenset({"adam", "adamw"})),
    "step_lr_gamma": ("learning_rate_scheduler", frozenset({"step"})),
    "step_lr_step_size": ("learning_rate_scheduler", frozenset({"step"})),
    "warmup_cosine_lr_cycles": ("learning_rate_scheduler", frozenset({"warmup_cosine"})),
    "warmup_cosine_lr_warmup_epochs": ("learning_rate_scheduler", frozenset({"warmup_cosine"})),
}
