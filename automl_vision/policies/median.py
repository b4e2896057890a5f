"""``MedianStoppingPolicy``: stop a trial whose best is worse than the median running average.

At a report count ``n`` that is a multiple of ``evaluation_interval`` and at least
``delay_evaluation``: take every trial that reached report ``n`` (this one included, running,
stopped or finished alike), compute its running average (the mean of its reports ``1..n``) and
the median of those averages (the mean of the two middle ones for an even count). The trial stops
if the best value it reported at ``1..n`` is strictly worse than that median.

A running average that is NaN (the trial reported NaN somewhere in ``1..n``) is left out of the
median; a trial whose report ``n`` is NaN stops. A lone trial never stops (its best is at least as
good as its own average), and neither does the trial holding the best value so far.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from automl_vision.policies.base import Decision
from automl_vision.policies.common import fmt, median
from automl_vision.policies.config import Count, NonNegativeCount
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.interval import IntervalPolicy
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["MedianStoppingPolicy", "running_average"]


def _mean(window: list[float]) -> float:
    if any(math.isnan(v) for v in window):
        return math.nan
    if math.inf in window or -math.inf in window:
        if math.inf in window and -math.inf in window:
            return math.nan
        return math.inf if math.inf in window else -math.inf
    try:
        return math.fsum(window) / len(window)
    except OverflowError:  # finite values whose sum overflows
        return math.fsum(v / len(window) for v in window)


def running_average(values: Sequence[float], n: int) -> float:
    """The mean of reports ``1..n`` (NaN if any of them is NaN, or both infinities occur).

    Clamped to the range of those values, so rounding can never lift the mean above the best
    value (which would let a lone trial with constant values stop itself).
    """
    window = [float(v) for v in values[:n]]
    mean = _mean(window)
    if math.isnan(mean):
        return mean
    return min(max(mean, min(window)), max(window))


class MedianStoppingPolicy(IntervalPolicy):
    """Stop trials whose best so far is worse than the median of all running averages."""

    type_name = "median_stopping"

    evaluation_interval: Count = 1
    delay_evaluation: NonNegativeCount = 5

    def __init__(
        self,
        evaluation_interval: int = 1,
        delay_evaluation: int = 5,
        *,
        schedule_aware: bool = False,
    ) -> None:
        super().__init__(
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
            schedule_aware=schedule_aware,
        )

    def _compare(self, context: PolicyContext) -> Decision:
        n, goal = context.n, context.goal
        best = goal.best(float(v) for v in context.values[:n])
        averages = [running_average(values, n) for values in context.reached(n).values()]
        averages = [a for a in averages if not math.isnan(a)]
        if not averages:
            return Decision(False, f"report {n}: no running average to compare with")
        middle = median(averages)
        counted = f"median of the running averages of {len(averages)} trials at report {n}"
        if goal.is_better(middle, best):
            sign = "<" if goal is PrimaryMetricGoal.MAXIMIZE else ">"
            return Decision(
                True, f"stopped at report {n}: best {fmt(best)} {sign} {fmt(middle)} ({counted})"
            )
        sign = ">=" if goal is PrimaryMetricGoal.MAXIMIZE else "<="
        return Decision(False, f"report {n}: best {fmt(best)} {sign} {fmt(middle)} ({counted})")
