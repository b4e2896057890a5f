"""Honest multilabel thresholds: the reported *_tuned metrics come from cross-fitting."""

from __future__ import annotations

import torch

from automl_vision.data.task import Task
from automl_vision.training.metrics import (
    classification_metrics,
    cross_fitted_thresholds,
    tune_thresholds,
)


def test_cross_fitting_uses_the_other_half() -> None:
    g = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(40, 3, generator=g), (torch.rand(40, 3, generator=g) > 0.5)
    per_image = cross_fitted_thresholds(logits, targets.float())
    assert torch.equal(per_image[0::2][0], tune_thresholds(logits[1::2], targets[1::2].float()))
    assert torch.equal(per_image[1::2][0], tune_thresholds(logits[0::2], targets[0::2].float()))


def test_tuning_on_noise_does_not_inflate_the_reported_score() -> None:
    """Logits independent of the labels: thresholds tuned in-sample look far better than
    chance; the cross-fitted score is not inflated that way."""
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(400, 8, generator=g)
    targets = (torch.rand(400, 8, generator=g) > 0.7).float()
    inflated = classification_metrics(
        logits, targets, Task.MULTILABEL, class_thresholds=tune_thresholds(logits, targets)
    )
    honest = classification_metrics(
        logits, targets, Task.MULTILABEL, class_thresholds=cross_fitted_thresholds(logits, targets)
    )
    assert honest["f1_macro_tuned"] < inflated["f1_macro_tuned"] - 0.01
    assert {"f1_macro", "iou", "f1_micro"} <= set(honest)  # the 0.5-threshold metrics beside
