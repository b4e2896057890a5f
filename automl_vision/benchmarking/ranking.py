"""Which configurations of a sweep are retrained, and which one a cell reports.

``top_trials``: the sweep's trials with a value ranked by its primary metric and goal,
COMPLETED trials (trained their whole budget) before STOPPED ones (ended early by the policy;
their value is from fewer epochs), ties to the earlier trial, one trial per configuration
(the ``random_seed`` a search space may set does not make another configuration).

``select_rank``: with ``retrain_on=train`` the configuration whose retrained models have the
best mean validation value over the seeds (ties to the better tuning rank); with
``train_validation`` the validation images are inside the final models' training data, so
nothing is selected on them: rank 1, the sweep's best.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from automl_vision.benchmarking.spec import RetrainOn
from automl_vision.sampling.configs import config_key
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["select_rank", "top_trials"]


def top_trials(trials: Sequence[Trial], goal: PrimaryMetricGoal, k: int) -> list[Trial]:
    """The best ``k`` distinct configurations, best first (fewer when the sweep has fewer)."""
    candidates = [
        t
        for t in trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and t.value is not None
        and math.isfinite(t.value)
    ]
    candidates.sort(
        key=lambda t: (t.status is not TrialStatus.COMPLETED, -goal.sign * t.value, t.index)  # type: ignore[operator]
    )
    chosen: list[Trial] = []
    seen = set()
    for trial in candidates:
        key = config_key({n: v for n, v in trial.params.items() if n != "random_seed"})
        if key in seen:
            continue
        seen.add(key)
        chosen.append(trial)
        if len(chosen) == k:
            break
    return chosen


def select_rank(
    validation: Mapping[int, Sequence[float | None]],
    goal: PrimaryMetricGoal,
    retrain_on: RetrainOn,
) -> int:
    """The rank a cell reports, from each rank's validation values of its seeds' models."""
    if retrain_on is RetrainOn.TRAIN_VALIDATION:
        return 1
    best_rank, best = 1, -math.inf
    for rank in sorted(validation):
        values = [v for v in validation[rank] if v is not None and math.isfinite(v)]
        if not values:
            continue
        score = goal.sign * sum(values) / len(values)
        if score > best:
            best_rank, best = rank, score
    return best_rank
