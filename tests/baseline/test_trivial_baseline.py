"""The trivial baseline of every primary metric, multiclass and multilabel: hand-computed
tables, and the trainer's own metrics of the same constant prediction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from automl_vision.baseline import Baseline, trivial_baseline
from automl_vision.data.task import Task
from automl_vision.metric_catalog import METRICS
from automl_vision.training.metrics import classification_metrics
from automl_vision.trial import PrimaryMetricGoal

MC, ML = Task.MULTICLASS, Task.MULTILABEL
NAMES = ["a", "b", "c", "d", "e", "f", "g"]

# training: a is the majority (4), then b (3), c (2), d (1); validation: a a b c c d
TRAIN_MC = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3])
VAL_MC = np.array([0, 0, 1, 2, 2, 3])


@pytest.mark.parametrize(
    ("metric", "expected", "rule"),
    [
        ("accuracy", 2 / 6, "majority class 'a'"),
        ("precision_macro", (2 / 6) / 4, "majority class 'a'"),
        ("recall_macro", 1 / 4, "majority class 'a'"),
        ("f1_macro", (2 * (2 / 6) / (1 + 2 / 6)) / 4, "majority class 'a'"),
        ("log_loss", -np.mean(np.log(np.array([5, 5, 4, 3, 3, 2]) / 14)), "class frequencies"),
    ],
)
def test_multiclass_baseline_is_the_majority_class(metric, expected, rule) -> None:
    baseline = trivial_baseline(MC, metric, TRAIN_MC, VAL_MC, NAMES[:4])
    assert baseline is not None
    assert baseline.value == pytest.approx(expected)
    assert rule in baseline.rule
    assert baseline.goal is METRICS[metric].goal


def test_top5_is_the_five_most_frequent_training_classes() -> None:
    train = np.repeat(np.arange(7), [7, 6, 5, 4, 3, 2, 1])
    val = np.array([0, 4, 5, 6, 6])  # 5 and 6 are outside the top five
    baseline = trivial_baseline(MC, "accuracy_top5", train, val, NAMES)
    assert baseline is not None and baseline.value == pytest.approx(2 / 5)


def test_train_loss_has_no_baseline() -> None:
    assert trivial_baseline(MC, "train_loss", TRAIN_MC, VAL_MC, NAMES[:4]) is None


def _multihot(rows: list[str], labels: str = "abcd") -> np.ndarray:
    return np.array([[1.0 if n in row else 0.0 for n in labels] for row in rows])


@pytest.mark.parametrize(
    ("train", "val", "metric", "expected", "rule"),
    [
        # every image carries a and b: predict both for every image
        (["ab", "ab", "abc"], ["ab", "a", "abd"], "iou", (1 + 0.5 + 2 / 3) / 3, "'a', 'b'"),
        # the case: most images carry most labels, so all four beat any smaller set
        (["abcd", "abcd", "abc", "abd"], ["abcd", "abc"], "iou", (1 + 0.75) / 2, "every label"),
        # labels are rare: predicting none scores 1 on every unlabelled image
        (["", "", "", "a"], ["", "", "b"], "iou", 2 / 3, "no label"),
        (["ab", "ab", "a"], ["ab", "a"], "f1_micro", 2 * 3 / (2 * 3 + 1), "'a', 'b'"),
        (["ab", "ab", "a"], ["ab", "c"], "f1_macro", (2 / 3 + 2 / 3 + 0 + 0) / 4, "'a', 'b'"),
        (["ab", "ab", "a"], ["ab", "a"], "iou_tuned", (1 + 0.5) / 2, "'a', 'b'"),
        (["a", "b"], ["ab", "a", "c", ""], "map", (2 / 4 + 1 / 4 + 1 / 4 + 0) / 4, "constant"),
        # a and b are on more than half the training images: predicting them errs on 3 of 8
        (["ab", "ab", "a", "b"], ["ab", "a"], "hamming_loss", 1 / 8, "'a', 'b'"),
        # frequent labels, rare sets: none is on over half the images, so no label is best
        (["a", "b", "c", "ab"], ["a", "b"], "hamming_loss", 2 / 8, "no label"),
        # the most frequent exact set {c}, although a is the most frequent label
        (["ab", "ac", "c", "c"], ["c", "ab", "c"], "subset_accuracy", 2 / 3, "'c' for"),
        # ties between sets: fewer labels first, then earlier labels
        (["ab", "ab", "c", "c"], ["c", "ab"], "subset_accuracy", 1 / 2, "'c' for"),
        (["ab", "ab", "b", "b", "a", "a"], ["b"], "subset_accuracy", 0.0, "'a' for"),
        # training frequencies a > b > c = d; validation pairs ranked a, b, then c and d tied:
        # a: 2 of 2 right, a+b: 3 of 4, all: 4 of 8 -> AP = 2/4 * 1 + 1/4 * 3/4 + 1/4 * 4/8
        (["abc", "ab", "a", "d"], ["ab", "ac"], "map_micro", 1 / 2 + 3 / 16 + 1 / 8, "freq"),
        # per image: 'ab' ranks its labels 1st and 2nd: 1; 'c' ties with d at ranks 3-4: 1/4;
        # 'bd': b at 2 (1 of 2 true), d at 3-4 (2 of 4): (1/2 + 1/2) / 2; '' and 'abcd': 1
        (
            ["abc", "ab", "a", "d"],
            ["ab", "c", "bd", "", "abcd"],
            "label_ranking_ap",
            (1 + 1 / 4 + 1 / 2 + 1 + 1) / 5,
            "freq",
        ),
        # labels to cover each image's lowest true label: 2, 4 (c ties with d), 4, 0, 1
        (
            ["abc", "ab", "a", "d"],
            ["ab", "c", "bd", "", "a"],
            "coverage_error",
            (2 + 4 + 4 + 0 + 1) / 5,
            "freq",
        ),
    ],
)
def test_multilabel_baseline_is_the_best_constant_label_set(
    train, val, metric, expected, rule
) -> None:
    baseline = trivial_baseline(ML, metric, _multihot(train), _multihot(val), list("abcd"))
    assert baseline is not None
    assert baseline.value == pytest.approx(expected)
    assert rule in baseline.rule


def _constant_logits(baseline: Baseline, train: np.ndarray, n: int, task: Task) -> torch.Tensor:
    """The constant prediction the baseline describes, as logits for the trainer's metrics."""
    c = len(NAMES)
    if task is MC:
        counts = np.bincount(train, minlength=c)
        if baseline.metric in ("log_loss", "accuracy_top5"):
            row = np.log((counts + 1) / (counts.sum() + c))
        else:
            row = np.where(np.arange(c) == np.argmax(counts), 10.0, -10.0)
    elif baseline.metric in ("log_loss", "map_micro", "label_ranking_ap", "coverage_error"):
        p = (train.sum(axis=0) + 1) / (len(train) + 2)
        row = np.log(p / (1 - p))
    elif baseline.metric == "map":
        row = np.zeros(c)
    else:
        chosen = [n in baseline.rule or "every label" in baseline.rule for n in map(repr, NAMES)]
        row = np.where(chosen, 10.0, -10.0)
    return torch.tensor(np.tile(row, (n, 1)), dtype=torch.float32)


