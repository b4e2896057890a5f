"""``CurvePolicy``: stop a trial when where its curve is going cannot beat the best finished
trial, judged on the schedule's axis.

At every report of a trial (NaN stops it, as everywhere), the finished trials' curves and the
trial's own are put on the schedule's axis (each report's ``progress``: the fraction of the
trial's own learning-rate schedule done; where reports carry none, report ``n`` of a trial is at
``n / max_resource``, or ``n`` over the longest curve seen when ``max_resource`` is not given),
and a ``CurveModel`` (``curves/model.py``) learned from the finished curves predicts the trial's
final value with a ``level`` interval. The trial stops when even the interval's better end
(``high`` for a maximized metric, ``low`` for a minimized one) is strictly worse than the best
final value of the finished trials: it is confidently not going to matter. Otherwise it goes on.

With fewer than ``min_finished`` finished trials nothing is predicted and nothing is stopped
(the reason says how many there are). A trial in its warm-up is judged like any other: its low
early values count only through the model, which has learned from the finished trials what
such values at such a progress went on to become; the reason gives the prediction, its interval
and the progress it was made at.

``level=0.8`` and ``min_finished=3`` are the defaults (see benchmarks/RESULTS.md, "schedules").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from automl_vision.curves import Curve, CurveModel
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.policies.common import fmt
from automl_vision.policies.config import PolicyConfig, integer, real
from automl_vision.policies.context import PolicyContext
from automl_vision.trial import PrimaryMetricGoal, Report

__all__ = ["CurvePolicy"]


def _level(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"must be in (0, 1), got {value}")
    return value


Level = Annotated[float, BeforeValidator(real), AfterValidator(_level)]
MinFinished = Annotated[int, BeforeValidator(lambda v: integer(v, 2))]
MaxResource = Annotated[int | None, BeforeValidator(lambda v: v if v is None else integer(v, 1))]


class CurvePolicy(PolicyConfig, EarlyTerminationPolicy):
    """Stop a trial whose predicted final value (``level`` interval) cannot beat the best
    finished trial's."""

    type_name = "curve"

    level: Level = 0.8
    min_finished: MinFinished = 3
    max_resource: MaxResource = None

    def __init__(
        self, level: float = 0.8, min_finished: int = 3, max_resource: int | None = None
    ) -> None:
        super().__init__(level=level, min_finished=min_finished, max_resource=max_resource)

    def rule(self, context: PolicyContext) -> Decision:
        n, value, goal = context.n, context.value, context.goal
        if math.isnan(value):
            return Decision(True, f"stopped at report {n}: the value is NaN")
        finished = [t for t in context.finished if t != context.trial_id and t in context.history]
        if len(finished) < self.min_finished:
            return Decision(
                False,
                f"report {n}: {len(finished)} of the {self.min_finished} finished trials the "
                "curve model needs",
            )
        longest = max(len(context.history[t]) for t in (*finished, context.trial_id))
        curves = [self._curve(context, t, longest) for t in finished]
        model = CurveModel(curves, goal, level=self.level, min_finished=self.min_finished)
        own = self._curve(context, context.trial_id, longest)
        prediction = model.predict(own)
        if prediction is None:  # the finished curves hold no number
            return Decision(False, f"report {n}: nothing to predict from")
        best = goal.best(c.final for c in curves if len(c))
        reach = prediction.high if goal is PrimaryMetricGoal.MAXIMIZE else prediction.low
        at = f"at progress {fmt(float(own.progress[-1]))}" if len(own) else ""
        said = f"predicted final {prediction.describe()} {at}"
        if not math.isnan(best) and goal.is_better(best, reach):
            return Decision(
                True,
                f"stopped at report {n}: {said} cannot reach the best finished trial's {fmt(best)}",
            )
        return Decision(False, f"report {n}: {said} may reach the best finished {fmt(best)}")

    def _curve(self, context: PolicyContext, trial_id: str, longest: int) -> Curve:
        values = context.history[trial_id]
        reports = context.reports.get(trial_id, ())
        return Curve.of(self._progress(reports, len(values), longest), values)

    def _progress(self, reports: Sequence[Report], count: int, longest: int) -> list[float]:
        """Each report's progress: as reported, else ``n / max_resource`` (or over the longest
        curve seen)."""
        total = self.max_resource or longest
        given = [r.progress for r in reports] if len(reports) == count else [None] * count
        return [p if p is not None else (i + 1) / total for i, p in enumerate(given)]
