"""A benchmark's test metrics from predicted probabilities, on bootstrap resamples of the images.

numpy and scipy only (no torch), vectorized over ``B`` resamples at once. A resample is a row of a
``B×N`` weight matrix: how many times each test image is drawn (``bootstrap_weights``); every
metric on a row equals the metric on the test set with each image repeated that many times. On
a row of ones every metric equals torchmetrics' (the tests check each to 1e-6).

Multiclass (``probs`` ``N×C`` softmax, ``targets`` ``(N,)`` class indices):

==================  =========  ==============================================================
``accuracy``        maximize   the top-ranked class is the target
``accuracy_top5``   maximize   the target is among the ``min(5, C)`` top-ranked classes
``f1_macro``        maximize   F1 of the top-ranked class, averaged over the classes that occur
                               (in the targets or the predictions); an absent class is left out
``log_loss``        minimize   mean ``-log p(target)``
==================  =========  ==============================================================

Classes are ranked by probability, a tie going to the lower class index (what
``torch.argmax`` does for top-1; torchmetrics' ``top_k`` breaks ties at the ``k``-th place in no
documented order, so top-5 agrees with it whenever the ``k``-th place is not tied).

Multilabel (``probs`` ``N×C`` sigmoid, ``targets`` ``N×C`` 0/1):

======================  =========  ==========================================================
``map_macro``           maximize   average precision per class, averaged over all classes
``map_micro``           maximize   average precision of all (image, class) pairs as one list
``f1_micro``            maximize   F1 over all (image, class) decisions at 0.5
``f1_macro``            maximize   F1 per class at 0.5, averaged over all classes
``f1_micro_tuned``      maximize   ``f1_micro`` at the given per-class thresholds
``f1_macro_tuned``      maximize   ``f1_macro`` at the given per-class thresholds
``hamming_loss``        minimize   fraction of wrong (image, class) decisions at 0.5
``subset_accuracy``     maximize   fraction of images whose every class is right at 0.5
``label_ranking_ap``    maximize   label-ranking average precision, averaged over images
``coverage_error``      minimize   how many top-ranked classes cover all of an image's labels
``log_loss``            minimize   mean binary cross-entropy over (image, class) pairs
======================  =========  ==========================================================

The ``_tuned`` pair is scored only when ``thresholds`` are given. Decisions follow the rules the
numbers are compared with: at the default 0.5 a class is predicted where ``p > 0.5``
(torchmetrics' rule, as in the trainer's ``f1_micro``); at given thresholds where
``p >= threshold`` (the rule the trainer tunes its per-class thresholds with).

Conventions, each as torchmetrics has it:

- average precision: pairs sorted by score, a group of tied scores is one threshold (its
  precision counts every pair of the group); a class with no positive image (in the test set or
  in a resample) has AP 0 and still counts in ``map_macro`` (torchmetrics' multilabel AP; its
  multiclass AP says NaN for such a class, ``per_class`` says 0 for both tasks);
- F1 is 0 where precision and recall are both undefined (no positive, no prediction); such a
  class counts as 0 in the multilabel ``f1_macro`` but is left out of the multiclass one;
- ``label_ranking_ap`` counts 1 for an image with no label or with every label; a label's rank
  is the number of classes scored at least as high as it (ties rank low);
- ``coverage_error`` is 0 for an image with no label.

``log_loss`` clips probabilities to ``[1e-7, 1 - 1e-7]`` first, so that a confident mistake
costs about 16 instead of infinity.

Cost: per-image metrics are one matrix product with the weights; F1 one more; average precision
one sort per class (and one of all pairs for ``map_micro``) and a sparse product. Every
multilabel metric for B = 1000 resamples of N = 2000 images and C = 20 classes takes about half
a second on one core.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from automl_vision.data.task import Task
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "bootstrap_weights",
    "metric_goal",
    "metric_names",
    "metric_range",
    "per_class",
    "score",
]

#: probabilities are clipped to [EPS, 1 - EPS] before the log loss
EPS = 1e-7
#: the label-ranking AP compares classes pairwise within blocks of about this many elements
_BLOCK = 1 << 22

_MULTICLASS = ("accuracy", "accuracy_top5", "f1_macro", "log_loss")
_MULTILABEL = (
    "map_macro", "map_micro", "f1_micro", "f1_macro", "f1_micro_tuned", "f1_macro_tuned",
    "hamming_loss", "subset_accuracy", "label_ranking_ap", "coverage_error", "log_loss",
)  # fmt: skip
_MINIMIZED = frozenset({"log_loss", "hamming_loss", "coverage_error"})


def metric_names(task: Task | str) -> tuple[str, ...]:
    """Every metric ``score`` can report for ``task``, in table order (the ``_tuned`` pair of
    multilabel included; ``score`` reports it only when thresholds are given)."""
    return _MULTICLASS if Task.parse(task) is Task.MULTICLASS else _MULTILABEL


def metric_goal(name: str) -> PrimaryMetricGoal:
    """Whether a higher (``maximize``) or lower (``minimize``) value of ``name`` is better."""
    if name not in _MULTICLASS and name not in _MULTILABEL:
        known = ", ".join(dict.fromkeys(_MULTICLASS + _MULTILABEL))
        raise ValueError(f"metric={name!r} is not a benchmark metric; choose one of {known}")
    return PrimaryMetricGoal.MINIMIZE if name in _MINIMIZED else PrimaryMetricGoal.MAXIMIZE


def metric_range(name: str) -> tuple[float, float]:
    """The values metric ``name`` can take: [0, inf) for ``log_loss`` and ``coverage_error``,
    [0, 1] for the others (and for per-class AP and F1). Intervals are clipped to it."""
    metric_goal(name)  # an unknown name is refused
    return (0.0, math.inf) if name in ("log_loss", "coverage_error") else (0.0, 1.0)


def bootstrap_weights(n_images: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot × n_images`` int64 counts: row ``b`` says how often each image is drawn when
    ``n_images`` images are drawn with replacement (a Multinomial(n_images, 1/n_images) row)."""
    for field, value in (("n_images", n_images), ("n_boot", n_boot)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{field}={value!r} is not allowed; {field} must be an integer >= 1")
    draws = rng.integers(0, n_images, size=(n_boot, n_images))
    draws += np.arange(n_boot)[:, None] * n_images
    return np.bincount(draws.ravel(), minlength=n_boot * n_images).reshape(n_boot, n_images)


def score(
    task: Task | str,
    probs: np.ndarray,
    targets: np.ndarray,
    thresholds: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every metric of ``task`` (see the module table) on each resample: ``{name: (B,)}``.

    ``probs`` ``N×C``; ``targets`` ``(N,)`` class indices (multiclass) or ``N×C`` 0/1
    (multilabel); ``thresholds`` ``(C,)`` per-class thresholds (multilabel only) or None;
    ``weights`` ``B×N`` non-negative counts, each row a resample, or None for one row of ones.
    """
    task, probs, targets, thresholds, w = _checked(task, probs, targets, thresholds, weights)
    if task is Task.MULTICLASS:
        return _multiclass(probs, targets, w)
    return _multilabel(probs, targets, thresholds, w)


def per_class(
    task: Task | str,
    probs: np.ndarray,
    targets: np.ndarray,
    thresholds: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-class ``"ap"`` and ``"f1"`` on each resample, each ``B×C``.

    Multilabel: each class's average precision, and its F1 at ``thresholds`` (``p >=``) or
    else at 0.5 (``p > 0.5``). Multiclass: one-vs-rest average precision of each class's
    probability, and the F1 of the top-ranked class. Arguments as for ``score``.
    """
    task, probs, targets, thresholds, w = _checked(task, probs, targets, thresholds, weights)
    if task is Task.MULTICLASS:
        truth = _one_hot(targets, probs.shape[1])
        predicted = _one_hot(probs.argmax(axis=1), probs.shape[1])
    else:
        truth = targets
        predicted = probs >= thresholds if thresholds is not None else probs > 0.5
    tp, fp, fn = _counts(w, predicted, truth)
    return {"ap": _class_ap(probs, truth, w), "f1": _f1(tp, fp, fn)}


# ----------------------------------------------------------------------------- checks


def _checked(
    task: Task | str,
    probs: np.ndarray,
    targets: np.ndarray,
    thresholds: np.ndarray | None,
    weights: np.ndarray | None,
) -> tuple[Task, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    task = Task.parse(task)
    probs = np.asarray(probs, dtype=np.float64)
    fewest = 2 if task is Task.MULTICLASS else 1
    if probs.ndim != 2 or probs.shape[0] < 1 or probs.shape[1] < fewest:
        raise ValueError(
            f"probs has shape {probs.shape}; probs must be N×C with N >= 1 images and C classes "
            f"(C >= 2 for multiclass)"
        )
    if not np.all((probs >= 0) & (probs <= 1)):  # NaN fails too
        raise ValueError("probs must be probabilities in [0, 1] (no NaN)")
    n, c = probs.shape
    targets = np.asarray(targets)
    if task is Task.MULTICLASS:
        ok = targets.shape == (n,) and np.issubdtype(targets.dtype, np.number)
        if not ok or not np.all((targets >= 0) & (targets < c) & (targets == np.round(targets))):
            raise ValueError(
                f"targets must be {n} class indices in [0, {c}) for multiclass probs of shape "
                f"{probs.shape}; got shape {targets.shape}, dtype {targets.dtype}"
            )
        targets = targets.astype(np.int64)
        if thresholds is not None:
            raise ValueError("thresholds apply to multilabel only; pass thresholds=None")
    else:
        if targets.shape != (n, c) or not np.all((targets == 0) | (targets == 1)):
            raise ValueError(
                f"targets must be a {n}×{c} array of 0/1 for multilabel probs of shape "
                f"{probs.shape}; got shape {targets.shape}"
            )
        targets = targets.astype(bool)
        if thresholds is not None:
            thresholds = np.asarray(thresholds, dtype=np.float64)
            if thresholds.shape != (c,) or not np.all(np.isfinite(thresholds)):
                raise ValueError(
                    f"thresholds must be {c} finite numbers, one per class; got shape "
                    f"{thresholds.shape}"
                )
    if weights is None:
        w = np.ones((1, n))
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != n or w.shape[0] < 1:
            raise ValueError(f"weights must be B×{n} (one row per resample); got shape {w.shape}")
        if not np.all(w >= 0) or not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite non-negative counts")
        if not np.all(w.sum(axis=1) > 0):
            raise ValueError("weights: every row (resample) must weigh at least one image")
    return task, probs, targets, thresholds, w


# ----------------------------------------------------------------------------- helpers


def _mean(w: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted means over images of per-image ``values`` (``N`` or ``N×M``): ``B`` or ``B×M``."""
    return (w @ values) / w.sum(axis=1).reshape((-1,) + (1,) * (values.ndim - 1))


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, 0 where ``den`` is 0 (torchmetrics' zero_division=0)."""
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def _one_hot(index: np.ndarray, c: int) -> np.ndarray:
    return np.arange(c) == index[:, None]


def _target_rank(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each image's target rank (0 = first): the classes with a higher probability, and the tied
    ones with a lower index, come before it."""
    p_target = probs[np.arange(len(targets)), targets][:, None]
    lower_index = np.arange(probs.shape[1]) < targets[:, None]
    return ((probs > p_target) | ((probs == p_target) & lower_index)).sum(axis=1)


def _counts(
    w: np.ndarray, predicted: np.ndarray, truth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted true positives, false positives and false negatives per class: each ``B×C``."""
    c = truth.shape[1]
    stacked = np.concatenate([predicted & truth, predicted & ~truth, ~predicted & truth], axis=1)
    both = w @ stacked.astype(np.float64)
    return both[:, :c], both[:, c : 2 * c], both[:, 2 * c :]


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    return _divide(2 * tp, 2 * tp + fp + fn)


def _average_precision(
    scores: np.ndarray, positive: np.ndarray, image: np.ndarray, w_t: np.ndarray
) -> np.ndarray:
    """Average precision of the pairs (``scores``, ``positive``), pair ``m`` belonging to image
    ``image[m]``, on each resample (``w_t``: the weights transposed, ``N×B``): ``B``.

    One sort by score. Precision is read at the end of each group of tied scores that holds a
    positive (only those gain recall); the pairs before each such end fall into segments, and a
    segment's weighted pairs and positives on every resample come from one sparse (segment ×
    image) count matrix times the weights. Running sums over the segments give the weighted
    pairs and positives above each threshold; AP = sum over the groups of (positives gained /
    all positives) × precision, 0 where a resample has no positive.
    """
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    pos = positive[order]
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # the last pair of each tie group
    group_of = np.repeat(np.arange(len(ends)), np.diff(np.r_[-1, ends]))
    has_pos = np.zeros(len(ends), dtype=bool)
    has_pos[group_of[pos]] = True
    read = ends[has_pos]
    if read.size == 0:  # no positive at all: AP 0 (torchmetrics)
        return np.zeros(w_t.shape[1])
    segment = np.searchsorted(read, np.arange(len(s)))  # == len(read): after the last read
    kept = segment < len(read)
    shape = (len(read), w_t.shape[0])
    columns = image[order]
    pairs = _incidence(segment[kept], columns[kept], shape)
    positives = _incidence(segment[pos], columns[pos], shape)
    seen = np.cumsum(pairs @ w_t, axis=0)
    hits = np.cumsum(positives @ w_t, axis=0)
    gained = np.diff(hits, axis=0, prepend=0.0)
    return _divide((gained * _divide(hits, seen)).sum(axis=0), hits[-1])


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """How many of the pairs (row, col) fall on each cell, as a sparse matrix."""
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)


def _class_ap(probs: np.ndarray, truth: np.ndarray, w: np.ndarray) -> np.ndarray:
    image = np.arange(probs.shape[0])
    w_t = np.ascontiguousarray(w.T)
    return np.stack(
        [_average_precision(probs[:, j], truth[:, j], image, w_t) for j in range(probs.shape[1])],
        axis=1,
    )


# ----------------------------------------------------------------------------- the tasks


def _multiclass(probs: np.ndarray, targets: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    n, c = probs.shape
    rank = _target_rank(probs, targets)
    p_target = np.clip(probs[np.arange(n), targets], EPS, 1 - EPS)
    per_image = np.stack([rank < 1, rank < min(5, c), -np.log(p_target)], axis=1)
    accuracy, top5, log_loss = _mean(w, per_image.astype(np.float64)).T
    truth = _one_hot(targets, c)
    tp, fp, fn = _counts(w, _one_hot(probs.argmax(axis=1), c), truth)
    present = (tp + fp + fn) > 0  # classes in the targets or the predictions
    f1_macro = _divide((_f1(tp, fp, fn) * present).sum(axis=1), present.sum(axis=1))
    return {"accuracy": accuracy, "accuracy_top5": top5, "f1_macro": f1_macro, "log_loss": log_loss}


def _label_ranking_ap(probs: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per image: mean over its labels of (labels scored >= it) / (classes scored >= it)."""
    n, c = probs.shape
    ratio = np.empty(n)
    rows = max(1, _BLOCK // (c * c))
    for start in range(0, n, rows):
        p, t = probs[start : start + rows], truth[start : start + rows]
        at_least = p[:, None, :] >= p[:, :, None]  # [i, j, l]: class l scores >= class j
        rank = at_least.sum(axis=2)
        label_rank = (at_least & t[:, None, :]).sum(axis=2)
        ratio[start : start + rows] = np.where(t, label_rank / rank, 0.0).sum(axis=1)
    n_labels = truth.sum(axis=1)
    trivial = (n_labels == 0) | (n_labels == truth.shape[1])
    return np.where(trivial, 1.0, ratio / np.maximum(n_labels, 1))


def _coverage(probs: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per image: the classes scored at least as high as its lowest-scored label (0: none)."""
    lowest = np.where(truth, probs, np.inf).min(axis=1, keepdims=True)
    return (probs >= lowest).sum(axis=1).astype(np.float64)


def _multilabel(
    probs: np.ndarray, truth: np.ndarray, thresholds: np.ndarray | None, w: np.ndarray
) -> dict[str, np.ndarray]:
    n, c = probs.shape
    at_half = probs > 0.5
    p = np.clip(probs, EPS, 1 - EPS)
    bce = -np.where(truth, np.log(p), np.log1p(-p)).mean(axis=1)
    per_image = np.stack(
        [
            (at_half != truth).mean(axis=1),
            (at_half == truth).all(axis=1),
            _label_ranking_ap(probs, truth),
            _coverage(probs, truth),
            bce,
        ],
        axis=1,
    )
    hamming, subset, lrap, coverage, log_loss = _mean(w, per_image.astype(np.float64)).T
    class_ap = _class_ap(probs, truth, w)
    image = np.repeat(np.arange(n), c)
    micro_ap = _average_precision(probs.ravel(), truth.ravel(), image, np.ascontiguousarray(w.T))
    out = {"map_macro": class_ap.mean(axis=1), "map_micro": micro_ap}
    decisions = [("", at_half)]
    if thresholds is not None:
        decisions.append(("_tuned", probs >= thresholds))
    for suffix, predicted in decisions:
        tp, fp, fn = _counts(w, predicted, truth)
        out["f1_micro" + suffix] = _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
        out["f1_macro" + suffix] = _f1(tp, fp, fn).mean(axis=1)
    out |= {
        "hamming_loss": hamming,
        "subset_accuracy": subset,
        "label_ranking_ap": lrap,
        "coverage_error": coverage,
        "log_loss": log_loss,
    }
    return {name: out[name] for name in _MULTILABEL if name in out}