@pytest.mark.parametrize("task", [MC, ML])
def test_every_metric_agrees_with_the_trainers_score_of_the_constant_prediction(task) -> None:
    rng = np.random.default_rng(3)
    shares = np.array([0.3, 0.22, 0.16, 0.12, 0.1, 0.06, 0.04])
    if task is MC:
        train, val = rng.choice(7, 300, p=shares), rng.choice(7, 80, p=shares)
    else:
        rate = np.array([0.7, 0.55, 0.4, 0.2, 0.1, 0.05, 0.0])
        train = (rng.random((300, 7)) < rate).astype(np.float32)
        val = (rng.random((80, 7)) < rate).astype(np.float32)
    for metric, spec in METRICS.items():
        if task not in spec.tasks or metric == "train_loss":
            continue
        baseline = trivial_baseline(task, metric, train, val, NAMES)
        assert baseline is not None
        logits = _constant_logits(baseline, train, len(val), task)
        scored = classification_metrics(logits, torch.tensor(val), task)
        assert baseline.value == pytest.approx(scored[metric.removesuffix("_tuned")], abs=1e-5), (
            metric
        )


def test_a_baseline_round_trips_and_a_malformed_one_is_refused() -> None:
    baseline = Baseline("accuracy", 0.31, "majority class 'cat'", PrimaryMetricGoal.MAXIMIZE)
    assert Baseline.from_dict(baseline.to_dict()) == baseline
    for bad in ([], {"metric": "accuracy", "value": "0.3", "rule": "x", "goal": "maximize"},
                {"metric": "accuracy", "value": math.inf, "rule": "x", "goal": "maximize"},
                {"metric": 1, "value": 0.3, "rule": "x", "goal": "maximize"},
                {"metric": "accuracy", "value": 0.3, "rule": "x", "goal": "sideways"}):  # fmt: skip
        with pytest.raises(ValueError):
            Baseline.from_dict(bad)
