"""The benchmark's test metrics (automl_vision/benchmarking/scores.py): torchmetrics' values on
unit weights, repeated rows on integer weights, and the conventions the module states."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_average_precision,
    multiclass_f1_score,
    multilabel_average_precision,
    multilabel_coverage_error,
    multilabel_exact_match,
    multilabel_f1_score,
    multilabel_hamming_distance,
    multilabel_ranking_average_precision,
)

from automl_vision.benchmarking import scores
from automl_vision.benchmarking.scores import (
    bootstrap_weights,
    metric_goal,
    metric_names,
    per_class,
    score,
)
from automl_vision.data.task import Task
from automl_vision.trial import PrimaryMetricGoal

N, C = 240, 6
EMPTY = 2  # the multilabel class with no positive image


def _multilabel(seed: int = 0):
    """Probabilities on a 0.1 grid (many ties, some exactly 0.5), targets with class EMPTY
    never positive, per-class thresholds on the same grid (so some probabilities equal them)."""
    rng = np.random.default_rng(seed)
    probs = np.round(rng.random((N, C)), 1)
    targets = (rng.random((N, C)) < 0.35).astype(np.int64)
    targets[0] = 0  # an image with no label
    targets[1] = 1  # and one with every label but EMPTY
    targets[:, EMPTY] = 0
    thresholds = np.round(rng.uniform(0.2, 0.8, C), 1)
    return probs, targets, thresholds


def _multiclass(seed: int = 0, ties: bool = True):
    """Softmax-like rows; with ``ties`` rounded to 0.05 (tied maxima), class 3 never occurs."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(8), N)
    if ties:
        probs = np.round(probs * 20) / 20
        probs[:4] = 0.125  # every class tied
    targets = rng.integers(0, 8, N)
    targets[targets == 3] = 4
    return probs, targets


def _tm(fn, probs, targets, **kw) -> np.ndarray:
    with warnings.catch_warnings():  # classes without positives: torchmetrics warns
        warnings.simplefilter("ignore", UserWarning)
        return fn(torch.tensor(probs), torch.tensor(targets), **kw).double().numpy()


ML = {"num_labels": C}
MULTILABEL_REFERENCE = {
    "map_macro": lambda p, t, thr: _tm(multilabel_average_precision, p, t, average="macro", **ML),
    "map_micro": lambda p, t, thr: _tm(multilabel_average_precision, p, t, average="micro", **ML),
    "f1_micro": lambda p, t, thr: _tm(multilabel_f1_score, p, t, average="micro", **ML),
    "f1_macro": lambda p, t, thr: _tm(multilabel_f1_score, p, t, average="macro", **ML),
    "f1_micro_tuned": lambda p, t, thr: _tm(
        multilabel_f1_score, (p >= thr).astype(np.float64), t, average="micro", **ML
    ),
    "f1_macro_tuned": lambda p, t, thr: _tm(
        multilabel_f1_score, (p >= thr).astype(np.float64), t, average="macro", **ML
    ),
    "hamming_loss": lambda p, t, thr: _tm(multilabel_hamming_distance, p, t, **ML),
    "subset_accuracy": lambda p, t, thr: _tm(multilabel_exact_match, p, t, **ML),
    "label_ranking_ap": lambda p, t, thr: _tm(multilabel_ranking_average_precision, p, t, **ML),
    "coverage_error": lambda p, t, thr: _tm(multilabel_coverage_error, p, t, **ML),
    "log_loss": lambda p, t, thr: torch.nn.functional.binary_cross_entropy(
        torch.tensor(p), torch.tensor(t, dtype=torch.float64)
    ).numpy(),
}


@pytest.mark.parametrize("name", list(MULTILABEL_REFERENCE))
def test_multilabel_metrics_equal_torchmetrics_on_tied_scores(name: str) -> None:
    probs, targets, thresholds = _multilabel()
    if name == "log_loss":  # away from 0 and 1, where the clip would act
        probs = np.clip(probs, 0.05, 0.95)
    got = score("multilabel", probs, targets, thresholds=thresholds)
    assert got[name].shape == (1,)
    expected = MULTILABEL_REFERENCE[name](probs, targets, thresholds)
    assert got[name][0] == pytest.approx(float(expected), abs=1e-6)


