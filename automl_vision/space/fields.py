"""The fields of the image-classification search space: types, ranges, conditions.

One table (``FIELDS``) drives validation of fixed values and of distributions' supports, the
conditional-activity rules and the documentation; ``model_names.py`` holds the model names and
``azure_defaults.py`` the default values.

``FIELDS`` holds Azure's 31 fields (``AZURE_FIELDS``) and this project's extension fields
(``EXTENSION_FIELDS``, ``FieldSpec.extension``): the multilabel training loss
(``loss_function``: ``"bce"`` or ``"asl"``, the asymmetric loss, with ``asl_gamma_neg``,
``asl_gamma_pos`` and ``asl_clip``, active only when ``loss_function`` is ``"asl"``). An
extension field is searched, fixed, flagged and checked like any other; Azure's job YAML has no
such key, so a job that sets one runs here only.

Every count and size has an upper bound as well as a lower one (``MAX_EPOCHS``, ``MAX_BATCH``,
``MAX_PIXELS``, ...): far above any real training run, low enough that a typo such as
``number_of_epochs: 1e20`` is refused when the space is read instead of becoming an
astronomical epoch budget (Hyperband's rungs) or a batch that no machine can hold.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from automl_vision.enums import ChoiceEnum
from automl_vision.space.distributions import Distribution, Kind, Support, _fmt, choice
from automl_vision.space.errors import short_repr
from automl_vision.space.model_names import canonical_model_name, model_name_problem

__all__ = [
    "AZURE_FIELDS",
    "CONDITIONS",
    "EXTENSION_FIELDS",
    "FIELDS",
    "MAX_BATCH",
    "MAX_COUNT",
    "MAX_EPOCHS",
    "MAX_PIXELS",
    "MAX_SEED",
    "FieldSpec",
    "LossFunction",
    "ValueType",
]

#: the most epochs (and epoch counts: warm-up, step size, early-stopping patience and delay,
#: evaluation frequency) a trial may be given
MAX_EPOCHS = 10_000
#: the largest training or validation batch, and gradient-accumulation step count
MAX_BATCH = 65_536
#: the largest crop or resize size, in pixels (one side)
MAX_PIXELS = 4_096
#: the largest ``random_seed`` (numpy's and torch's seeds both take 32-bit values)
MAX_SEED = 2**32 - 1
#: the most data-loader workers and frozen stages
MAX_COUNT = 1_024


class LossFunction(ChoiceEnum):
    """The multilabel training loss (``loss_function``; multiclass always uses cross-entropy).

    ``bce``: binary cross-entropy with logits. ``asl``: the asymmetric loss of Ridnik et al.
    (ICCV 2021), see ``automl_vision.training.losses``.
    """

    BCE = "bce"
    ASL = "asl"


class ValueType(enum.Enum):
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    OPTION = "option"  # one of a fixed set of strings
    MODEL = "model"  # an Azure or timm model name


@dataclass(frozen=True)
class FieldSpec:
    """What values one field accepts.

    ``high_open``: ``high`` itself is not allowed (``[low, high)``). ``extension``: a field of
    this project, not one of Azure's 31.
    """

    name: str
    type: ValueType
    help: str
    low: float = -math.inf
    high: float = math.inf
    options: tuple[str, ...] = ()
    high_open: bool = False
    extension: bool = False

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
        close = ")" if self.high_open else "]"
        return f"{what} in [{_fmt(self.low)}, {_fmt(self.high)}{close}"

    def check_value(self, value: Any) -> Any:
        """Validate and normalize a fixed value; raise ``ValueError`` naming the field."""
        reason, normalized = self._check(value)
        if reason:
            raise ValueError(
                f"{self.name}={short_repr(value)} {reason}; {self.name} must be {self.allowed()}"
            )
        return normalized

    def _check(self, value: Any, *, suggest: bool = True) -> tuple[str, Any]:
        """(reason it is not allowed or '', normalized value); ``suggest``: a reason may name
        close matches (model names; costly)."""
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
            problem = model_name_problem(value, suggest=suggest)
            return problem, (None if problem else canonical_model_name(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number", None
        if not math.isfinite(value):
            return "is not a finite number", None
        if t is ValueType.INT:
            if not isinstance(value, int):  # a float: whole (1e20 is, and is out of range)
                if not float(value).is_integer():
                    return "is not an integer", None
                value = int(value)
        else:
            value = float(value)
        if not self.low <= value <= self.high or (self.high_open and value == self.high):
            return "is out of range", None
        return "", value

    # -- distributions ----------------------------------------------------------------------
    def check_distribution(self, dist: Distribution) -> Distribution:
        """Check that every value ``dist`` can produce is allowed; normalize choice options."""
        shown = short_repr(dist, 120)
        if isinstance(dist, choice):
            checked, bad = [], []
            for option in dist.options:  # close matches for the first few bad ones only
                reason, value = self._check(option, suggest=len(bad) < 3)
                checked.append((option, reason, value))
                if reason:
                    bad.append(f"{short_repr(option)} {reason}")
            if bad:
                more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
                raise ValueError(
                    f"{self.name}={shown} has options that are not allowed: "
                    f"{'; '.join(bad[:3])}{more}. {self.name} must be {self.allowed()}"
                )
            values = [value for _, _, value in checked]
            if len({(type(v), v) for v in values}) != len(values):
                raise ValueError(f"{self.name}={shown}: two options mean the same value")
            return choice(*values)
        if self.type in (ValueType.BOOL, ValueType.OPTION, ValueType.MODEL):
            raise ValueError(
                f"{self.name}={shown}: {self.name} takes {self.allowed()}, so only a fixed value "
                f"or choice(...) can be searched"
            )
        support: Support = dist.support
        if self.type is ValueType.INT and support.kind is Kind.REAL:
            raise ValueError(
                f"{self.name}={shown} produces non-integer values; {self.name} must be "
                f"{self.allowed()}: use choice(...), randint(...) or a q-distribution with an "
                "integer q, e.g. quniform(16, 64, 16)"
            )
        too_high = support.high >= self.high if self.high_open else support.high > self.high
        if support.low < self.low or too_high:
            what = "is unbounded" if not support.bounded else f"can produce {support.describe()}"
            raise ValueError(
                f"{self.name}={shown} {what}, outside the allowed range: "
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
    *,
    high_open: bool = False,
    extension: bool = False,
) -> FieldSpec:
    return FieldSpec(name, type_, help_, low, high, options, high_open, extension)


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
        _f(
            "early_stopping_delay",
            INT,
            "evaluations to wait before early stopping counts",
            0,
            MAX_EPOCHS,
        ),
        _f(
            "early_stopping_patience",
            INT,
            "evaluations without improvement before stopping",
            1,
            MAX_EPOCHS,
        ),
        _f("enable_onnx_normalization", B, "fold input normalization into the exported ONNX model"),
        _f(
            "evaluation_frequency",
            INT,
            "evaluate every N epochs (and at the last one)",
            1,
            MAX_EPOCHS,
        ),
        _f(
            "gradient_accumulation_step",
            INT,
            "batches whose gradients add up before a step",
            1,
            MAX_BATCH,
        ),
        _f("layers_to_freeze", INT, "freeze the first N stages of the model", 0, MAX_COUNT),
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
        _f("number_of_epochs", INT, "training epochs", 1, MAX_EPOCHS),
        _f("number_of_workers", INT, "data-loader workers (capped by the machine)", 0, MAX_COUNT),
        _f("optimizer", OPT, "optimizer", options=("sgd", "adam", "adamw")),
        _f("random_seed", INT, "seed of every random generator of the trial", 0, MAX_SEED),
        _f("step_lr_gamma", F, "step schedule: factor applied every step size", 0, 1),
        _f("step_lr_step_size", INT, "step schedule: epochs between decays", 1, MAX_EPOCHS),
        _f("training_batch_size", INT, "training batch size", 1, MAX_BATCH),
        _f("validation_batch_size", INT, "validation batch size", 1, MAX_BATCH),
        _f("warmup_cosine_lr_cycles", F, "cosine cycles after warm-up", 0, 1),
        _f("warmup_cosine_lr_warmup_epochs", INT, "warm-up epochs", 0, MAX_EPOCHS),
        _f("weight_decay", F, "weight decay (not on norm weights and biases)", 0, 1),
        _f(
            "training_crop_size",
            INT,
            "training random-resized-crop size (pixels)",
            1,
            MAX_PIXELS,
        ),
        _f("validation_crop_size", INT, "validation centre-crop size (pixels)", 1, MAX_PIXELS),
        _f(
            "validation_resize_size",
            INT,
            "validation resize size before cropping (pixels)",
            1,
            MAX_PIXELS,
        ),
        _f("weighted_loss", INT, "0 none, 1 sqrt of class weights, 2 class weights", 0, 2),
        # -- this project's extension fields (not Azure's) --
        _f(
            "loss_function",
            OPT,
            "multilabel loss: bce, or asl (asymmetric loss; multilabel only)",
            options=tuple(m.value for m in LossFunction),
            extension=True,
        ),
        _f("asl_gamma_neg", F, "asl: focusing exponent of negative labels", 0, extension=True),
        _f("asl_gamma_pos", F, "asl: focusing exponent of positive labels", 0, extension=True),
        _f(
            "asl_clip",
            F,
            "asl: probability margin subtracted from negatives (easy ones below it count 0)",
            0,
            1,
            high_open=True,
            extension=True,
        ),
    )
}

#: Azure's 31 image-classification fields, in ``FIELDS`` order
AZURE_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if not s.extension)
#: this project's fields beyond Azure's (see the module docstring)
EXTENSION_FIELDS: tuple[str, ...] = tuple(n for n, s in FIELDS.items() if s.extension)

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
    "asl_gamma_neg": ("loss_function", frozenset({"asl"})),
    "asl_gamma_pos": ("loss_function", frozenset({"asl"})),
    "asl_clip": ("loss_function", frozenset({"asl"})),
}
