"""The executor interface: executors run trials; the scheduler decides what runs, when it
stops and what its status is.

An executor starts trials, delivers their reports to the scheduler's ``on_report`` callback
(whose answer, a ``Verdict``, goes back to the trial), and returns the outcome of each attempt
that ends: how it ended (``AttemptEnd``) and what came back (a return value, a ``TrialReturn``,
an error), never a status (docs/architecture.md, "Trial status").

What an executor runs is a *trial target*, ``target(params, report, context)``: the trial's
parameters, its ``report(step, metrics) -> Verdict`` and a ``TrialContext`` (its id, its work
folder, its devices). Implementations: ``function.py`` (this process, inline or threads),
``pool.py`` (worker processes), ``ray_executor.py`` (Ray actors), ``simulated.py`` (recorded
learning curves in simulated time).
"""

from __future__ import annotations

import abc
import enum
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from automl_vision.storage import storage_problem
from automl_vision.trial import TrainingProgress, Trial

__all__ = [
    "AttemptEnd",
    "AttemptOutcome",
    "CarriesData",
    "Executor",
    "MetricsReport",
    "PlacedCallback",
    "ProgressCallback",
    "ReportCallback",
    "StartCallback",
    "TrialContext",
    "TrialReturn",
    "TrialTarget",
    "describe_error",
    "error_outcome",
    "returned_outcome",
]


#: ``on_report(trial_id, step, metrics) -> stop`` — the scheduler's side of a report.
ReportCallback = Callable[[str, int, Mapping[str, float]], bool]
#: ``on_placed(trial_id, where)`` — an executor that runs trials elsewhere says where
PlacedCallback = Callable[[str, str], None]
#: ``on_start(trial_id, step)`` — a trial's attempt starts after report ``step`` (its target
#: says so: 0 from the beginning, N when it resumes after its report N)
StartCallback = Callable[[str, int], None]
#: ``on_progress(trial_id, progress)`` — how far a trial is within its epoch (not a report: no
#: answer, no policy, not stored); an executor that cannot carry it never calls it
ProgressCallback = Callable[[str, TrainingProgress], None]


#: ``report(step, metrics) -> stop``: the trial's side of a report.
MetricsReport = Callable[[int, Mapping[str, float]], Any]


@dataclass(frozen=True)
class TrialContext:
    """What a trial target knows besides its params: where to write and which devices, and
    ``on_start(step)``: a target that resumes tells where this attempt starts (after its
    report ``step``; 0 from the beginning) before it trains, so the sweep records it with the
    attempt even if the attempt dies before its first report (None: nobody listens).
    ``on_progress(progress)``: a target that trains tells how far it is within its epoch (a
    ``TrainingProgress``, rate-limited by the trainer; None: nobody listens)."""

    trial_id: str
    trial_index: int
    workdir: str
    devices: str  # the slot's CUDA_VISIBLE_DEVICES value, "" for CPU
    on_start: Callable[[int], None] | None = field(default=None, compare=False, repr=False)
    on_progress: Callable[[TrainingProgress], None] | None = field(
        default=None, compare=False, repr=False
    )


#: ``target(params, report, context) -> float | TrialReturn``; picklable for the executors that
#: run trials in other processes (a module-level function, a ``functools.partial`` of one)
TrialTarget = Callable[[dict, MetricsReport, TrialContext], Any]


@runtime_checkable
class CarriesData(Protocol):
    """A trial target that reads a dataset's image files (the built-in trainer's): an executor
    whose workers cannot see those files (a cluster's other nodes) sends them and runs
    ``on_node(copy)``, the same target reading the node's own copy."""

    @property
    def dataset(self) -> Any: ...

    def on_node(self, dataset: Any) -> TrialTarget: ...


@dataclass(frozen=True)
class TrialReturn:
    """What a trial function returns when a bare float is not enough (training runs)."""

    value: float | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    artifacts: Mapping[str, Any] = field(default_factory=dict)