MULTICLASS_REFERENCE = {
    "accuracy": lambda p, t: _tm(multiclass_accuracy, p, t, num_classes=8, average="micro"),
    "accuracy_top5": lambda p, t: _tm(
        multiclass_accuracy, p, t, num_classes=8, average="micro", top_k=5
    ),
    "f1_macro": lambda p, t: _tm(multiclass_f1_score, p, t, num_classes=8, average="macro"),
    "log_loss": lambda p, t: torch.nn.functional.nll_loss(
        torch.tensor(p).log(), torch.tensor(t)
    ).numpy(),
}


@pytest.mark.parametrize("name", list(MULTICLASS_REFERENCE))
def test_multiclass_metrics_equal_torchmetrics(name: str) -> None:
    """Tied maxima for accuracy and F1 (the lower class index wins, as torch.argmax); top-5 on
    untied rows (torch.topk orders ties at the 5th place arbitrarily); an absent class."""
    probs, targets = _multiclass(ties=name in ("accuracy", "f1_macro"))
    got = score("multiclass", probs, targets)
    expected = MULTICLASS_REFERENCE[name](probs, targets)
    assert got[name][0] == pytest.approx(float(expected), abs=1e-6)


def test_per_class_ap_and_f1_equal_torchmetrics() -> None:
    probs, targets, thresholds = _multilabel(1)
    got = per_class("multilabel", probs, targets)
    assert got["ap"].shape == got["f1"].shape == (1, C)
    ap = _tm(multilabel_average_precision, probs, targets, average="none", **ML)
    f1 = _tm(multilabel_f1_score, probs, targets, average="none", **ML)
    np.testing.assert_allclose(got["ap"][0], ap, atol=1e-6)
    np.testing.assert_allclose(got["f1"][0], f1, atol=1e-6)
    tuned = per_class("multilabel", probs, targets, thresholds=thresholds)["f1"][0]
    decided = (probs >= thresholds).astype(np.float64)
    f1 = _tm(multilabel_f1_score, decided, targets, average="none", **ML)
    np.testing.assert_allclose(tuned, f1, atol=1e-6)
    probs, targets = _multiclass(1)
    got = per_class("multiclass", probs, targets)
    kw = {"num_classes": 8, "average": "none"}
    ap = _tm(multiclass_average_precision, probs, targets, **kw)
    # class 3 has no positive: torchmetrics' multiclass AP says NaN, ours 0 (its multilabel AP)
    assert np.isnan(ap[3]) and got["ap"][0, 3] == 0.0
    np.testing.assert_allclose(np.delete(got["ap"][0], 3), np.delete(ap, 3), atol=1e-6)
    np.testing.assert_allclose(
        got["f1"][0], _tm(multiclass_f1_score, probs, targets, **kw), atol=1e-6
    )


def test_a_class_without_positives_has_ap_0_and_counts_in_the_macro_means() -> None:
    """As torchmetrics: AP 0 (not left out) in map_macro; F1 0 in the multilabel f1_macro
    when never predicted either; the multiclass f1_macro leaves a class out only when it is
    neither a target nor a prediction."""
    probs, targets, _ = _multilabel()
    probs[:, EMPTY] = 0.1  # never predicted
    got = score("multilabel", probs, targets)
    classes = per_class("multilabel", probs, targets)
    assert classes["ap"][0, EMPTY] == 0.0 and classes["f1"][0, EMPTY] == 0.0
    assert got["map_macro"][0] == pytest.approx(classes["ap"][0].sum() / C)
    assert got["f1_macro"][0] == pytest.approx(classes["f1"][0].sum() / C)
    probs, targets = _multiclass(ties=False)  # class 3 never a target
    probs[:, 3] = 0.0  # nor a prediction
    f1 = per_class("multiclass", probs, targets)["f1"][0]
    assert score("multiclass", probs, targets)["f1_macro"][0] == pytest.approx(
        np.delete(f1, 3).mean()
    )
    probs[0, 3] = 1.0  # predicted once (wrongly): now it counts, with F1 0
    f1 = per_class("multiclass", probs, targets)["f1"][0]
    assert f1[3] == 0 and score("multiclass", probs, targets)["f1_macro"][0] == pytest.approx(
        f1.mean()
    )


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_integer_weights_equal_the_metrics_on_repeated_rows(task: str) -> None:
    if task == "multilabel":
        probs, targets, thresholds = _multilabel(2)
    else:
        (probs, targets), thresholds = _multiclass(2), None
    weights = bootstrap_weights(N, 6, np.random.default_rng(3))
    weights[0, :5] = 0  # the first images drawn in no resample of row 0
    got = score(task, probs, targets, thresholds, weights)
    classes = per_class(task, probs, targets, thresholds, weights)
    assert set(got) == set(metric_names(task))
    for b, row in enumerate(weights):
        repeated = score(
            task, np.repeat(probs, row, axis=0), np.repeat(targets, row, axis=0), thresholds
        )
        for name, values in got.items():
            assert values.shape == (6,)
            assert values[b] == pytest.approx(repeated[name][0], abs=1e-12), (name, b)
        again = per_class(
            task, np.repeat(probs, row, axis=0), np.repeat(targets, row, axis=0), thresholds
        )
        for name in ("ap", "f1"):
            assert classes[name].shape == (6, probs.shape[1])
            np.testing.assert_allclose(classes[name][b], again[name][0], atol=1e-12)


