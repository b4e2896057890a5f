"""The trivial baseline: the best constant prediction, fitted on the training split's labels and
scored on the validation split with the sweep's primary metric, as the trainer defines it
(``training/metrics.py``). No image is read and nothing is trained.

Multiclass: always the training split's majority class (ties: the first class name).

========================  ===========================================================
metric                    the constant prediction and its score
========================  ===========================================================
``accuracy``              the majority class: its share of the validation images
``accuracy_top5``         the k = min(5, classes) most frequent training classes
``precision_macro``       the majority class: its share / K (K: the classes present in
                          validation, plus the majority class)
``recall_macro``          the majority class: 1 / K
``f1_macro``              the majority class: 2s / (1 + s) / K (s: its share)
``log_loss``              the training class frequencies (add-one smoothed) as
                          probabilities
========================  ===========================================================

Multilabel: the best constant label set. The labels are ranked by how many training images
carry them; each prefix of that ranking (no label, the most frequent one, ..., every label) is
scored on the training split with the primary metric and the best (fewest labels on a tie) is
scored on validation. For the thresholded metrics (``iou``, ``f1_micro``, ``f1_macro`` and their
``_tuned`` forms, ``hamming_loss``: a constant score gives one decision per label whatever the
threshold) this is the set predicted for every image; for ``subset_accuracy`` the set is the
training split's most frequent label set (the best constant for an exact match; ties: fewer
labels, then the earlier labels). ``map`` of a constant score is each label's share of the
validation images, averaged over the labels (one without a validation image scores 0);
``log_loss`` uses each label's training frequency (add-one smoothed) as its probability, and so
do the ranking metrics (``map_micro``, ``label_ranking_ap``, ``coverage_error``): every image
ranks the labels by training frequency (labels of equal frequency tie), scored as the trainer
scores ties (torchmetrics): ``map_micro`` is the average precision of all validation (image,
label) pairs at those scores, ``label_ranking_ap`` and ``coverage_error`` are computed per image.

``train_loss`` has no baseline (a training loss compares with nothing constant).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from automl_vision.data.task import Task
from automl_vision.metric_catalog import metric_spec
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["Baseline", "trivial_baseline"]


@dataclass(frozen=True)
class Baseline:
    """The trivial baseline of ``metric``: its ``value`` on the validation split and the
    constant prediction that scored it (``rule``, shown to the user)."""

    metric: str
    value: float
    rule: str
    goal: PrimaryMetricGoal

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "goal": self.goal.value}

    @classmethod
    def from_dict(cls, data: Any) -> Baseline:
        """The baseline a store or ``metrics.json`` recorded; ValueError when it is malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"a baseline must be a JSON object, got {type(data).__name__}")
        metric, value, rule = data.get("metric"), data.get("value"), data.get("rule")
        if not isinstance(metric, str) or not isinstance(rule, str):
            raise ValueError("a baseline's metric and rule must be text")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"a baseline's value must be a number, got {value!r:.40}")
        if not math.isfinite(float(value)):
            raise ValueError("a baseline's value must be finite")
        goal = PrimaryMetricGoal.parse(str(data.get("goal", "")), "baseline goal")
        return cls(metric, float(value), rule, goal)


def trivial_baseline(
    task: Task,
    metric: str,
    train_targets: np.ndarray,
    validation_targets: np.ndarray,
    class_names: Sequence[str],
) -> Baseline | None:
    """The trivial baseline of ``metric`` (None for ``train_loss``). Targets as the dataset
    encodes them: class indices (multiclass), ``N×C`` multi-hot rows (multilabel)."""
    spec = metric_spec(metric, task)
    if metric == "train_loss":
        return None
    train, val = np.asarray(train_targets), np.asarray(validation_targets)
    if task is Task.MULTICLASS:
        names = list(class_names)
        value, rule = _multiclass(metric, train.astype(np.int64), val.astype(np.int64), names)
    else:
        value, rule = _multilabel(metric, train > 0.5, val > 0.5, list(class_names))
    return Baseline(metric, float(value), rule, spec.goal)


# -- multiclass -------------------------------------------------------------------------------
def _multiclass(
    metric: str, train: np.ndarray, val: np.ndarray, names: list[str]
) -> tuple[float, str]:
    c = len(names)
    counts = np.bincount(train, minlength=c)
    ranking = sorted(range(c), key=lambda k: (-counts[k], k))
    majority = ranking[0]
    share = float(np.mean(val == majority)) if len(val) else 0.0
    classes = len(set(val.tolist()) | {majority})
    said = f"majority class {names[majority]!r}"
    if metric == "accuracy":
        return share, said
    if metric == "accuracy_top5":
        k = min(5, c)
        return float(np.mean(np.isin(val, ranking[:k]))), f"the {k} most frequent classes"
    if metric == "precision_macro":
        return share / classes, said
    if metric == "recall_macro":
        return (1.0 if share > 0 else 0.0) / classes, said
    if metric == "f1_macro":
        return (2 * share / (1 + share) if share > 0 else 0.0) / classes, said
    if metric == "log_loss":
        priors = (counts + 1) / (counts.sum() + c)
        return float(-np.mean(np.log(priors[val]))), "the training class frequencies"
    raise ValueError(f"no trivial baseline for multiclass metric {metric!r}")


# -- multilabel -------------------------------------------------------------------------------
def _iou(chosen: np.ndarray, targets: np.ndarray) -> float:
    inter = (targets & chosen).sum(axis=1)
    union = (targets | chosen).sum(axis=1)
    return float(np.mean(np.where(union > 0, inter / np.maximum(union, 1), 1.0)))


