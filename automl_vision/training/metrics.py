"""Metric names, goals and computation (with torchmetrics), in one place.

Multiclass (from logits and class indices):

========================  =========  ===========================================================
name                      goal       meaning
========================  =========  ===========================================================
``accuracy``              maximize   top-1 accuracy (micro)
``accuracy_top5``         maximize   top-k accuracy, k = min(5, number of classes)
``precision_macro``       maximize   precision averaged over classes
``recall_macro``          maximize   recall averaged over classes
``f1_macro``              maximize   F1 averaged over classes
``log_loss``              minimize   mean cross-entropy (never class-weighted)
========================  =========  ===========================================================

Multilabel (from logits and multi-hot targets; a label is predicted when its probability is
>= the threshold, 0.5 by default):

========================  =========  ===========================================================
``iou``                   maximize   intersection over union per image, averaged over images
                                     (an image with no label and no prediction scores 1)
``map``                   maximize   mean over classes of the average precision (threshold-free)
``map_micro``             maximize   average precision of all (image, label) pairs ranked together
                                     (threshold-free)
``f1_micro``              maximize   F1 over all (image, label) decisions
``f1_macro``              maximize   F1 averaged over classes
``hamming_loss``          minimize   share of wrong (image, label) decisions
``subset_accuracy``       maximize   share of images whose predicted label set is exactly right
``label_ranking_ap``      maximize   per image, for each true label: the share of true labels
                                     among the labels scored at least as high; averaged over the
                                     true labels, then over images (an image with no label, or
                                     with every label, scores 1; threshold-free)
``coverage_error``        minimize   per image, how many of the top-scored labels (ties counted
                                     in) it takes to cover every true label, averaged over images
                                     (an image with no label counts 0; best: the mean number of
                                     labels; threshold-free)
``log_loss``              minimize   mean binary cross-entropy (never class-weighted)
``iou_tuned``             maximize   ``iou`` with per-class thresholds, cross-fitted: each half of
                                     the validation set is scored with the thresholds tuned on
                                     the other half, so tuning does not inflate the score
``f1_micro_tuned``        maximize   ``f1_micro`` with the cross-fitted thresholds
``f1_macro_tuned``        maximize   ``f1_macro`` with the cross-fitted thresholds
========================  =========  ===========================================================

Both tasks also report ``train_loss`` (minimize): the mean training loss of the epoch, as
optimized (class-weighted when weighted_loss is on). Primary metric by default: ``accuracy``
(multiclass), ``iou`` (multilabel).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
    multilabel_average_precision,
    multilabel_coverage_error,
    multilabel_exact_match,
    multilabel_f1_score,
    multilabel_hamming_distance,
    multilabel_jaccard_index,
    multilabel_precision_recall_curve,
    multilabel_ranking_average_precision,
)

from automl_vision.data.task import Task
from automl_vision.metric_catalog import (
    METRICS,
    PRIMARY_METRIC,
    MetricSpec,
    metric_spec,
    primary_metric,
)

__all__ = [
    "METRICS",
    "PRIMARY_METRIC",
    "MetricSpec",
    "classification_metrics",
    "cross_fitted_thresholds",
    "metric_spec",
    "primary_metric",
    "tune_thresholds",
]


def classification_metrics(
    logits: torch.Tensor,
    targets: torch.Tensor,
    task: Task,
    *,
    threshold: float = 0.5,
    class_thresholds: torch.Tensor | None = None,
) -> dict[str, float]:
    """Validation metrics of ``logits`` (``N×C``) against ``targets`` (see the module table)."""
    logits = logits.float().cpu()
    targets = targets.cpu()
    if task is Task.MULTICLASS:
        return _multiclass(logits, targets.long())
    out = _multilabel(logits, targets.float(), threshold, "")
    if class_thresholds is not None:
        out |= _multilabel(logits, targets.float(), class_thresholds, "_tuned", full=False)
    return out


def _multiclass(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    c = logits.shape[1]
    kw = {"num_classes": c, "validate_args": False}
    return {
        "accuracy": multiclass_accuracy(logits, targets, average="micro", **kw).item(),
        "accuracy_top5": multiclass_accuracy(
            logits, targets, average="micro", top_k=min(5, c), **kw
        ).item(),
        "precision_macro": multiclass_precision(logits, targets, average="macro", **kw).item(),
        "recall_macro": multiclass_recall(logits, targets, average="macro", **kw).item(),
        "f1_macro": multiclass_f1_score(logits, targets, average="macro", **kw).item(),
        "log_loss": F.cross_entropy(logits, targets).item(),
    }


def _multilabel(
    logits: torch.Tensor,
    targets: torch.Tensor,
    threshold: float | torch.Tensor,
    suffix: str,
    *,
    full: bool = True,
) -> dict[str, float]:
    probs = torch.sigmoid(logits)
    n, c = probs.shape
    # a per-class threshold becomes 0/1 predictions scored at 0.5
    preds = (probs >= threshold).float() if isinstance(threshold, torch.Tensor) else probs
    thr = 0.5 if isinstance(threshold, torch.Tensor) else threshold
    t = targets.long()
    out = {
        # per image: the samples are the "labels" of the transposed problem
        "iou" + suffix: multilabel_jaccard_index(
            preds.T, t.T, num_labels=n, threshold=thr, average="macro", zero_division=1.0,
            validate_args=False,
        ).item(),
        "f1_micro" + suffix: multilabel_f1_score(
            preds, t, num_labels=c, threshold=thr, average="micro", validate_args=False
        ).item(),
        "f1_macro" + suffix: multilabel_f1_score(
            preds, t, num_labels=c, threshold=thr, average="macro", validate_args=False
        ).item(),
    }  # fmt: skip
    if full:
        with warnings.catch_warnings():  # classes without positives: torchmetrics warns
            warnings.simplefilter("ignore", UserWarning)
            out["map"] = multilabel_average_precision(
                probs, t, num_labels=c, average="macro", validate_args=False
            ).item()
        out |= _multilabel_extra(logits, t, thr)
        out["log_loss"] = F.binary_cross_entropy_with_logits(logits, targets).item()
    return out


def _multilabel_extra(logits: torch.Tensor, t: torch.Tensor, threshold: float) -> dict[str, float]:
    """The micro AP, the set metrics at ``threshold`` and the ranking metrics (module table)."""
    # float64 probabilities: float32's sigmoid rounds logits above ~17 to 1.0, inventing ties
    probs = torch.sigmoid(logits.double())
    c = probs.shape[1]
    kw = {"num_labels": c, "validate_args": False}
    micro = 0.0  # no positive at all: no precision to average (as ``map`` scores such a class)
    if bool(t.any()):
        micro = multilabel_average_precision(probs, t, average="micro", **kw).item()
    return {
        "map_micro": micro,
        "hamming_loss": multilabel_hamming_distance(
            probs, t, threshold=threshold, average="micro", **kw
        ).item(),
        "subset_accuracy": multilabel_exact_match(probs, t, threshold=threshold, **kw).item(),
        "label_ranking_ap": multilabel_ranking_average_precision(probs, t, **kw).item(),
        "coverage_error": multilabel_coverage_error(probs, t, **kw).item(),
    }


def tune_thresholds(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-class probability thresholds maximizing each class's F1 on (logits, targets).

    For each class the candidate thresholds are its distinct predicted probabilities (the
    precision-recall curve); the first that reaches the highest F1 wins. A class without a
    positive example keeps 0.5.
    """
    probs = torch.sigmoid(logits.float().cpu())
    t = targets.cpu().long()
    c = probs.shape[1]
    with warnings.catch_warnings():  # classes without positives: torchmetrics warns
        warnings.simplefilter("ignore", UserWarning)
        precision, recall, thresholds = multilabel_precision_recall_curve(
            probs, t, num_labels=c, thresholds=None, validate_args=False
        )
    out = torch.full((c,), 0.5)
    for k in range(c):
        if t[:, k].sum() == 0 or len(thresholds[k]) == 0:
            continue
        p, r = precision[k][:-1], recall[k][:-1]
        f1 = torch.where(p + r > 0, 2 * p * r / (p + r), torch.zeros_like(p))
        out[k] = thresholds[k][int(torch.argmax(f1))]
    return out


def cross_fitted_thresholds(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``N×C`` thresholds: the even-indexed images get those tuned on the odd-indexed ones and
    vice versa, so no image is scored with thresholds fitted on itself. (The model's own
    thresholds, kept in the checkpoint, are tuned on the whole validation set.)"""
    n = logits.shape[0]
    out = torch.full(tuple(logits.shape), 0.5)
    halves = (torch.arange(0, n, 2), torch.arange(1, n, 2))
    for scored, fitted in (halves, halves[::-1]):
        if len(scored) and len(fitted):
            out[scored] = tune_thresholds(logits[fitted], targets[fitted])
    return out