def test_fractional_weights_are_weighted_means() -> None:
    probs, targets, _ = _multilabel(4)
    halves = score("multilabel", probs, targets, weights=np.full((1, N), 0.5))
    ones = score("multilabel", probs, targets)
    for name in ones:
        assert halves[name][0] == pytest.approx(ones[name][0], abs=1e-12)


@pytest.mark.parametrize(
    ("row", "target", "top1", "top5"),
    [
        ([0.4, 0.3, 0.1, 0.1, 0.05, 0.03, 0.02], 1, 0, 1),
        ([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], 0, 1, 1),  # tied first place: the lower index
        ([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], 1, 0, 1),
        ([0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2], 3, 0, 1),  # 1 to 5 tied 3rd to 7th: 3 is 5th
        ([0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2], 4, 0, 0),  # and 4 is 6th
        ([0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3], 4, 0, 0),
    ],
)
def test_ties_between_classes_rank_the_lower_index_first(row, target, top1, top5) -> None:
    got = score("multiclass", np.array([row]), np.array([target]))
    assert (got["accuracy"][0], got["accuracy_top5"][0]) == (top1, top5)


@pytest.mark.parametrize(
    ("p", "threshold", "at_half", "tuned"),
    [(0.5, 0.5, 0, 1), (0.6, 0.6, 1, 1), (0.3, 0.3, 0, 1), (0.29, 0.3, 0, 0), (0.51, 0.7, 1, 0)],
)
def test_a_class_is_predicted_above_0_5_or_at_least_at_its_threshold(
    p, threshold, at_half, tuned
) -> None:
    """At 0.5: p > 0.5 (torchmetrics); at a given threshold: p >= threshold (the trainer)."""
    probs, targets = np.array([[p]]), np.array([[1]])
    got = score("multilabel", probs, targets, thresholds=np.array([threshold]))
    assert got["f1_micro"][0] == at_half and got["subset_accuracy"][0] == at_half
    assert got["f1_micro_tuned"][0] == tuned
    assert got["hamming_loss"][0] == 1 - at_half


def test_log_loss_clips_probabilities_at_1e_7() -> None:
    cost = -np.log(1e-7)  # about 16.1
    got = score("multiclass", np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([1, 0]))
    assert got["log_loss"][0] == pytest.approx((cost + np.log(2)) / 2)
    got = score("multilabel", np.array([[1.0, 0.0]]), np.array([[0, 1]]))
    assert got["log_loss"][0] == pytest.approx(cost)
    sure = score("multilabel", np.array([[1.0, 0.0]]), np.array([[1, 0]]))
    assert sure["log_loss"][0] == pytest.approx(-np.log1p(-1e-7))


def test_label_ranking_ap_and_coverage_of_images_with_no_or_every_label() -> None:
    probs = np.array([[0.9, 0.2, 0.4], [0.1, 0.2, 0.3], [0.3, 0.6, 0.6]])
    targets = np.array([[0, 0, 0], [1, 1, 1], [0, 1, 0]])
    got = score("multilabel", probs, targets)
    # no label: 1 and coverage 0; every label: 1 and coverage 3; the last: class 1 ties
    # class 2 (both rank 2), so its precision is 1/2 and it needs 2 classes to be covered
    assert got["label_ranking_ap"][0] == pytest.approx((1 + 1 + 0.5) / 3)
    assert got["coverage_error"][0] == pytest.approx((0 + 3 + 2) / 3)


