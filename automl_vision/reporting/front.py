"""The Pareto front of a finished sweep and the pick within bounds (``TuneResult.pareto_front``,
``TuneResult.select``, ``automl-vision pareto``).

A trial's point is its best evaluation's metrics (``artifacts["metrics"]``), its value as the
primary metric, and its deployment metrics (``artifacts["deployment"]``, recorded by the sweep
when an objective or constraint names one). Only COMPLETED trials count. The objectives and
constraints are the sweep's recorded settings (``settings["objectives"]``, ``["constraints"]``);
a sweep without objectives has one: its primary metric and goal, so its front is its best trial
(ties: the first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from automl_vision.metric_catalog import DEPLOYMENT_METRICS
from automl_vision.pareto import Constraint, Objective, feasible, pareto_front
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus, best_trial

__all__ = [
    "DEPLOYMENT_ARTIFACT",
    "deployment_values",
    "front_trials",
    "select_trial",
    "sweep_constraints",
    "sweep_objectives",
    "trial_point",
]

#: the key of a trial's deployment metrics in its artifacts
DEPLOYMENT_ARTIFACT = "deployment"


def deployment_values(trial: Trial) -> dict[str, float]:
    """A trial's recorded deployment metrics (empty when none were measured)."""
    found = trial.artifacts.get(DEPLOYMENT_ARTIFACT)
    if not isinstance(found, Mapping):
        return {}
    return {
        k: float(v)
        for k, v in found.items()
        if k in DEPLOYMENT_METRICS and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def trial_point(trial: Trial, primary_metric: str) -> dict[str, float]:
    """Every number known of a trial: metrics, the primary metric's value, deployment."""
    point: dict[str, float] = {}
    metrics = trial.artifacts.get("metrics")
    if isinstance(metrics, Mapping):
        point.update({str(k): float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
    if trial.value is not None:
        point[primary_metric] = float(trial.value)
    point.update(deployment_values(trial))
    return point


def sweep_objectives(
    settings: Mapping[str, Any], primary_metric: str, goal: PrimaryMetricGoal
) -> list[Objective]:
    recorded = settings.get("objectives")
    if isinstance(recorded, Mapping) and recorded:
        return [Objective(str(k), v) for k, v in recorded.items()]
    return [Objective(primary_metric, goal)]


def sweep_constraints(settings: Mapping[str, Any]) -> list[Constraint]:
    recorded = settings.get("constraints") or []
    return [Constraint(str(n), float(limit), b) for n, b, limit in recorded]


def _value(point: Mapping[str, float], name: str) -> float:
    return point.get(name, math.nan)


def front_trials(
    trials: Sequence[Trial],
    settings: Mapping[str, Any],
    primary_metric: str,
    goal: PrimaryMetricGoal,
) -> list[Trial]:
    """The completed trials on the Pareto front of the sweep's objectives, among those meeting
    its constraints, in trial order. Single-objective: ``[best trial]`` (or ``[]``)."""
    objectives = sweep_objectives(settings, primary_metric, goal)
    done = [t for t in trials if t.status is TrialStatus.COMPLETED and t.value is not None]
    if len(objectives) == 1 and objectives[0].name == primary_metric:
        best = best_trial(done, goal)
        return [] if best is None else [best]
    points = [trial_point(t, primary_metric) for t in done]
    constraints = sweep_constraints(settings)
    if constraints:
        ok = feasible(
            [{c.name: _value(p, c.name) for c in constraints} for p in points], constraints
        )
        done = [t for t, keep in zip(done, ok, strict=True) if keep]
        points = [p for p, keep in zip(points, ok, strict=True) if keep]
    names = [o.name for o in objectives]
    matrix = [[_value(p, n) for n in names] for p in points]
    return [done[i] for i in pareto_front(matrix, objectives)] if matrix else []


def select_trial(
    trials: Sequence[Trial],
    primary_metric: str,
    goal: PrimaryMetricGoal,
    bounds: Mapping[str, float],
) -> Trial:
    """The completed trial best in the primary metric among those within every bound
    (``latency_ms=10``: at most 10; a metric maximized by nature, ``throughput_ips`` or a
    trainer metric to maximize, is bounded from below). Raises ``ValueError`` naming the
    bounds when no trial qualifies."""
    if not bounds:
        raise ValueError("select() needs at least one bound, e.g. select(latency_ms=10)")
    constraints = []
    for name, limit in bounds.items():
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise ValueError(f"select({name}={limit!r}): a bound must be a number")
        lower = DEPLOYMENT_METRICS.get(name) is PrimaryMetricGoal.MAXIMIZE
        constraints.append(Constraint(name, float(limit), ">=" if lower else "<="))
    done = [t for t in trials if t.status is TrialStatus.COMPLETED and t.value is not None]
    points = [trial_point(t, primary_metric) for t in done]
    ok = (
        feasible([{c.name: _value(p, c.name) for c in constraints} for p in points], constraints)
        if points
        else []
    )
    best = best_trial([t for t, keep in zip(done, ok, strict=True) if keep], goal)
    if best is None:
        said = ", ".join(f"{c.name} {c.bound.value} {c.limit:g}" for c in constraints)
        known = sorted({k for p in points for k in p})
        raise ValueError(
            f"no completed trial meets {said}; the trials' metrics are {known}"
            if points
            else f"no completed trial to select from (bounds {said})"
        )
    return best
