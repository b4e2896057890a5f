"""Decision maths shared by the policies: module-level pure functions, no state.

Conventions used by every policy:

- ``n`` is a report count (1-based): report ``n`` is ``values[n - 1]``.
- NaN is "no number": it never counts as better than anything, it is left out of bests and
  medians, and a trial whose latest value is NaN at one of its policy's evaluation points is
  stopped (a diverged trial cannot be the best one).
- Comparisons are strict: a value equal to a threshold or a cutoff continues.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "count_better",
    "fmt",
    "is_evaluation_point",
    "kth_best",
    "median",
    "ordinal",
    "schedule_points",
    "worse",
]


def is_evaluation_point(n: int, evaluation_interval: int, delay_evaluation: int) -> bool:
    """Whether report count ``n`` is a multiple of the interval and at least the delay."""
    return n >= 1 and n % evaluation_interval == 0 and n >= delay_evaluation


def schedule_points(max_reports: int, evaluation_interval: int, delay_evaluation: int) -> list[int]:
    """The report counts in ``1..max_reports`` that ``is_evaluation_point`` accepts."""
    return [
        n
        for n in range(1, max_reports + 1)
        if is_evaluation_point(n, evaluation_interval, delay_evaluation)
    ]


def worse(a: float, b: float, goal: PrimaryMetricGoal) -> bool:
    """Whether ``a`` is strictly worse than ``b``; NaN is worse than any number."""
    if math.isnan(a):
        return not math.isnan(b)
    if math.isnan(b):
        return False
    return goal.is_better(b, a)


def count_better(value: float, others: Iterable[float], goal: PrimaryMetricGoal) -> int:
    """How many of ``others`` are strictly better than ``value`` (NaN is never better)."""
    return sum(1 for other in others if worse(value, other, goal))


def kth_best(values: Sequence[float], k: int, goal: PrimaryMetricGoal) -> float:
    """The ``k``-th best of ``values`` (1-based), NaN ranked last."""

    def rank_key(v: float) -> tuple[bool, float]:
        return (True, 0.0) if math.isnan(v) else (False, -goal.sign * v)

    return sorted(values, key=rank_key)[k - 1]


def median(values: Sequence[float]) -> float:
    """The median (mean of the two middle values for an even count); NaN if empty."""
    ordered = sorted(values)
    size = len(ordered)
    if size == 0:
        return math.nan
    mid = size // 2
    if size % 2:
        return ordered[mid]
    low, high = ordered[mid - 1], ordered[mid]
    middle = (low + high) / 2.0
    if math.isinf(middle) and math.isfinite(low) and math.isfinite(high):
        return low / 2.0 + high / 2.0  # the sum overflowed
    return middle


_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def ordinal(k: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th' (for the reasons in the log)."""
    suffix = "th" if 10 <= k % 100 <= 20 else _SUFFIXES.get(k % 10, "th")
    return f"{k}{suffix}"


def fmt(value: float) -> str:
    """A number as it appears in a decision's reason (six significant digits)."""
    return f"{value:.6g}"
