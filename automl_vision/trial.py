"""Shared records of a sweep: the goal, a trial's status, its reports. Pure Python, no torch.

Samplers read a history of ``Trial`` records, policies read the primary-metric values of those
records, and the sweep's store persists them. Nothing here does I/O or uses randomness.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PrimaryMetricGoal", "Report", "Trial", "TrialStatus", "metric_history"]


class PrimaryMetricGoal(str, enum.Enum):
    """Whether the primary metric is to be maximized or minimized (HyperDrive's name)."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def _missing_(cls, value: object) -> PrimaryMetricGoal | None:
        if isinstance(value, str):
            key = value.strip().lower()
            aliases = {"max": cls.MAXIMIZE, "min": cls.MINIMIZE}
            for member in cls:
                if member.value == key:
                    return member
            return aliases.get(key)
        return None

    @classmethod
    def parse(cls, value: PrimaryMetricGoal | str) -> PrimaryMetricGoal:
        """``PrimaryMetricGoal``, or ``"maximize"``/``"MINIMIZE"``/``"max"``/``"min"``."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError(
                f"goal={value!r} is not allowed; goal must be 'maximize' or 'minimize'"
            ) from None

    @property
    def sign(self) -> float:
        """+1 for maximize, -1 for minimize: ``sign * value`` is always 'higher is better'."""
        return 1.0 if self is PrimaryMetricGoal.MAXIMIZE else -1.0

    def is_better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a > b if self is PrimaryMetricGoal.MAXIMIZE else a < b

    def best(self, values: Iterable[float]) -> float:
        """The best of ``values`` (NaN ignored; NaN if none)."""
        finite = [v for v in values if not math.isnan(v)]
        if not finite:
            return math.nan
        return max(finite) if self is PrimaryMetricGoal.MAXIMIZE else min(finite)

    def __str__(self) -> str:
        return self.value


class TrialStatus(str, enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    STOPPED = "STOPPED"  # ended early by the early-termination policy
    FAILED = "FAILED"
    PAUSED = "PAUSED"  # paused at a rung by a promotion policy; may continue when promoted

    @property
    def finished(self) -> bool:
        """Whether the trial has ended (completed, stopped or failed)."""
        return self in (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Report:
    """One report of a running trial: its step (1-based report count or epoch) and metrics."""

    step: int
    value: float  # the primary metric
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass
class Trial:
    """One configuration of a sweep and what became of it.

    ``value`` is the trial's result: the objective's return value (or the final metric of a
    training run) when COMPLETED, the last reported value when STOPPED or PAUSED, None when
    FAILED or still running.
    """

    index: int
    params: dict[str, Any]
    space_index: int = 0
    status: TrialStatus = TrialStatus.QUEUED
    reports: list[Report] = field(default_factory=list)
    value: float | None = None
    error: str | None = None
    stop_reason: str | None = None
    inactive: frozenset[str] = frozenset()
    started_at: float | None = None
    finished_at: float | None = None
    trial_id: str = ""
    artifacts: dict[str, Any] = field(default_factory=dict)  # checkpoint, final metrics, notes
    #: set when the sweep promotes the trial from a pause: its trial function continues a run
    #: that a report stopped (the pause) instead of treating that stop as final
    promoted: bool = False

    def __post_init__(self) -> None:
        if not self.trial_id:
            self.trial_id = f"trial_{self.index:04d}"

    @property
    def values(self) -> list[float]:
        """Primary-metric values in report order (report 1 first)."""
        return [r.value for r in self.reports]

    @property
    def finished(self) -> bool:
        return self.status.finished

    def result(self, goal: PrimaryMetricGoal) -> float | None:
        """The value to rank this trial by: ``value`` if set, else the best report, else None."""
        if self.value is not None and not math.isnan(self.value):
            return self.value
        if self.reports:
            best = goal.best(self.values)
            return None if math.isnan(best) else best
        return None


def metric_history(trials: Sequence[Trial]) -> dict[str, list[float]]:
    """The ``history`` argument of ``Policy.should_stop``: trial id -> values in report order."""
    return {t.trial_id: t.values for t in trials if t.reports}
