"""``IntervalPolicy``: the rule Bandit, MedianStopping and TruncationSelection share.

Their evaluation points are the report counts that are multiples of ``evaluation_interval`` and
at least ``delay_evaluation`` (each policy declares the two fields with its own defaults). At any
other report a trial continues; at a point a NaN value stops it, and a number is judged by the
policy's own ``_compare``.
"""

from __future__ import annotations

import abc
import math

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.policies.common import is_evaluation_point, schedule_points
from automl_vision.policies.config import Flag, PolicyConfig
from automl_vision.policies.context import PolicyContext

__all__ = ["IntervalPolicy"]


class IntervalPolicy(PolicyConfig, EarlyTerminationPolicy):
    """A policy judged at every ``evaluation_interval``-th report from ``delay_evaluation`` on."""

    evaluation_interval: int
    delay_evaluation: int
    schedule_aware: Flag = False

    def evaluation_points(self, max_reports: int) -> list[int]:
        return schedule_points(max_reports, self.evaluation_interval, self.delay_evaluation)

    def _is_point(self, trial_id: str, n: int) -> bool:
        return is_evaluation_point(n, self.evaluation_interval, self.delay_evaluation)

    def rule(self, context: PolicyContext) -> Decision:
        n = context.n
        if not self._is_point(context.trial_id, context.point):
            return Decision(
                False,
                f"report {n} is not an evaluation point (evaluation_interval="
                f"{self.evaluation_interval}, delay_evaluation={self.delay_evaluation})",
            )
        if math.isnan(context.value):
            return Decision(True, f"stopped at report {n}: the value is NaN")
        return self._compare(context)

    @abc.abstractmethod
    def _compare(self, context: PolicyContext) -> Decision:
        """The decision at report ``context.n``, judged as an evaluation point, for a trial
        whose value there is a number."""
