"""The trainer's multilabel ranking and set metrics (``map_micro``, ``hamming_loss``,
``subset_accuracy``, ``label_ranking_ap``, ``coverage_error``): hand-computed tables and
scikit-learn on random data."""

from __future__ import annotations

import math
import warnings

import pytest
import sklearn.metrics as skm
import torch

from automl_vision.data import Task
from automl_vision.metric_catalog import METRICS
from automl_vision.training.metrics import classification_metrics
from automl_vision.trial import PrimaryMetricGoal

NEW = {
    "map_micro": PrimaryMetricGoal.MAXIMIZE,
    "hamming_loss": PrimaryMetricGoal.MINIMIZE,
    "subset_accuracy": PrimaryMetricGoal.MAXIMIZE,
    "label_ranking_ap": PrimaryMetricGoal.MAXIMIZE,
    "coverage_error": PrimaryMetricGoal.MINIMIZE,
}


def _scores(probs: list[list[float]], targets: list[list[int]]) -> dict[str, float]:
    logits = torch.logit(torch.tensor(probs, dtype=torch.float64)).float()
    return classification_metrics(
        logits, torch.tensor(targets, dtype=torch.float32), Task.MULTILABEL
    )


# labels a, b, c of three images; the third carries no label
PROBS = [[0.9, 0.6, 0.3], [0.2, 0.7, 0.8], [0.4, 0.1, 0.45]]
TARGETS = [[1, 0, 1], [0, 1, 0], [0, 0, 0]]
# the same scores with ties: b and c of the first image tie, and a and b of the second
TIED = [[0.9, 0.3, 0.3], [0.7, 0.7, 0.8], [0.4, 0.1, 0.45]]


@pytest.mark.parametrize(
    ("probs", "metric", "expected"),
    [
        # pairs by score: .9+ .8- .7+ .6- .45- .4- .3+ .2- .1-: precision 1, 2/3, 3/7 at the hits
        (PROBS, "map_micro", (1 + 2 / 3 + 3 / 7) / 3),
        # at 0.5: image 1 predicts b (wrong) and misses c, image 2 predicts c (wrong)
        (PROBS, "hamming_loss", 3 / 9),
        (PROBS, "subset_accuracy", 1 / 3),  # only the unlabelled image is exactly right
        # image 1: a first (1/1), c third (2/3); image 2: b second (1/2); no label: 1
        (PROBS, "label_ranking_ap", ((1 + 2 / 3) / 2 + 1 / 2 + 1) / 3),
        # labels down to the lowest true one: 3, 2, and 0 for the unlabelled image
        (PROBS, "coverage_error", (3 + 2 + 0) / 3),
        # ties count against: c ties with b (rank 3 of 3, 2 true), b with a (rank 3, 1 true)
        (TIED, "label_ranking_ap", ((1 + 2 / 3) / 2 + 1 / 3 + 1) / 3),
        (TIED, "coverage_error", (3 + 3 + 0) / 3),
        # tied pairs are one step: .9+ | .8- | .7 (+,-) | .45- .4- | .3 (-,+) ...: 1, 2/4, 3/8
        (TIED, "map_micro", (1 / 3) * 1 + (1 / 3) * 2 / 4 + (1 / 3) * 3 / 8),
    ],
)
def test_multilabel_metrics_by_hand(probs, metric, expected) -> None:
    assert _scores(probs, TARGETS)[metric] == pytest.approx(expected, abs=1e-6)


def test_ranking_metrics_tell_large_logits_apart() -> None:
    # float32 sigmoids of 25 and 20 are both 1.0: the metrics rank the logits themselves
    logits = torch.tensor([[25.0, 20.0, -30.0]])
    m = classification_metrics(logits, torch.tensor([[1.0, 0.0, 0.0]]), Task.MULTILABEL)
    assert m["label_ranking_ap"] == 1.0 and m["coverage_error"] == 1.0
    assert m["map_micro"] == pytest.approx(1.0)


def test_multilabel_metrics_match_scikit_learn() -> None:
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(90, 6, generator=g) * 2
    targets = (torch.rand(90, 6, generator=g) < 0.35).float()
    targets[:5] = 0  # images without a label
    targets[5] = 1  # and one with every label
    m = classification_metrics(logits, targets, Task.MULTILABEL)
    probs = torch.sigmoid(logits.double()).numpy()
    y, pred = targets.numpy().astype(int), (probs >= 0.5).astype(int)
    assert m["map_micro"] == pytest.approx(
        skm.average_precision_score(y, probs, average="micro"), abs=1e-6
    )
    assert m["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred), abs=1e-6)
    assert m["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-6)
    assert m["label_ranking_ap"] == pytest.approx(
        skm.label_ranking_average_precision_score(y, probs), abs=1e-6
    )
    assert m["coverage_error"] == pytest.approx(skm.coverage_error(y, probs), abs=1e-6)


def test_the_metrics_are_in_the_catalog_with_their_goals() -> None:
    for name, goal in NEW.items():
        assert METRICS[name].goal is goal and METRICS[name].tasks == {Task.MULTILABEL}


def test_no_positive_label_scores_zero_micro_ap_without_a_warning() -> None:
    logits = torch.tensor([[2.0, -1.0], [-0.5, -3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(logits, torch.zeros(2, 2), Task.MULTILABEL)
    assert m["map_micro"] == 0.0 and not math.copysign(1.0, m["map_micro"]) < 0
    assert m["coverage_error"] == 0.0 and m["label_ranking_ap"] == 1.0
    assert m["hamming_loss"] == pytest.approx(1 / 4) and m["subset_accuracy"] == 0.5