def test_bootstrap_weights_are_seeded_multinomial_counts() -> None:
    w = bootstrap_weights(300, 400, np.random.default_rng(0))
    assert w.shape == (400, 300) and np.issubdtype(w.dtype, np.integer)
    assert (w.sum(axis=1) == 300).all() and w.min() >= 0
    assert np.array_equal(w, bootstrap_weights(300, 400, np.random.default_rng(0)))
    # Multinomial(n, 1/n): each count has mean 1 and variance 1 - 1/n
    assert w.mean() == pytest.approx(1.0) and w.var() == pytest.approx(1 - 1 / 300, abs=0.02)
    assert not np.array_equal(w[0], w[1])


@pytest.mark.parametrize(
    ("n", "b", "field"), [(0, 5, "n_images"), (5, 0, "n_boot"), (2.5, 5, "n_images")]
)
def test_bad_bootstrap_sizes_are_refused(n, b, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        bootstrap_weights(n, b, np.random.default_rng(0))


def test_metric_names_and_goals() -> None:
    assert metric_names(Task.MULTICLASS) == ("accuracy", "accuracy_top5", "f1_macro", "log_loss")
    assert metric_names("multilabel") == (
        "map_macro", "map_micro", "f1_micro", "f1_macro", "f1_micro_tuned", "f1_macro_tuned",
        "hamming_loss", "subset_accuracy", "label_ranking_ap", "coverage_error", "log_loss",
    )  # fmt: skip
    minimized = {"log_loss", "hamming_loss", "coverage_error"}
    for name in set(metric_names("multiclass")) | set(metric_names("multilabel")):
        goal = PrimaryMetricGoal.MINIMIZE if name in minimized else PrimaryMetricGoal.MAXIMIZE
        assert metric_goal(name) is goal
    with pytest.raises(ValueError, match="metric='iou'.*map_macro"):
        metric_goal("iou")
    probs, targets, _ = _multilabel()
    names = tuple(score("multilabel", probs, targets))
    assert names == tuple(n for n in metric_names("multilabel") if not n.endswith("_tuned"))


@pytest.mark.parametrize(
    ("task", "probs", "targets", "extra", "field"),
    [
        ("multilabel", np.full((3, 2), np.nan), np.zeros((3, 2)), {}, "probs"),
        ("multilabel", np.full((3, 2), 1.5), np.zeros((3, 2)), {}, "probs"),
        ("multilabel", np.full(3, 0.5), np.zeros(3), {}, "probs"),
        ("multiclass", np.full((3, 1), 1.0), np.zeros(3, int), {}, "probs"),
        ("multilabel", np.full((3, 2), 0.5), np.full((3, 2), 2), {}, "targets"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 3)), {}, "targets"),
        ("multiclass", np.full((3, 2), 0.5), np.array([0, 1, 2]), {}, "targets"),
        ("multiclass", np.full((3, 2), 0.5), np.array([0, 1, 0.5]), {}, "targets"),
        ("multiclass", np.full((3, 2), 0.5), np.zeros(3, int), {"thresholds": np.ones(2)}, "thresholds"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"thresholds": np.ones(3)}, "thresholds"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"thresholds": [0.5, np.nan]}, "thresholds"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"weights": np.ones((2, 4))}, "weights"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"weights": np.ones(3)}, "weights"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"weights": -np.ones((1, 3))}, "weights"),
        ("multilabel", np.full((3, 2), 0.5), np.zeros((3, 2)), {"weights": np.zeros((1, 3))}, "weights"),
        ("multi-task", np.full((3, 2), 0.5), np.zeros((3, 2)), {}, "task"),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_naming_it(task, probs, targets, extra, field: str) -> None:
    for fn in (score, per_class):
        with pytest.raises(ValueError, match=field):
            fn(task, probs, targets, **extra)


def test_the_statistics_modules_import_no_torch() -> None:
    """scores.py and stats.py import numpy, scipy and the project's foundations only, and a
    fresh interpreter that imports them has not loaded torch."""
    package = Path(scores.__file__).parent
    allowed = (
        "numpy",
        "scipy",
        "__future__",
        "math",
        "dataclasses",
        "automl_vision.data.task",
        "automl_vision.trial",
    )
    for module in ("scores.py", "stats.py"):
        for node in ast.walk(ast.parse((package / module).read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert all(n.split(".")[0] in allowed or n in allowed for n in names), (
                    module,
                    names,
                )
    code = "import sys, automl_vision.benchmarking.scores, automl_vision.benchmarking.stats; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
