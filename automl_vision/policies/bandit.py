"""``BanditPolicy``: stop a trial that falls too far behind the best value reported so far.

At a report count ``n`` that is a multiple of ``evaluation_interval`` and at least
``delay_evaluation``, let ``best`` be the best value any trial reported at reports ``1..n``
(this trial included, NaN ignored) and ``value`` the trial's report ``n``:

- ``slack_factor`` s, maximize: stop if ``value < best / (1 + s)``;
  minimize: stop if ``value > best * (1 + s)``.
- ``slack_amount`` a, maximize: stop if ``value < best - a``; minimize: ``value > best + a``.

Example: slack_factor 0.2, best 0.8: a trial at 0.66 stops (0.66 < 0.8 / 1.2 = 0.6667).

The slack_factor formulas above are HyperDrive's and hold for metrics >= 0 (accuracy, loss, IoU).
For a negative ``best`` the same ratio is applied to magnitudes, so that the allowed region always
lies on the worse side of ``best``: maximize stops below ``best * (1 + s)`` and minimize above
``best / (1 + s)``. Hence the best trial is never stopped, and negating every value while
flipping the goal gives the same decisions.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, model_validator

from automl_vision.policies.base import Decision
from automl_vision.policies.common import fmt
from automl_vision.policies.config import Count, NonNegativeCount, real
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.interval import IntervalPolicy
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["BanditPolicy", "bandit_threshold"]


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be > 0, got {value}")
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


SlackFactor = Annotated[float, BeforeValidator(real), AfterValidator(_positive)]
SlackAmount = Annotated[float, BeforeValidator(real), AfterValidator(_non_negative)]


def bandit_threshold(
    best: float,
    goal: PrimaryMetricGoal,
    *,
    slack_factor: float | None = None,
    slack_amount: float | None = None,
) -> tuple[float, str]:
    """The worst value that still continues, and the formula that gives it (for the reason)."""
    maximize = goal is PrimaryMetricGoal.MAXIMIZE
    if slack_amount is not None:
        if maximize:
            return best - slack_amount, f"{fmt(best)} - {fmt(slack_amount)}"
        return best + slack_amount, f"{fmt(best)} + {fmt(slack_amount)}"
    if slack_factor is None:
        raise ValueError("bandit_threshold needs slack_factor or slack_amount")
    factor = 1.0 + slack_factor
    # maximize divides a non-negative best, minimize multiplies it (HyperDrive); on the other
    # side of zero the roles swap so the threshold stays on the worse side of best
    divide = (best >= 0) == maximize
    if divide:
        return best / factor, f"{fmt(best)} / (1 + {fmt(slack_factor)})"
    return best * factor, f"{fmt(best)} * (1 + {fmt(slack_factor)})"


class BanditPolicy(IntervalPolicy):
    """Stop trials whose value falls outside a slack (factor or amount) of the best so far."""

    type_name = "bandit"

    evaluation_interval: Count = 1
    slack_factor: SlackFactor | None = None
    slack_amount: SlackAmount | None = None
    delay_evaluation: NonNegativeCount = 0

    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
        *,
        schedule_aware: bool = False,
    ) -> None:
        super().__init__(
            evaluation_interval=evaluation_interval,
            slack_factor=slack_factor,
            slack_amount=slack_amount,
            delay_evaluation=delay_evaluation,
            schedule_aware=schedule_aware,
        )

    @model_validator(mode="after")
    def _exactly_one_slack(self) -> Any:
        if (self.slack_factor is None) == (self.slack_amount is None):
            given = "both" if self.slack_factor is not None else "neither"
            raise ValueError(
                f"exactly one of slack_factor and slack_amount must be set, got {given}"
            )
        return self

    def _compare(self, context: PolicyContext) -> Decision:
        n, value, goal = context.n, context.value, context.goal
        best = goal.best(float(v) for values in context.history.values() for v in values[:n])
        threshold, formula = bandit_threshold(
            best, goal, slack_factor=self.slack_factor, slack_amount=self.slack_amount
        )
        maximize = goal is PrimaryMetricGoal.MAXIMIZE
        if value < threshold if maximize else value > threshold:
            sign = "<" if maximize else ">"
            return Decision(
                True,
                f"stopped at report {n}: {fmt(value)} {sign} {formula} = {fmt(threshold)} "
                f"(best of all trials up to report {n} = {fmt(best)})",
            )
        sign = ">=" if maximize else "<="
        return Decision(
            False,
            f"report {n}: within slack, {fmt(value)} {sign} {formula} = {fmt(threshold)} "
            f"(best of all trials up to report {n} = {fmt(best)})",
        )