class AttemptEnd(enum.Enum):
    """How one attempt at a trial ended, as the executor saw it (not the trial's status)."""

    RETURNED = "returned"  # the trial function returned (``returned`` / ``result``)
    RAISED = "raised"  # the trial function raised (``error``)
    HALTED = "halted"  # ended early by ``Executor.stop`` (a sweep timeout or shutdown)
    TIMED_OUT = "timed_out"  # killed at the trial's time limit (``error``)
    DIED = "died"  # its process died (killed, out of memory); a new attempt may resume it
    STORAGE = "storage"  # could not go on: the storage failed (``error``); not the trial's fault


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt at a trial gave: how it ended and what came back. The scheduler
    decides from this (and what it answered to the trial's reports) whether the trial is
    COMPLETED, STOPPED, PAUSED, FAILED or queued again."""

    trial_id: str
    end: AttemptEnd = AttemptEnd.RETURNED
    #: a bare trial function's return value (meant to be a number; the scheduler checks it)
    returned: Any = None
    #: or the ``TrialReturn`` it returned (a value it vouches for, metrics, artifacts)
    result: TrialReturn | None = None
    error: str | None = None


class Executor(abc.ABC):
    """Runs up to ``capacity`` trials at a time."""

    capacity: int = 1
    #: what the executor decided when it was built (where the data travels), for its user
    notes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._on_report: ReportCallback | None = None
        self._on_placed: PlacedCallback | None = None
        self._on_start: StartCallback | None = None
        self._on_progress: ProgressCallback | None = None

    def bind(
        self,
        on_report: ReportCallback,
        on_placed: PlacedCallback | None = None,
        on_start: StartCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Give the executor the scheduler's report handler (called from the scheduler thread)
        and, optionally, where to say on which machine each trial runs, the step each
        attempt starts after (``TrialContext.on_start``) and how far a trial is within its
        epoch (``TrialContext.on_progress``)."""
        self._on_report = on_report
        self._on_placed = on_placed
        self._on_start = on_start
        self._on_progress = on_progress

    def placed(self, trial_id: str, where: str) -> None:
        """``trial_id``'s current attempt runs at ``where`` (a node, a GPU share)."""
        if self._on_placed is not None:
            self._on_placed(trial_id, where)

    def started(self, trial_id: str, step: int) -> None:
        """``trial_id``'s current attempt starts after its report ``step`` (on the scheduler's
        thread: each executor relays its targets' ``TrialContext.on_start`` here)."""
        if self._on_start is not None:
            self._on_start(trial_id, int(step))

    def progressed(self, trial_id: str, progress: TrainingProgress) -> None:
        """``trial_id`` is at ``progress`` (on the scheduler's thread: each executor that can
        relays its targets' ``TrialContext.on_progress`` here)."""
        if self._on_progress is not None:
            self._on_progress(trial_id, progress)

    def report(self, trial_id: str, step: int, metrics: Mapping[str, float]) -> bool:
        if self._on_report is None:
            raise RuntimeError("executor used before bind(on_report)")
        return self._on_report(trial_id, step, metrics)

    @abc.abstractmethod
    def start(self, trial: Trial) -> None:
        """Start ``trial`` (its ``params`` are final)."""

    @abc.abstractmethod
    def wait(self) -> list[AttemptOutcome]:
        """Block until at least one running trial ends; deliver reports meanwhile."""

    @abc.abstractmethod
    def stop(self, trial_id: str) -> None:
        """Ask a running trial to end as soon as possible (sweep timeout or shutdown)."""

    @property
    @abc.abstractmethod
    def running(self) -> int:
        """How many trials are running now."""

    def now(self) -> float:
        """The executor's clock: Unix time in seconds (simulated executors have their own)."""
        return time.time()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (processes, threads)."""

    def abort(self) -> None:
        """Release resources at once: the sweep is being aborted (a second Ctrl-C, an error in
        the sweep's process); running trials stay unfinished and resume with the sweep. By
        default ``close``."""
        self.close()


def error_outcome(trial_id: str, err: BaseException) -> AttemptOutcome:
    """The outcome of a trial function that raised: RAISED, or STORAGE when the storage failed
    (disk full, read-only), which pauses the sweep without blaming the trial."""
    problem = storage_problem(err)
    if problem is not None:
        return AttemptOutcome(trial_id, AttemptEnd.STORAGE, error=problem)
    return AttemptOutcome(trial_id, AttemptEnd.RAISED, error=describe_error(err))


def returned_outcome(trial_id: str, value: Any) -> AttemptOutcome:
    """The outcome of a trial function that returned ``value`` (a number or a TrialReturn)."""
    if isinstance(value, TrialReturn):
        return AttemptOutcome(trial_id, AttemptEnd.RETURNED, result=value)
    return AttemptOutcome(trial_id, AttemptEnd.RETURNED, returned=value)


def describe_error(err: BaseException) -> str:
    """``Type: message`` of an exception, one line."""
    return "".join(traceback.format_exception_only(type(err), err)).strip()
