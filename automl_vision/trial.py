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

from automl_vision.enums import ChoiceEnum

__all__ = [
    "PrimaryMetricGoal",
    "Report",
    "TrainingProgress",
    "Trial",
    "TrialStatus",
    "Verdict",
    "metric_history",
]


class PrimaryMetricGoal(ChoiceEnum):
    """Whether the primary metric is to be maximized or minimized (HyperDrive's name)."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def _aliases(cls) -> dict[str, PrimaryMetricGoal]:
        return {"max": cls.MAXIMIZE, "min": cls.MINIMIZE}

    @classmethod
    def _allowed_text(cls) -> str:
        return "'maximize' or 'minimize'"

    @classmethod
    def parse(  # type: ignore[override]
        cls, value: PrimaryMetricGoal | str, field: str = "goal", hint: str = ""
    ) -> PrimaryMetricGoal:
        """``PrimaryMetricGoal``, or ``"maximize"``/``"MINIMIZE"``/``"max"``/``"min"``."""
        return super().parse(value, field, hint)

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


class Verdict(enum.IntEnum):
    """The sweep's answer to a trial's report. Truthy answers end the trial's run now.

    ``STOP`` is final (an early-termination decision, the sweep's end). ``PAUSE`` ends the run
    but leaves the trial resumable: its resume checkpoint is kept unfinished and the trial goes
    back to the queue (a Ctrl-C, a full disk, a paused rung); the next run continues it from
    the epoch after the last one it reported. A plain ``bool`` is read as CONTINUE / STOP.
    """

    CONTINUE = 0
    STOP = 1
    PAUSE = 2

    @classmethod
    def of(cls, answer: object) -> Verdict:
        """A trial-side reading of any answer (``bool``, ``int`` or ``Verdict``)."""
        if isinstance(answer, Verdict):
            return answer
        return (
            cls(int(answer))
            if isinstance(answer, int) and 0 <= int(answer) <= 2
            else (cls.STOP if answer else cls.CONTINUE)
        )


#: the metrics key of a report's schedule progress: the fraction of the trial's learning-rate
#: schedule done when it reported, in [0, 1] (its last report: 1)
PROGRESS_KEY = "progress"
#: the metrics key of a report's cost: what the trial has spent so far (cumulative, from its
#: start, across resumes), in the sweep's cost unit (the trainer: wall-clock seconds)
COST_KEY = "cost"
#: the metrics key of the trainer's cumulative device seconds (``training/spend.py``)
DEVICE_SECONDS_KEY = "device_seconds"
#: the keys a report carries about the run rather than the model: where it is in its schedule
#: and what it has spent (seconds differ from run to run; the model's metrics do not)
RUN_KEYS = frozenset({PROGRESS_KEY, COST_KEY, DEVICE_SECONDS_KEY})


@dataclass(frozen=True)
class Report:
    """One report of a running trial: its step (1-based report count or epoch) and metrics.

    Where the trial says so, ``metrics`` also carries its schedule progress (``PROGRESS_KEY``)
    and its cost so far (``COST_KEY``); ``progress`` and ``cost`` read them (None when not
    reported). They travel and are stored with the metrics, so every executor and a resumed
    sweep keep them."""

    step: int
    value: float  # the primary metric
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def model_metrics(self) -> dict[str, float]:
        """``metrics`` without ``RUN_KEYS``: what the model earned, which a seeded run
        reproduces bit for bit (the seconds it took do not)."""
        return {k: v for k, v in self.metrics.items() if k not in RUN_KEYS}

    @property
    def progress(self) -> float | None:
        """The fraction of the trial's schedule done at this report, or None."""
        value = self.metrics.get(PROGRESS_KEY)
        return None if value is None else float(value)

    @property
    def cost(self) -> float | None:
        """The trial's cost so far at this report (cumulative), or None."""
        value = self.metrics.get(COST_KEY)
        return None if value is None else float(value)


@dataclass(frozen=True)
class TrainingProgress:
    """How far a running trial is (not a report: no policy judges it, no store keeps it):
    ``batch`` of ``batches`` training batches done in ``epoch`` (from 1) of ``epochs``."""

    epoch: int
    epochs: int
    batch: int
    batches: int

    @property
    def fraction(self) -> float:
        """The share of the whole run done, in [0, 1]."""
        if self.epochs <= 0:
            return 0.0
        within = self.batch / self.batches if self.batches > 0 else 0.0
        return min(1.0, max(0.0, (self.epoch - 1 + within) / self.epochs))


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
    #: where its latest attempt runs or ran, when the executor says (a Ray node, a GPU share)
    placement: str | None = None
    #: set by the scheduler when it starts the trial again to go on after its last report
    #: (promoted from a pause, or re-queued after a kill): a replayed pausing report of a
    #: black-box objective is then not a pause again (a trainer resumes after it instead)
    resume_stopped: bool = False

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


def best_trial(trials: Sequence[Trial], goal: PrimaryMetricGoal) -> Trial | None:
    """The best trial with a value (COMPLETED or STOPPED); ties go to the earlier trial."""
    best: Trial | None = None
    for t in trials:
        if t.status not in (TrialStatus.COMPLETED, TrialStatus.STOPPED):
            continue
        if t.value is None or math.isnan(t.value):
            continue
        if best is None or goal.is_better(t.value, best.value):  # type: ignore[arg-type]
            best = t
    return best
