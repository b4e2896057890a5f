"""``TruncationSelectionPolicy``: at each evaluation point, stop the lowest x % of the trials.

At a report count ``n`` that is a multiple of ``evaluation_interval`` and at least
``delay_evaluation``, the trials that reached report ``n`` (this one included; finished trials
too unless ``exclude_finished_jobs``) are ranked by their value at report ``n`` - so a young
trial is never compared with older trials' later values. Of those ``m`` trials, the lowest
``k = floor(m * truncation_percentage / 100)`` are stopped:

- rounding: down, so at most ``truncation_percentage`` % are cut and a trial alone (or with too
  few peers, ``k == 0``) continues; since ``truncation_percentage <= 99``, ``k <= m - 1``.
- ties: in the trial's favour. It stops only if at least ``m - k`` trials are strictly better at
  report ``n`` (NaN ranks last and is never better); trials tied at the cut-off all continue.

So the trial with the best value at report ``n`` is never stopped.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from automl_vision.policies.base import Decision
from automl_vision.policies.common import count_better, fmt, kth_best, ordinal
from automl_vision.policies.config import Count, Flag, NonNegativeCount, integer
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.interval import IntervalPolicy

__all__ = ["TruncationSelectionPolicy", "truncation_count"]


def _percentage(value: object) -> int:
    try:
        number = integer(value, 1)
    except ValueError:
        number = 0
    if not 1 <= number <= 99:
        raise ValueError(f"must be an integer in [1, 99], got {value!r}")
    return number


Percentage = Annotated[int, BeforeValidator(_percentage)]


def truncation_count(trials: int, truncation_percentage: int) -> int:
    """How many of ``trials`` are cut: ``floor(trials * truncation_percentage / 100)``."""
    return trials * truncation_percentage // 100


class TruncationSelectionPolicy(IntervalPolicy):
    """Stop the lowest ``truncation_percentage`` % of trials at each evaluation point."""

    type_name = "truncation_selection"

    truncation_percentage: Percentage
    evaluation_interval: Count = 1
    delay_evaluation: NonNegativeCount = 0
    exclude_finished_jobs: Flag = False

    def __init__(
        self,
        truncation_percentage: int,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
        *,
        schedule_aware: bool = False,
    ) -> None:
        super().__init__(
            truncation_percentage=truncation_percentage,
            evaluation_interval=evaluation_interval,
            delay_evaluation=delay_evaluation,
            exclude_finished_jobs=exclude_finished_jobs,
            schedule_aware=schedule_aware,
        )

    def _compare(self, context: PolicyContext) -> Decision:
        n, value = context.n, context.value
        excluded = set(context.finished) if self.exclude_finished_jobs else set()
        excluded.discard(context.trial_id)
        at_n = [
            float(values[n - 1])
            for other, values in context.reached(n).items()
            if other not in excluded
        ]
        m = len(at_n)
        k = truncation_count(m, self.truncation_percentage)
        pool = f"{m} trial{'s' if m != 1 else ''} at report {n}"
        if k == 0:
            return Decision(
                False,
                f"report {n}: {self.truncation_percentage}% of {pool} rounds down to 0 to stop",
            )
        cutoff = kth_best(at_n, m - k, context.goal)
        better = count_better(value, at_n, context.goal)
        where = (
            f"cut-off = the {ordinal(m - k)} best of {pool}; "
            f"the lowest {self.truncation_percentage}% = {k} trial{'s' if k != 1 else ''} stop"
        )
        if better >= m - k:
            return Decision(
                True, f"stopped at report {n}: {fmt(value)} is worse than {fmt(cutoff)} ({where})"
            )
        return Decision(
            False, f"report {n}: {fmt(value)} is not worse than {fmt(cutoff)} ({where})"
        )
