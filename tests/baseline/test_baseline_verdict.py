"""Whether a best trial beats the trivial baseline, and the causes its warning names."""

from __future__ import annotations

import pytest

from automl_vision.baseline import Baseline, Cause, SweepFacts, beats_baseline, check_baseline
from automl_vision.trial import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize(
    ("metric", "goal", "baseline", "value", "beats"),
    [
        ("accuracy", MAX, 0.31, 0.31, False),  # the issue: one class for every image
        ("accuracy", MAX, 0.31, 0.32, False),  # within the 0.02 margin
        ("accuracy", MAX, 0.31, 0.33, True),
        ("accuracy", MAX, 0.31, 0.91, True),
        ("iou", MAX, 0.656, 0.617, False),  # the multilabel model
        ("iou", MAX, 0.656, 0.70, True),
        ("log_loss", MIN, 1.0, 0.99, False),  # a loss: 2 % of the baseline
        ("log_loss", MIN, 1.0, 0.97, True),
        ("log_loss", MIN, 1.0, 1.2, False),
    ],
)
def test_a_value_beats_the_baseline_only_by_the_margin(metric, goal, baseline, value, beats):
    assert beats_baseline(value, Baseline(metric, baseline, "x", goal)) is beats


SETTINGS = {
    "baseline": Baseline("accuracy", 0.31, "majority class 'cat'", MAX).to_dict(),
    "pretrained_weights": {"resnet18": False, "vit": True},
    "min_train_images_per_class": 100,
}
GOOD = {"model_name": "vit", "training_crop_size": 224, "number_of_epochs": 10}


@pytest.mark.parametrize(
    ("params", "settings", "causes"),
    [
        (GOOD, {}, set()),
        ({**GOOD, "model_name": "resnet18"}, {}, {Cause.NO_WEIGHTS}),
        (GOOD, {"min_train_images_per_class": 12}, {Cause.FEW_IMAGES}),
        ({**GOOD, "training_crop_size": 32}, {}, {Cause.SMALL_CROP}),
        ({**GOOD, "number_of_epochs": 1}, {}, {Cause.FEW_EPOCHS}),
        (
            {"model_name": "resnet18", "training_crop_size": 16, "number_of_epochs": 2},
            {"min_train_images_per_class": 4},
            set(Cause),
        ),
        # a model the sweep did not record, garbage counts: nothing claimed
        ({**GOOD, "model_name": "other"}, {"min_train_images_per_class": "many"}, set()),
        ({**GOOD, "training_crop_size": float("inf")}, {}, set()),
    ],
)
def test_the_causes_come_from_the_sweeps_own_settings(params, settings, causes) -> None:
    facts = SweepFacts.read({**SETTINGS, **settings}, params)
    assert set(facts.causes()) == causes


def test_the_warning_names_the_baseline_the_causes_and_what_to_do() -> None:
    params = {**GOOD, "model_name": "resnet18", "training_crop_size": 16}
    verdict = check_baseline(0.31, params, SETTINGS)
    assert verdict is not None and not verdict.beats
    assert verdict.line() == "best accuracy 0.3100 — trivial baseline (majority class 'cat') 0.3100"
    warning = verdict.warning()
    assert warning is not None
    assert "no better than a constant guess" in warning
    assert "resnet18 started from random weights" in warning
    assert "automl-vision weights fetch resnet18" in warning
    assert "16 px training crop" in warning
    assert "training images" not in warning and "epoch" not in warning
    assert verdict.to_dict()["causes"] == ["no_weights", "small_crop"]


def test_no_warning_when_the_best_trial_beats_it_and_advice_when_no_cause_applies() -> None:
    assert check_baseline(0.91, GOOD, SETTINGS).warning() is None  # type: ignore[union-attr]
    warning = check_baseline(0.30, GOOD, SETTINGS).warning()  # type: ignore[union-attr]
    assert warning is not None and "check that the labels match the images" in warning


def test_no_verdict_without_a_recorded_baseline_or_a_value() -> None:
    assert check_baseline(0.5, GOOD, {}) is None
    assert check_baseline(None, GOOD, SETTINGS) is None
    with pytest.raises(ValueError):
        check_baseline(0.5, GOOD, {"baseline": {"metric": "accuracy"}})
