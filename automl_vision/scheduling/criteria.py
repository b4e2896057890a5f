"""Stop criteria of a whole sweep, besides max_trials (as SageMaker and Syne Tune offer).

Each criterion is a small callable ``(trials, goal, elapsed_seconds) -> reason | None``; the
first one that returns a reason ends the sweep: no new trials start and running ones stop at
their next report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["MaxConsecutiveFailures", "NoImprovement", "StopCriterion", "TargetValue", "Timeout"]


class StopCriterion(Protocol):
    def __call__(
        self, trials: Sequence[Trial], goal: PrimaryMetricGoal, elapsed: float
    ) -> str | None: ...


def _ranked(trials: Sequence[Trial]) -> list[Trial]:
    """Finished trials with a value, in the order they finished."""
    done = [t for t in trials if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)]
    done = [t for t in done if t.value is not None and not math.isnan(t.value)]
    return sorted(done, key=lambda t: (t.finished_at or 0.0, t.index))


@dataclass(frozen=True)
class Timeout:
    """End the sweep after ``seconds`` of wall time (simulated time for simulated runs)."""

    seconds: float

    def __call__(
        self, trials: Sequence[Trial], goal: PrimaryMetricGoal, elapsed: float
    ) -> str | None:
        if elapsed >= self.seconds:
            return f"timeout: {elapsed:.0f} s >= {self.seconds:.0f} s"
        return None


@dataclass(frozen=True)
class TargetValue:
    """End the sweep once a trial's value reaches ``target`` (>= to maximize, <= to minimize)."""

    target: float

    def __call__(
        self, trials: Sequence[Trial], goal: PrimaryMetricGoal, elapsed: float
    ) -> str | None:
        for t in _ranked(trials):
            assert t.value is not None
            if t.value == self.target or goal.is_better(t.value, self.target):
                op = ">=" if goal is PrimaryMetricGoal.MAXIMIZE else "<="
                return f"target reached: {t.trial_id} has {t.value:.6g} {op} {self.target:.6g}"
        return None


@dataclass(frozen=True)
class NoImprovement:
    """End the sweep when the last ``trials`` finished trials improved the best too little.

    The improvement is relative to the best value before them: with the default 0.01, the
    sweep ends when the last N trials did not improve the best by at least 1%.
    """

    trials: int
    min_improvement: float = 0.01

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError(f"no-improvement window must be >= 1 trial, got {self.trials}")
        if self.min_improvement < 0:
            raise ValueError(f"min_improvement must be >= 0, got {self.min_improvement}")

    def __call__(
        self, trials: Sequence[Trial], goal: PrimaryMetricGoal, elapsed: float
    ) -> str | None:
        done = _ranked(trials)
        if len(done) <= self.trials:
            return None
        before = goal.best(t.value for t in done[: -self.trials] if t.value is not None)
        after = goal.best(t.value for t in done if t.value is not None)
        gain = goal.sign * (after - before) / max(abs(before), 1e-12)
        if gain < self.min_improvement:
            return (
                f"no improvement of at least {self.min_improvement:.0%} in the last {self.trials} "
                f"trials (best {before:.6g} -> {after:.6g})"
            )
        return None


@dataclass(frozen=True)
class MaxConsecutiveFailures:
    """End the sweep when the last ``count`` finished trials all failed."""

    count: int = 5

    def __call__(
        self, trials: Sequence[Trial], goal: PrimaryMetricGoal, elapsed: float
    ) -> str | None:
        ended = sorted(
            (t for t in trials if t.finished), key=lambda t: (t.finished_at or 0.0, t.index)
        )
        last = ended[-self.count :]
        if (
            self.count > 0
            and len(last) == self.count
            and all(t.status is TrialStatus.FAILED for t in last)
        ):
            return f"{self.count} consecutive trials failed; last error: {last[-1].error}"
        return None