def _f1_micro(chosen: np.ndarray, targets: np.ndarray) -> float:
    tp = int((targets & chosen).sum())
    wrong = int((targets ^ chosen).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def _f1_macro(chosen: np.ndarray, targets: np.ndarray) -> float:
    positives = targets.sum(axis=0)
    n = len(targets)
    per_class = np.where(chosen & (positives > 0), 2 * positives / np.maximum(n + positives, 1), 0)
    return float(np.mean(per_class))


def _hamming(chosen: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(targets ^ chosen)) if targets.size else 0.0


def _subset(chosen: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean(np.all(targets == chosen, axis=1))) if len(targets) else 0.0


_SET_SCORES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "iou": _iou,
    "f1_micro": _f1_micro,
    "f1_macro": _f1_macro,
    "hamming_loss": _hamming,
}

# the ranking metrics of a constant score per label (``scores``, C), on multi-hot ``targets``


def _map_micro(scores: np.ndarray, targets: np.ndarray) -> float:
    """Average precision of every (image, label) pair; a label's pairs share its score, so each
    distinct score is one step of the precision-recall curve."""
    positives = int(targets.sum())
    if positives == 0:
        return 0.0
    ap, recalled, found, predicted = 0.0, 0.0, 0, 0
    for value in sorted(set(scores.tolist()), reverse=True):
        labels = scores == value
        found += int(targets[:, labels].sum())
        predicted += len(targets) * int(labels.sum())
        recall = found / positives
        ap += (recall - recalled) * found / predicted
        recalled = recall
    return ap


def _label_ranking_ap(scores: np.ndarray, targets: np.ndarray) -> float:
    """Per image, mean over its labels j of |true labels scored >= s_j| / |labels scored >= s_j|
    (1 for an image with no label or every label)."""
    c = len(scores)
    at_least = scores[None, :] >= scores[:, None]  # [j, k]: label k scored at least as high as j
    total = at_least.sum(axis=1)
    values = []
    for row in targets:
        k = int(row.sum())
        if k in (0, c):
            values.append(1.0)
            continue
        true = np.flatnonzero(row)
        values.append(float(np.mean(at_least[np.ix_(true, true)].sum(axis=1) / total[true])))
    return float(np.mean(values)) if values else 0.0


def _coverage_error(scores: np.ndarray, targets: np.ndarray) -> float:
    """Per image, the labels scored at least as high as its lowest-scored true label (0 for an
    image with no label)."""
    covered = [int((scores >= scores[row].min()).sum()) if row.any() else 0 for row in targets]
    return float(np.mean(covered)) if covered else 0.0


_RANKING_SCORES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "map_micro": _map_micro,
    "label_ranking_ap": _label_ranking_ap,
    "coverage_error": _coverage_error,
}


def _multilabel(
    metric: str, train: np.ndarray, val: np.ndarray, names: list[str]
) -> tuple[float, str]:
    c = len(names)
    counts = train.sum(axis=0)
    frequencies = (counts + 1) / (len(train) + 2)
    if metric == "map":
        # a label without a validation positive scores 0, as torchmetrics counts it
        return float(np.mean(val.sum(axis=0) / max(len(val), 1))), "a constant score"
    if metric == "log_loss":
        loss = -(val * np.log(frequencies) + (~val) * np.log(1 - frequencies))
        return float(np.mean(loss)), "the training label frequencies"
    if metric in _RANKING_SCORES:
        return _RANKING_SCORES[metric](frequencies, val), "the training label frequencies"
    if metric == "subset_accuracy":
        chosen = _most_frequent_set(train, c)
        labels = [names[k] for k in np.flatnonzero(chosen)]
        return _subset(chosen[None, :], val), _label_set_text(labels, c)
    score = _SET_SCORES.get(metric.removesuffix("_tuned"))
    if score is None:
        raise ValueError(f"no trivial baseline for multilabel metric {metric!r}")
    sign = 1.0 if metric_spec(metric).goal is PrimaryMetricGoal.MAXIMIZE else -1.0
    ranking = sorted(range(c), key=lambda k: (-counts[k], k))
    best_k, best = 0, -math.inf
    for k in range(c + 1):
        chosen = np.zeros(c, dtype=bool)
        chosen[ranking[:k]] = True
        fitted = sign * score(chosen[None, :], train)
        if fitted > best:
            best_k, best = k, fitted
    chosen = np.zeros(c, dtype=bool)
    chosen[ranking[:best_k]] = True
    return score(chosen[None, :], val), _label_set_text([names[k] for k in ranking[:best_k]], c)


def _most_frequent_set(train: np.ndarray, c: int) -> np.ndarray:
    """The label set the most training images carry exactly (ties: fewer labels, then the
    earlier labels); no label when there is no training image."""
    if len(train) == 0:
        return np.zeros(c, dtype=bool)
    sets, counts = np.unique(train.astype(bool), axis=0, return_counts=True)
    best = min(
        range(len(sets)),
        key=lambda i: (-counts[i], int(sets[i].sum()), [-int(v) for v in sets[i]]),
    )
    return sets[best]


def _label_set_text(labels: list[str], c: int) -> str:
    if not labels:
        return "no label for every image"
    if len(labels) == c:
        return "every label for every image"
    shown = ", ".join(repr(n) for n in labels[:6]) + (", ..." if len(labels) > 6 else "")
    return f"the labels {shown} for every image"
