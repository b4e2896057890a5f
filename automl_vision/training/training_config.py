"""``TrainingConfig``: one concrete value for each search-space field, plus options.

The fields are Azure's 31 and this project's extension fields (``space.fields.EXTENSION_FIELDS``:
``loss_function`` and the asymmetric loss's ``asl_gamma_neg``, ``asl_gamma_pos``, ``asl_clip``).

A field left out takes Azure's default (``automl_vision.space.azure_defaults.azure_defaults``),
which depends on the model (ViT batch sizes and learning rates) and on the task (multiclass or
multilabel learning rate). When the task is not known yet (``task=None``, inferred from the data
by ``train``), ``for_task`` re-resolves the defaults of the fields that were not given. Every
value is checked against the field's range (``automl_vision.space.fields.FIELDS``).
``loss_function="asl"`` is refused for a multiclass task (when the task is given, or when
``for_task`` learns it from the data).

>>> config = TrainingConfig(model_name="resnet18", learning_rate=0.05, optimizer="adamw")
>>> config.number_of_epochs, config.beta1
(15, 0.9)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from automl_vision.data.placement import ImagePlacement
from automl_vision.data.task import Task
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.space.fields import FIELDS, LossFunction
from automl_vision.space.model_names import timm_model_name
from automl_vision.training.metrics import metric_spec
from automl_vision.training.optim import OptimizerKind
from automl_vision.training.schedule import SchedulerKind
from automl_vision.weights import PretrainedMode, parse_pretrained

__all__ = ["OPTIONS", "TrainingConfig"]

OPTIONS = (
    "task",
    "pretrained",
    "gradient_clipping",
    "primary_metric",
    "multilabel_threshold",
    "crop_scale",
    "crop_ratio",
    "color_jitter",
    "horizontal_flip",
    "amp",
    "channels_last",
    "compile",
    "augment_ahead",
    "image_placement",
)


class TrainingConfig(BaseModel):
    """A concrete training configuration (search-space fields + non-space options).

    Options beyond the search space:

    - ``task``: ``"multiclass"``/``"multilabel"`` to force the task; None infers it from the data.
    - ``pretrained``: ``"auto"`` (the default: ImageNet weights when they are on this machine,
      else random init; a sweep downloads the missing ones before its trials when the hub
      answers), True (the weights are required), False (random init), a checkpoint
      file, or a folder of weights named after the models (see ``automl_vision/weights.py``; the
      classifier is replaced when the class count differs).
    - ``gradient_clipping``: clip the gradients' global L2 norm to this value (None: off).
    - ``primary_metric``: the metric that picks the best epoch and drives early stopping (default:
      ``accuracy`` multiclass, ``iou`` multilabel; see ``metrics.METRICS``).
    - ``multilabel_threshold``: the fixed probability threshold of multilabel metrics (0.5).
    - ``crop_scale``, ``crop_ratio``: random-resized-crop area fraction and aspect ranges.
    - ``color_jitter``: brightness/contrast/saturation jitter strength (0: off).
    - ``horizontal_flip``: flip probability.
    - ``amp``: bf16 autocast on CUDA (ignored on CPU).
    - ``channels_last``: channels-last memory format for the model and its inputs, on CPU and
      CUDA alike (faster for convolutional models on both).
    - ``compile``: ``torch.compile`` the model for training (off by default); the first
      step's time (compilation) is reported apart, as ``TrainResult.timings["compile"]``.
    - ``augment_ahead``: on CPU, augment the next batch in a background thread while the
      model trains on this one, when torch's intra-op threads leave a CPU free (the results
      are the same bit for bit; on CUDA augmentation is asynchronous anyway).
    - ``image_placement``: where the decoded training images live during a run (see
      ``ImagePlacement``): ``auto`` (on the GPU when they fit in a quarter of its free
      memory, else in pinned host memory; on CPU the memory-mapped cache), ``loader``,
      ``pinned`` or ``device``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    # -- Azure's 31 search-space fields ------------------------------------------------------
    ams_gradient: bool
    beta1: float
    beta2: float
    distributed: bool
    early_stopping: bool
    early_stopping_delay: int
    early_stopping_patience: int
    enable_onnx_normalization: bool
    evaluation_frequency: int
    gradient_accumulation_step: int
    layers_to_freeze: int
    learning_rate: float
    learning_rate_scheduler: SchedulerKind
    model_name: str
    momentum: float
    nesterov: bool
    number_of_epochs: int
    number_of_workers: int
    optimizer: OptimizerKind
    random_seed: int | None
    step_lr_gamma: float
    step_lr_step_size: int
    training_batch_size: int
    validation_batch_size: int
    warmup_cosine_lr_cycles: float
    warmup_cosine_lr_warmup_epochs: int
    weight_decay: float
    training_crop_size: int
    validation_crop_size: int
    validation_resize_size: int
    weighted_loss: int
    # -- this project's extension fields (multilabel loss; see losses.py) --------------------
    loss_function: LossFunction
    asl_gamma_neg: float
    asl_gamma_pos: float
    asl_clip: float

    # -- options -----------------------------------------------------------------------------
    task: Task | None = None
    pretrained: PretrainedMode | Path = PretrainedMode.AUTO
    gradient_clipping: float | None = None
    primary_metric: str | None = None
    multilabel_threshold: float = 0.5
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    color_jitter: float = 0.4
    horizontal_flip: float = 0.5
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    augment_ahead: bool = True
    image_placement: ImagePlacement = ImagePlacement.AUTO

    _explicit: frozenset[str] = PrivateAttr(default=frozenset())

    # -- construction ------------------------------------------------------------------------
    @model_validator(mode="wrap")
    @classmethod
    def _fill_defaults(cls, data: Any, handler: Any) -> TrainingConfig:
        if isinstance(data, TrainingConfig):
            return data
        if not isinstance(data, Mapping):
            raise ValueError(f"a training config is a mapping, got {type(data).__name__}")
        for key in data:
            if key not in FIELDS and key not in OPTIONS:
                close = difflib.get_close_matches(str(key), [*FIELDS, *OPTIONS], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown training option {key!r}{hint}")
        given = {k: v for k, v in data.items() if not (k in FIELDS and v is None)}
        task = Task.parse(given["task"]) if given.get("task") is not None else None
        model = given.get("model_name") or azure_defaults()["model_name"]
        defaults = azure_defaults(model, multilabel=task is Task.MULTILABEL)
        config = handler({**defaults, **given})
        config._explicit = frozenset(k for k in given if k in FIELDS)
        return config

    @field_validator(*FIELDS, mode="before")
    @classmethod
    def _check_field(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name == "random_seed":
            return None
        if isinstance(value, np.generic):  # samplers hand out numpy scalars
            value = value.item()
        return FIELDS[info.field_name].check_value(value)

    @field_validator("task", mode="before")
    @classmethod
    def _check_task(cls, value: Any) -> Task | None:
        return None if value is None else Task.parse(value)

    @field_validator("image_placement", mode="before")
    @classmethod
    def _check_placement(cls, value: Any) -> ImagePlacement:
        return ImagePlacement.parse(value)

    @field_validator("pretrained", mode="before")
    @classmethod
    def _check_pretrained(cls, value: Any) -> PretrainedMode | Path:
        return parse_pretrained(value)

    @model_validator(mode="after")
    def _cross_checks(self) -> TrainingConfig:
        if self.validation_crop_size > self.validation_resize_size:
            raise ValueError(
                f"validation_crop_size ({self.validation_crop_size}) must not exceed "
                f"validation_resize_size ({self.validation_resize_size})"
            )
        if self.optimizer in ("adam", "adamw"):
            for name in ("beta1", "beta2"):
                if getattr(self, name) >= 1.0:
                    raise ValueError(
                        f"{name}={getattr(self, name)} must be < 1 for optimizer {self.optimizer}"
                    )
        if self.gradient_clipping is not None and not self.gradient_clipping > 0:
            raise ValueError(f"gradient_clipping={self.gradient_clipping} must be > 0 or None")
        if not 0.0 < self.multilabel_threshold < 1.0:
            raise ValueError(f"multilabel_threshold={self.multilabel_threshold} must be in (0, 1)")
        if self.primary_metric is not None:
            metric_spec(self.primary_metric, self.task)
        _check_loss_for_task(self.loss_function, self.task)
        return self

    # -- derived -----------------------------------------------------------------------------
    @classmethod
    def from_params(cls, params: Mapping[str, Any], **options: Any) -> TrainingConfig:
        """A config from a sampled parameter dict (search-space fields) and options."""
        return cls(**{**params, **options})

    @property
    def explicit_fields(self) -> frozenset[str]:
        """The search-space fields that were given (the others hold Azure's defaults)."""
        return self._explicit

    @property
    def timm_name(self) -> str:
        """The timm architecture of ``model_name``."""
        return timm_model_name(self.model_name)

    def for_task(self, task: Task | str) -> TrainingConfig:
        """This config for ``task``: fields that were not given take that task's defaults."""
        task = Task.parse(task)
        if self.task is task:
            return self
        _check_loss_for_task(self.loss_function, task)
        if self.task is not None:
            raise ValueError(f"the config is for task {self.task.value}, the data is {task.value}")
        given = {k: getattr(self, k) for k in self._explicit}
        options = {k: getattr(self, k) for k in OPTIONS if k != "task"}
        return TrainingConfig(**given, **options, task=task)

    def _identity(self) -> tuple:
        values = tuple(self.__dict__.items())
        # without a task, which fields were given decides the task's defaults later
        return values if self.task is not None else (values, self._explicit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrainingConfig):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def space_values(self) -> dict[str, Any]:
        """Every search-space field (Azure's 31 and the extension fields) and its value."""
        return {name: getattr(self, name) for name in FIELDS}


def _check_loss_for_task(loss: LossFunction, task: Task | None) -> None:
    """ASL is a multilabel loss: one error naming ``loss_function`` for a multiclass task."""
    if task is Task.MULTICLASS and loss is LossFunction.ASL:
        raise ValueError(
            "loss_function='asl' is for multilabel data only, and the task is multiclass "
            "(which trains with cross-entropy); leave loss_function unset or 'bce'"
        )
