# STAND-IN for issue 29 piece C: replaced at merge
"""Test-set metrics with bootstrap weights (stand-in: a few metrics, plain numpy)."""

from __future__ import annotations

import numpy as np

from automl_vision.data.task import Task
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["bootstrap_weights", "metric_goal", "metric_names", "per_class", "score"]

_MIN = {"log_loss", "hamming_loss", "coverage_error"}
_EPS = 1e-7


def metric_names(task: Task) -> tuple[str, ...]:
    if task is Task.MULTICLASS:
        return ("accuracy", "f1_macro", "log_loss")
    return ("map_macro", "f1_micro", "f1_macro", "f1_micro_tuned", "f1_macro_tuned",
            "hamming_loss", "subset_accuracy", "log_loss")  # fmt: skip


def metric_goal(name: str) -> PrimaryMetricGoal:
    return PrimaryMetricGoal.MINIMIZE if name in _MIN else PrimaryMetricGoal.MAXIMIZE


def bootstrap_weights(n_images: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    return rng.multinomial(n_images, np.full(n_images, 1.0 / n_images), size=n_boot).astype(float)


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    return np.ones((1, n)) if weights is None else np.asarray(weights, dtype=float)


def _onehot(task: Task, targets: np.ndarray, c: int) -> np.ndarray:
    if task is Task.MULTICLASS:
        return np.eye(c)[np.asarray(targets, dtype=np.int64)]
    return np.asarray(targets, dtype=float)


def _f1(pred: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tp = w @ (pred * y)
    fp = w @ (pred * (1 - y))
    fn = w @ ((1 - pred) * y)
    per = 2 * tp / np.maximum(2 * tp + fp + fn, _EPS)
    micro = 2 * tp.sum(1) / np.maximum((2 * tp + fp + fn).sum(1), _EPS)
    return per, micro


def _ap(probs: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.zeros((w.shape[0], probs.shape[1]))
    for c in range(probs.shape[1]):
        order = np.argsort(-probs[:, c], kind="stable")
        yc, wc = y[order, c], w[:, order]
        hits = np.cumsum(wc * yc, axis=1)
        seen = np.maximum(np.cumsum(wc, axis=1), _EPS)
        pos = np.maximum(hits[:, -1], _EPS)
        out[:, c] = (wc * yc * hits / seen).sum(1) / pos
    return out


def per_class(task, probs, targets, thresholds=None, weights=None) -> dict[str, np.ndarray]:
    probs = np.asarray(probs, dtype=float)
    y = _onehot(task, targets, probs.shape[1])
    w = _weights(weights, len(probs))
    if task is Task.MULTICLASS:
        pred = np.eye(probs.shape[1])[probs.argmax(1)]
    else:
        t = 0.5 if thresholds is None else np.asarray(thresholds)[None, :]
        pred = (probs >= t).astype(float)
    return {"ap": _ap(probs, y, w), "f1": _f1(pred, y, w)[0]}


def score(task, probs, targets, thresholds=None, weights=None) -> dict[str, np.ndarray]:
    probs = np.asarray(probs, dtype=float)
    y = _onehot(task, targets, probs.shape[1])
    w = _weights(weights, len(probs))
    total = w.sum(1)
    p = np.clip(probs, _EPS, 1 - _EPS)
    if task is Task.MULTICLASS:
        pred = np.eye(probs.shape[1])[probs.argmax(1)]
        return {
            "accuracy": (w @ (pred * y).sum(1)) / total,
            "f1_macro": _f1(pred, y, w)[0].mean(1),
            "log_loss": (w @ -(y * np.log(p)).sum(1)) / total,
        }
    out: dict[str, np.ndarray] = {"map_macro": _ap(probs, y, w).mean(1)}
    pred = (probs >= 0.5).astype(float)
    per, micro = _f1(pred, y, w)
    out |= {"f1_micro": micro, "f1_macro": per.mean(1)}
    if thresholds is not None:
        tuned = (probs >= np.asarray(thresholds)[None, :]).astype(float)
        per_t, micro_t = _f1(tuned, y, w)
        out |= {"f1_micro_tuned": micro_t, "f1_macro_tuned": per_t.mean(1)}
    out["hamming_loss"] = (w @ (pred != y).mean(1)) / total
    out["subset_accuracy"] = (w @ (pred == y).all(1)) / total
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(1)
    out["log_loss"] = (w @ bce) / total
    return out
