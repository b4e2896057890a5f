"""The messages between a sweep's scheduler side and the workers that run its trials.

Small frozen dataclasses, one per kind of message, so that each executor (threads, the process
pool, a cluster) speaks the same typed protocol instead of tagged tuples. They are plain data
(picklable: they cross process boundaries) and say what happened, never what it means for
the trial's status; the scheduler alone decides that (``scheduler.py``).

Scheduler side -> worker: ``RunTrial``, then an answer (a ``Verdict``) to each report, and
``Exit`` when the worker is no longer needed. Worker -> scheduler side: ``TrialBegan`` when the
trial function starts (its time limit counts from then), ``AttemptStarts`` when the trial
function says where its attempt starts (``TrialContext.on_start``), ``ProgressMessage`` when a
training trial says how far it is within its epoch (``TrialContext.on_progress``; not answered,
not a report), ``ReportMessage`` per report (answered before the trial goes on) and
``AttemptDone`` when the trial function has returned or raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_vision.trial import TrainingProgress

__all__ = [
    "AttemptDone",
    "AttemptStarts",
    "Exit",
    "ProgressMessage",
    "ReportMessage",
    "RunTrial",
    "TrialBegan",
]


@dataclass(frozen=True)
class RunTrial:
    """Run one trial: its id, index, final params and the folder it writes to."""

    trial_id: str
    index: int
    params: Mapping[str, Any]
    workdir: str


@dataclass(frozen=True)
class Exit:
    """The worker ends (after its current trial, if any)."""


@dataclass(frozen=True)
class TrialBegan:
    """The worker has begun running the trial function of ``trial_id``."""

    trial_id: str


@dataclass(frozen=True)
class AttemptStarts:
    """The trial function of ``trial_id`` starts its attempt after its report ``step`` (0: from
    the beginning); not answered."""

    trial_id: str
    step: int


@dataclass(frozen=True)
class ProgressMessage:
    """How far ``trial_id`` is within its epoch; not answered, never a report."""

    trial_id: str
    progress: TrainingProgress


@dataclass(frozen=True)
class ReportMessage:
    """One report of a running trial; the worker waits for the answer (a ``Verdict``)."""

    trial_id: str
    step: int
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptDone:
    """The trial function returned (``returned``: its return value, a number or a
    ``TrialReturn``) or raised (``error``: the exception as one line; ``storage``: the storage
    failed, which is not the trial's fault)."""

    trial_id: str
    returned: Any = None
    error: str | None = None
    storage: bool = False
