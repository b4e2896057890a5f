"""``CurveModel``: a trial's final value predicted, with an interval, from its partial curve.

**Curves on the schedule's axis.** A curve is a trial's reports as (progress, value) pairs, the
progress being the fraction of the trial's own learning-rate schedule done at each report (1 at
its end). Comparing trials at the same progress, not at the same epoch, compares a 20-epoch
trial at epoch 11 with a 100-epoch one at epoch 55: both have decayed their learning rate as
far; at the same epoch, one is nearly done and the other still warming up.

**The model** is learned within the sweep from the curves of its finished trials (each with its
final value: its last report). To predict a trial at progress ``q`` (its latest report), every
finished curve is read at ``q`` (linear interpolation between its reports), giving the features

- ``now``: the value at ``q``;
- ``rise``: the value at ``q`` minus the value at ``q / 2`` (how fast the curve still climbs);
- ``best``: the best value reported up to ``q``;

and a ridge regression of the finished trials' finals on those features (standardized; the
intercept not penalized) gives the prediction for the trial's own features at ``q``. One fit per
prediction, at the queried progress: O(finished trials), a few milliseconds at 300.

**The interval** is split-conformal in spirit: the leave-one-out residuals of the same ridge
(exact, from its hat matrix), their empirical quantiles at ``(1 - level) / 2`` and
``(1 + level) / 2`` with the finite-sample correction (rank ``ceil((k + 1) p)`` of ``k``), added
to the prediction. With too few finished curves for that rank (fewer than 9 for an 80%
interval's ends) the end is infinite: the model does not claim what it cannot know. On held-out
curves of the four shared learning-curve files (tests/curves, 30 finished curves), 80% intervals
cover 81-85% of the true finals.

**Goals.** Values are turned so that higher is better (a minimized metric negated) inside, and
the prediction is given back in the metric's own units and direction: ``low <= mean <= high``
as numbers, whatever the goal.

NaN reports are left out of a curve; a finished curve with no number is not used; a trial whose
latest value is NaN gets no prediction (it diverged: the policies stop it anyway).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from automl_vision.trial import PrimaryMetricGoal

__all__ = ["Curve", "CurveModel", "Prediction"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Curve:
    """A trial's reports on the schedule's axis: ``progress`` (increasing, in (0, 1]) and the
    values reported there, NaN left out."""

    progress: FloatArray
    values: FloatArray

    @classmethod
    def of(cls, progress: Sequence[float], values: Sequence[float]) -> Curve:
        """A curve from reports (same length; NaN values and their progress left out; the
        progress made non-decreasing, so a resumed trial's repeated point is harmless)."""
        p = np.asarray(progress, dtype=float)
        v = np.asarray(values, dtype=float)
        if p.shape != v.shape or p.ndim != 1:
            raise ValueError(
                f"a curve needs as many progress values as values, got {p.shape} and {v.shape}"
            )
        keep = ~(np.isnan(v) | np.isnan(p))
        p, v = np.maximum.accumulate(p[keep]) if keep.any() else p[keep], v[keep]
        return cls(p, v)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def final(self) -> float:
        return float(self.values[-1])


@dataclass(frozen=True)
class Prediction:
    """A trial's predicted final value and its ``level`` interval ``[low, high]``, in the
    metric's units; ``basis``: how many finished curves it was learned from."""

    mean: float
    low: float
    high: float
    level: float
    basis: int

    def describe(self) -> str:
        """``0.712 [0.690, 0.731] (80%, 12 finished)``, for a decision's reason."""
        return (
            f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}] "
            f"({self.level:.0%}, {self.basis} finished)"
        )


def _features(curve: Curve, q: float) -> tuple[float, float, float]:
    """(value at q, value at q minus value at q/2, best value up to q) of an oriented curve."""
    p, v = curve.progress, curve.values
    now = float(np.interp(q, p, v))
    half = float(np.interp(q / 2.0, p, v))
    reached = v[p <= q + 1e-12]
    best = float(reached.max()) if len(reached) else float(v[0])
    return now, now - half, max(best, now)


def _conformal(residuals: FloatArray, level: float) -> tuple[float, float]:
    """The lower and upper ends of a ``level`` split-conformal band of ``residuals``: the
    residuals of ranks ``k + 1 - r`` and ``r`` of ``k`` (sorted), ``r = ceil((k + 1)(1 + level)
    / 2)``; infinite where ``r`` exceeds ``k`` (too few residuals to bound the band)."""
    k = len(residuals)
    rank = math.ceil((k + 1) * (1.0 + level) / 2.0 - 1e-9)
    if rank > k:
        return -math.inf, math.inf
    ordered = np.sort(residuals)
    return float(ordered[k - rank]), float(ordered[rank - 1])


class CurveModel:
    """Predicts final values from partial curves; learned from the finished ``curves``.

    ``goal``: the metric's goal; ``level``: the interval's coverage (0.8: an 80% interval);
    ``ridge``: the penalty on the standardized features; ``min_finished``: fewer finished curves
    than this and ``predict`` answers None (nothing to learn from yet)."""

    def __init__(
        self,
        finished: Sequence[Curve],
        goal: PrimaryMetricGoal | str,
        *,
        level: float = 0.8,
        ridge: float = 1e-2,
        min_finished: int = 3,
    ) -> None:
        if not 0.0 < level < 1.0:
            raise ValueError(f"level={level!r} is not allowed; it must be in (0, 1)")
        if min_finished < 2:
            raise ValueError(f"min_finished={min_finished!r} is not allowed; it must be >= 2")
        if ridge <= 0:
            raise ValueError(f"ridge={ridge!r} is not allowed; it must be > 0")
        self.goal = PrimaryMetricGoal.parse(goal)
        self.level = level
        self.ridge = ridge
        self.min_finished = min_finished
        sign = self.goal.sign
        self.curves = [Curve(c.progress, sign * c.values) for c in finished if len(c)]
        self.finals = np.array([c.final for c in self.curves], dtype=float)

    @property
    def ready(self) -> bool:
        """Whether there are enough finished curves to predict."""
        return len(self.curves) >= self.min_finished

    def predict(self, curve: Curve) -> Prediction | None:
        """The final value of the trial whose curve so far is ``curve`` (non-empty), or None
        when the model is not ready or the curve holds no number."""
        if not self.ready or not len(curve):
            return None
        sign = self.goal.sign
        own = Curve(curve.progress, sign * curve.values)
        q = float(own.progress[-1])
        x = np.array([_features(c, q) for c in self.curves])
        mu, sd = x.mean(axis=0), x.std(axis=0)
        sd = np.where(sd > 1e-12, sd, 1.0)
        a = np.column_stack([np.ones(len(x)), (x - mu) / sd])
        penalty = self.ridge * np.eye(a.shape[1])
        penalty[0, 0] = 0.0
        inverse = np.linalg.pinv(a.T @ a + penalty)
        weights = inverse @ a.T @ self.finals
        hat = np.einsum("ij,jk,ik->i", a, inverse, a)
        residuals = (self.finals - a @ weights) / np.maximum(1.0 - hat, 1e-6)
        z = np.concatenate([[1.0], (np.array(_features(own, q)) - mu) / sd])
        mean = float(z @ weights)
        below, above = _conformal(residuals, self.level)
        low, high = mean + below, mean + above
        if sign < 0:  # back to the metric's direction: the interval's ends swap
            mean, low, high = -mean, -high, -low
        return Prediction(mean, low, high, self.level, len(self.curves))
