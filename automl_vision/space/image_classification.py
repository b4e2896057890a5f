"""``ImageClassificationSearchSpace``: Azure's 31 image-classification fields, typed and checked,
and this project's extension fields (``fields.EXTENSION_FIELDS``: the multilabel loss).

Each field takes a fixed value, a distribution object, a distribution string
(``"uniform(0.001, 0.01)"``) or Azure's mapping form (``{type: choice, values: [...]}``).
Fixed values are range-checked, and so are distributions: every value a distribution can
produce must be allowed (``learning_rate=uniform(0.5, 2)`` is rejected). A field left unset
(``None``) takes Azure's default at training time (``defaults.azure_defaults``).

``loss_function="asl"`` is for multilabel data only; the space does not know the task, so a
sweep refuses it for multiclass data when it is planned (``planning/preflight.py``).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.space.base import Condition, ParameterSpace, _coerce
from automl_vision.space.distributions import Distribution, Kind, choice
from automl_vision.space.errors import InactiveParameterWarning, short_repr
from automl_vision.space.fields import CONDITIONS, FIELDS

__all__ = ["ImageClassificationMultilabelSearchSpace", "ImageClassificationSearchSpace"]

Dist = Distribution


def _field(name: str) -> Any:
    spec = FIELDS[name]
    return Field(None, description=f"{spec.help}; {spec.allowed()}")


class ImageClassificationSearchSpace(BaseModel):
    """One search space over Azure's image-classification hyperparameters (and this project's
    multilabel loss: ``loss_function=choice("bce", "asl")``).

    >>> from automl_vision import choice, uniform
    >>> space = ImageClassificationSearchSpace(
    ...     model_name=choice("resnet50", "vitb16r224"), learning_rate=uniform(0.001, 0.01))
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, validate_default=False)

    ams_gradient: bool | Dist | None = _field("ams_gradient")
    beta1: float | Dist | None = _field("beta1")
    beta2: float | Dist | None = _field("beta2")
    distributed: bool | Dist | None = _field("distributed")
    early_stopping: bool | Dist | None = _field("early_stopping")
    early_stopping_delay: int | Dist | None = _field("early_stopping_delay")
    early_stopping_patience: int | Dist | None = _field("early_stopping_patience")
    enable_onnx_normalization: bool | Dist | None = _field("enable_onnx_normalization")
    evaluation_frequency: int | Dist | None = _field("evaluation_frequency")
    gradient_accumulation_step: int | Dist | None = _field("gradient_accumulation_step")
    layers_to_freeze: int | Dist | None = _field("layers_to_freeze")
    learning_rate: float | Dist | None = _field("learning_rate")
    learning_rate_scheduler: str | Dist | None = _field("learning_rate_scheduler")
    model_name: str | Dist | None = _field("model_name")
    momentum: float | Dist | None = _field("momentum")
    nesterov: bool | Dist | None = _field("nesterov")
    number_of_epochs: int | Dist | None = _field("number_of_epochs")
    number_of_workers: int | Dist | None = _field("number_of_workers")
    optimizer: str | Dist | None = _field("optimizer")
    random_seed: int | Dist | None = _field("random_seed")
    step_lr_gamma: float | Dist | None = _field("step_lr_gamma")
    step_lr_step_size: int | Dist | None = _field("step_lr_step_size")
    training_batch_size: int | Dist | None = _field("training_batch_size")
    validation_batch_size: int | Dist | None = _field("validation_batch_size")
    warmup_cosine_lr_cycles: float | Dist | None = _field("warmup_cosine_lr_cycles")
    warmup_cosine_lr_warmup_epochs: int | Dist | None = _field("warmup_cosine_lr_warmup_epochs")
    weight_decay: float | Dist | None = _field("weight_decay")
    training_crop_size: int | Dist | None = _field("training_crop_size")
    validation_crop_size: int | Dist | None = _field("validation_crop_size")
    validation_resize_size: int | Dist | None = _field("validation_resize_size")
    weighted_loss: int | Dist | None = _field("weighted_loss")
    # this project's extension fields (not Azure's)
    loss_function: str | Dist | None = _field("loss_function")
    asl_gamma_neg: float | Dist | None = _field("asl_gamma_neg")
    asl_gamma_pos: float | Dist | None = _field("asl_gamma_pos")
    asl_clip: float | Dist | None = _field("asl_clip")

    # -- validation --------------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise ValueError(
                f"a search space is a mapping of field names to values or distributions, "
                f"got {type(data).__name__}"
            )
        for key in data:
            if key not in FIELDS:
                close = difflib.get_close_matches(str(key), FIELDS, n=1, cutoff=0.6)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"the fields are {', '.join(FIELDS)}"
                )
                raise ValueError(
                    f"unknown field {short_repr(key)} in an image-classification search "
                    f"space; {hint}"
                )
        return data

    @field_validator("*", mode="plain")
    @classmethod
    def _check_field(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        spec = FIELDS[info.field_name]
        value = _coerce(spec.name, value)
        if isinstance(value, Distribution):
            return spec.check_distribution(value)
        if isinstance(value, (list, tuple)):
            raise ValueError(
                f"{spec.name}={short_repr(value)}: a list is not a value; to search over "
                f"options write choice({_options_text(value)})"
            )
        return spec.check_value(value)

    @model_validator(mode="after")
    def _cross_checks(self) -> ImageClassificationSearchSpace:
        crop, resize = self.validation_crop_size, self.validation_resize_size
        if crop is not None and resize is not None and _upper(crop) > _lower(resize):
            raise ValueError(
                f"validation_crop_size ({crop}) can exceed validation_resize_size ({resize}); "
                "the centre crop must fit inside the resized image"
            )
        for child, (parent, values) in CONDITIONS.items():
            if getattr(self, child) is None:
                continue
            parent_value = getattr(self, parent)
            possible = _possible_values(parent_value, azure_defaults()[parent])
            if not possible & values:
                shown = (
                    f"{azure_defaults()[parent]!r} (the default)"
                    if parent_value is None
                    else str(parent_value)
                )
                warnings.warn(
                    f"{child} is set but never used: it applies only when {parent} is "
                    f"{' or '.join(sorted(values))}, and {parent} is {shown}",
                    InactiveParameterWarning,
                    stacklevel=2,
                )
        return self

    # -- conversions -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageClassificationSearchSpace:
        """Build from a mapping in Azure's YAML shape (values, strings or ``{type: ...}``)."""
        return cls.model_validate(data)

    def set_fields(self) -> dict[str, Any]:
        """The fields this space sets (fixed values and distributions), in field order."""
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        """Azure YAML shape: set fields only, distributions in their text form."""
        return {
            k: str(v) if isinstance(v, Distribution) else v for k, v in self.set_fields().items()
        }

    def to_parameter_space(self, label: str = "") -> ParameterSpace:
        """The sampler-facing form: set fields with their activity conditions."""
        defaults = azure_defaults()
        conditions = {
            child: Condition(parent, values, defaults[parent])
            for child, (parent, values) in CONDITIONS.items()
        }
        return ParameterSpace(self.set_fields(), conditions, label=label)

    # -- conditional activity ----------------------------------------------------------------
    @staticmethod
    def is_active(field: str, config: Mapping[str, Any]) -> bool:
        """Whether ``field`` matters for the concrete ``config`` (unset parents take defaults)."""
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}")
        if field not in CONDITIONS:
            return True
        parent, values = CONDITIONS[field]
        return config.get(parent, azure_defaults()[parent]) in values

    def inactive_fields(self, config: Mapping[str, Any]) -> frozenset[str]:
        """The fields this space sets that the concrete ``config`` leaves inactive."""
        return frozenset(f for f in self.set_fields() if not self.is_active(f, config))

    def active_fields(self, config: Mapping[str, Any]) -> frozenset[str]:
        """The fields this space sets that matter for the concrete ``config``."""
        return frozenset(f for f in self.set_fields() if self.is_active(f, config))

    def __str__(self) -> str:
        return (
            "ImageClassificationSearchSpace("
            + ", ".join(
                f"{k}={v if isinstance(v, Distribution) else repr(v)}"
                for k, v in self.set_fields().items()
            )
            + ")"
        )

    __repr__ = __str__


#: The multilabel task uses the same fields; the task, not the space, picks the primary metric.
ImageClassificationMultilabelSearchSpace = ImageClassificationSearchSpace


def _options_text(values: Any) -> str:
    """The first few of ``values`` as choice(...)'s arguments (an error line stays short)."""
    values = list(values)
    shown = ", ".join(short_repr(v, 30) for v in values[:5])
    return shown + (", ..." if len(values) > 5 else "")


def _possible_values(value: Any, default: Any) -> set[Any]:
    if value is None:
        return {default}
    if isinstance(value, choice):
        return set(value.options)
    return {value}


def _upper(value: Any) -> float:
    if isinstance(value, Distribution):
        s = value.support
        return max(s.options) if s.kind is Kind.CATEGORICAL else s.high
    return value


def _lower(value: Any) -> float:
    if isinstance(value, Distribution):
        s = value.support
        return min(s.options) if s.kind is Kind.CATEGORICAL else s.low
    return value
