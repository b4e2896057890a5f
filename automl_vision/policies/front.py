"""``FrontAwarePolicy``: early termination for a sweep with several objectives, one of them
trained (the primary metric, e.g. accuracy) and the others known before the trial trains (its
deployment metrics: latency, size).

A policy on the primary metric alone stops a trial that is behind on accuracy, even when it is
four times faster than every trial ahead of it: exactly the trial a user tuning for deployment
may want. ``FrontAwarePolicy`` wraps that policy (``inner``: Bandit, median, truncation,
Hyperband/ASHA, with all their options) and stops a trial only when both hold at its report
``n``:

1. ``inner`` would stop (or pause) it, judging the primary metric as it always does; and
2. another trial **dominates it by the same report**: that trial's best value over its reports
   ``1..n`` and its known objectives are each at least as good as the judged trial's value at
   report ``n`` and its known objectives, one strictly better (``pareto.dominated_by``; each
   objective's goal respected). As in Bandit's "best up to report ``n``", a trial behind in
   reports counts with what it has reached so far: it got there with no more training, and a
   trial running ahead of the others is judged too. A later report of another trial never
   counts (it had more training).

Otherwise the trial continues: no trial that is ahead on accuracy at this report is also at least
as fast and as small, so it may still end on the Pareto front. Every decision says why: a stop
names the dominating trial and both trials' numbers; a kept trial says what ``inner`` would have
done.

The other cases follow ``inner`` unchanged: a decision to continue; a judged trial whose value at
report ``n`` is NaN (a diverged trial is on no front) or whose known objectives are missing or NaN
(nothing to compare). Trials without known objectives, or with only NaN by report ``n``, never
dominate.
Pauses keep ``inner``'s pause; promotions, evaluation points, judging windows and
``schedule_aware`` are ``inner``'s. Like every policy it is a pure function of the
``PolicyContext``: ``context.known`` holds each trial's known objectives (the scheduler fills it
from the sweep's deployment measurement).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from automl_vision.pareto import Objective, dominated_by, parse_objectives
from automl_vision.policies.base import Decision, EarlyTerminationPolicy, Promotion
from automl_vision.policies.common import fmt
from automl_vision.policies.context import PolicyContext

__all__ = ["FrontAwarePolicy"]


class FrontAwarePolicy(EarlyTerminationPolicy):
    """``inner``'s stops, kept only for trials another trial dominates at the same report.

    ``objectives``: the trained metric first (the primary metric the histories hold), then the
    objectives known before training (names looked up in ``context.known``)."""

    def __init__(
        self, inner: EarlyTerminationPolicy, objectives: Sequence[Objective] | dict[str, str]
    ) -> None:
        if isinstance(inner, FrontAwarePolicy):
            raise ValueError("FrontAwarePolicy: inner is already front-aware")
        parsed = parse_objectives(objectives)
        if len(parsed) < 2:
            raise ValueError(
                f"FrontAwarePolicy: objectives={[o.name for o in parsed]} is not allowed; it "
                "needs the trained metric and at least one objective known before training"
            )
        self.inner = inner
        self.objectives: tuple[Objective, ...] = parsed

    def __repr__(self) -> str:
        names = ", ".join(f"{o.name} ({o.goal.value})" for o in self.objectives)
        return f"FrontAwarePolicy({self.inner!r}, [{names}])"

    @property
    def schedule_aware(self) -> bool:
        """Whether ``inner`` judges each trial by its learning-rate schedule."""
        return bool(getattr(self.inner, "schedule_aware", False))

    def to_dict(self) -> dict[str, object]:
        """``inner``'s YAML/dict form, with the objectives it is made front-aware over."""
        to_dict = getattr(self.inner, "to_dict", None)
        base = to_dict() if callable(to_dict) else {"type": type(self.inner).__name__}
        return {**base, "front_aware": [o.name for o in self.objectives]}

    # -- decisions -----------------------------------------------------------------------------
    def judge(self, context: PolicyContext) -> Decision:
        """``inner``'s decision (its judging windows included), a stop kept only when another
        trial dominates the judged one at its latest report."""
        return self._on_front(context, self.inner.judge(context))

    def rule(self, context: PolicyContext) -> Decision:
        return self._on_front(context, self.inner.rule(context))

    def evaluation_points(self, max_reports: int) -> list[int]:
        return self.inner.evaluation_points(max_reports)

    def judge_paused(
        self, paused: Collection[str], context: PolicyContext, *, closing: bool = False
    ) -> Promotion | None:
        return self.inner.judge_paused(paused, context, closing=closing)

    def _on_front(self, context: PolicyContext, decision: Decision) -> Decision:
        """``decision`` (``inner``'s) where it continues or nothing can be compared; else the
        stop with the trial that dominates, or a continue saying what ``inner`` would do."""
        n = context.n
        if not decision.stop or n == 0:
            return decision
        own = self._row(context, context.trial_id, n)
        if own is None:
            return decision
        ids = [context.trial_id]
        rows = [own]
        for trial_id in context.history:
            row = self._row(context, trial_id, n) if trial_id != context.trial_id else None
            if row is not None:
                ids.append(trial_id)
                rows.append(row)
        winner = dominated_by(0, np.array(rows), self.objectives)
        if winner is None:
            return Decision(
                False,
                f"report {n}: kept, no trial dominates it by report {n} "
                f"({self._numbers(own)}): it may end on the Pareto front; "
                f"{self.objectives[0].name} alone would stop it: {decision.reason}",
            )
        return Decision(
            True,
            f"{decision.reason}; dominated by {ids[winner]!r} (by report {n}: "
            f"{self._numbers(rows[winner])}; this trial: {self._numbers(own)})",
            pause=decision.pause,
        )

    def _row(self, context: PolicyContext, trial_id: str, n: int) -> list[float] | None:
        """The judged trial's value at report ``n`` (another trial's best over reports
        ``1..n``) and its known objectives, or None where any is missing or NaN (such a trial is
        neither judged by the front nor dominates)."""
        values = context.history.get(trial_id, ())
        known = context.known.get(trial_id)
        if not values or known is None:
            return None
        if trial_id == context.trial_id:
            value = float(values[n - 1])
        else:
            value = context.goal.best(float(v) for v in values[:n])
        row = [value]
        for objective in self.objectives[1:]:
            value = known.get(objective.name)
            if value is None:
                return None
            row.append(float(value))
        return None if any(math.isnan(v) for v in row) else row

    def _numbers(self, row: Sequence[float]) -> str:
        return ", ".join(f"{o.name} {fmt(v)}" for o, v in zip(self.objectives, row, strict=True))
