"""A direct ask/evaluate loop for sampler tests (no scheduler involved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automl_vision.sampling import Sampler
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus


def completed(index: int, params: dict[str, Any], value: float, space_index: int = 0) -> Trial:
    return Trial(index, dict(params), space_index, TrialStatus.COMPLETED, value=value)


def run_loop(
    sampler: Sampler,
    objective: Callable[[dict[str, Any]], float],
    n_trials: int,
    goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
    history: list[Trial] | None = None,
) -> list[Trial]:
    """Ask, evaluate and record ``n_trials`` times (stops early when the sampler is done)."""
    history = list(history or [])
    for _ in range(n_trials):
        suggestion = sampler.ask(history, goal)
        if suggestion is None:
            break
        value = objective(suggestion.params)
        history.append(completed(len(history), suggestion.params, value, suggestion.space_index))
    return history


def best_value(history: list[Trial], goal: PrimaryMetricGoal | str) -> float:
    return PrimaryMetricGoal.parse(goal).best(t.value for t in history if t.value is not None)
