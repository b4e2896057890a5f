"""Does a trial beat the trivial baseline, and if not, why not.

A value beats the baseline when it is better by at least ``margin``: 0.02 on a score between 0
and 1 (two percentage points of accuracy), 2 % of the baseline for ``log_loss``. When the best
trial does not, the warning names what in the sweep's own settings likely held it back:

==================  ===================================================================
cause               when
==================  ===================================================================
``NO_WEIGHTS``      the best trial's model started from random weights
``FEW_IMAGES``      the smallest class has fewer than 30 training images
``SMALL_CROP``      the best trial's training crop is under 64 pixels
``FEW_EPOCHS``      the best trial was given fewer than 5 epochs
==================  ===================================================================

The facts come from the sweep's recorded settings (``pretrained_weights``: model -> whether it
started from pretrained weights; ``min_train_images_per_class``) and the best trial's
parameters (Azure's defaults for those it does not set).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automl_vision.baseline.trivial import Baseline
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "BaselineVerdict",
    "Cause",
    "SweepFacts",
    "beats_baseline",
    "check_baseline",
    "margin",
    "recorded_baseline",
]

MARGIN = 0.02
UNBOUNDED = frozenset({"log_loss"})
MIN_IMAGES_PER_CLASS = 30
MIN_CROP = 64
MIN_EPOCHS = 5


def margin(baseline: Baseline) -> float:
    """How much better than the baseline a value must be to beat it."""
    return MARGIN * abs(baseline.value) if baseline.metric in UNBOUNDED else MARGIN


def beats_baseline(value: float, baseline: Baseline) -> bool:
    """``value`` is better than ``baseline`` by at least ``margin(baseline)``."""
    if baseline.goal is PrimaryMetricGoal.MAXIMIZE:
        return value >= baseline.value + margin(baseline)
    return value <= baseline.value - margin(baseline)


class Cause(enum.Enum):
    """A likely reason a model did not beat the trivial baseline."""

    NO_WEIGHTS = "no_weights"
    FEW_IMAGES = "few_images"
    SMALL_CROP = "small_crop"
    FEW_EPOCHS = "few_epochs"


@dataclass(frozen=True)
class SweepFacts:
    """What the causes are decided on (None: not recorded)."""

    model: str
    pretrained: bool | None
    min_images_per_class: int | None
    crop_size: int | None
    epochs: int | None

    @classmethod
    def read(cls, settings: Mapping[str, Any], params: Mapping[str, Any]) -> SweepFacts:
        defaults = azure_defaults()
        model = str(params.get("model_name", defaults["model_name"]))
        weights = settings.get("pretrained_weights")
        pretrained = weights.get(model) if isinstance(weights, Mapping) else None
        return cls(
            model=model,
            pretrained=pretrained if isinstance(pretrained, bool) else None,
            min_images_per_class=_int(settings.get("min_train_images_per_class")),
            crop_size=_int(params.get("training_crop_size", defaults["training_crop_size"])),
            epochs=_int(params.get("number_of_epochs", defaults["number_of_epochs"])),
        )

    def causes(self) -> dict[Cause, str]:
        """Each cause that applies, with what to do about it."""
        out: dict[Cause, str] = {}
        if self.pretrained is False:
            out[Cause.NO_WEIGHTS] = (
                f"{self.model} started from random weights (no pretrained weights): fetch them "
                f"with `automl-vision weights fetch {self.model}` or pass pretrained=DIR"
            )
        if self.min_images_per_class is not None and (
            self.min_images_per_class < MIN_IMAGES_PER_CLASS
        ):
            out[Cause.FEW_IMAGES] = (
                f"the smallest class has {self.min_images_per_class} training images: add "
                f"images (at least {MIN_IMAGES_PER_CLASS} per class, many more without "
                "pretrained weights)"
            )
        if self.crop_size is not None and self.crop_size < MIN_CROP:
            out[Cause.SMALL_CROP] = (
                f"a {self.crop_size} px training crop: search training_crop_size of "
                f"{MIN_CROP} px or more (224 for ImageNet weights)"
            )
        if self.epochs is not None and self.epochs < MIN_EPOCHS:
            out[Cause.FEW_EPOCHS] = (
                f"{self.epochs} epoch(s) of training: give number_of_epochs {MIN_EPOCHS} or more"
            )
        return out


def _int(value: Any) -> int | None:
    """A recorded count or size (None: absent, or not a finite number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class BaselineVerdict:
    """The best trial's value beside the baseline, and the warning when it does not beat it."""

    baseline: Baseline
    value: float
    facts: SweepFacts

    @property
    def beats(self) -> bool:
        return beats_baseline(self.value, self.baseline)

    def line(self) -> str:
        """``best accuracy 0.9100 — trivial baseline (majority class 'cat') 0.3100``."""
        b = self.baseline
        return f"best {b.metric} {self.value:.4f} — trivial baseline ({b.rule}) {b.value:.4f}"

    def warning(self) -> str | None:
        """One paragraph when the best trial does not beat the baseline (None when it does)."""
        if self.beats:
            return None
        b = self.baseline
        causes = self.facts.causes()
        text = (
            f"warning: the best trial's {b.metric} {self.value:.4f} does not beat the trivial "
            f"baseline {b.value:.4f} ({b.rule}) by {margin(b):.2g}: the model is no better "
            "than a constant guess."
        )
        if causes:
            return text + " Likely causes:\n" + "\n".join(f"  - {c}" for c in causes.values())
        return text + (
            " None of the usual causes applies (pretrained weights, images per class, crop "
            "size, epochs): check that the labels match the images and that the classes differ "
            "in what the images show"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.baseline.to_dict(),
            "best_value": self.value,
            "beats_baseline": self.beats,
            "margin": margin(self.baseline),
            "causes": [c.value for c in self.facts.causes()] if not self.beats else [],
        }


def recorded_baseline(settings: Mapping[str, Any]) -> Baseline | None:
    """The baseline a sweep recorded in its settings (None: none, e.g. an older sweep).
    ValueError when it is malformed."""
    data = settings.get("baseline")
    return None if data is None else Baseline.from_dict(data)


def check_baseline(
    value: float | None, params: Mapping[str, Any], settings: Mapping[str, Any]
) -> BaselineVerdict | None:
    """The verdict on a best trial (``value``, ``params``) of a sweep with these ``settings``;
    None without a value or a recorded baseline. ValueError when the baseline is malformed."""
    baseline = recorded_baseline(settings)
    if baseline is None or value is None:
        return None
    return BaselineVerdict(baseline, float(value), SweepFacts.read(settings, params))
