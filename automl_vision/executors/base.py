"""Executors run trials; the scheduler decides what runs, when it stops and what its status is.

An executor starts trials, delivers their reports to the scheduler's ``on_report`` callback
(whose answer, True = stop now, goes back to the trial), and returns the outcome of each
attempt that ends: how it ended (``AttemptEnd``) and what came back (a return value, a
``TrialReturn``, an error), never a status (docs/architecture.md, "Trial status"). Implementations: ``FunctionExecutor`` (a Python objective, inline or in threads),
``SimulatedExecutor`` (replays recorded learning curves in simulated time) and the sweep's
process pool for training runs.
"""

from __future__ import annotations

import abc
import enum
import inspect
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_vision.enums import ChoiceEnum
from automl_vision.executors.messages import ReportMessage
from automl_vision.storage import storage_problem
from automl_vision.trial import Trial

__all__ = [
    "AttemptEnd",
    "AttemptOutcome",
    "Executor",
    "ExecutorKind",
    "FunctionExecutor",
    "MetricsReport",
    "ObjectiveTarget",
    "PlacedCallback",
    "ReportCallback",
    "TrialReturn",
    "describe_error",
    "error_outcome",
    "returned_outcome",
]


class ExecutorKind(ChoiceEnum):
    """What runs a sweep's trials: ``auto`` (in the sweep's process for one trial at a time,
    else the process pool), ``inline``, ``process`` (the local process pool) or ``ray`` (a Ray
    cluster, ``ray_executor.py``)."""

    AUTO = "auto"
    INLINE = "inline"
    PROCESS = "process"
    RAY = "ray"


#: ``on_report(trial_id, step, metrics) -> stop`` — the scheduler's side of a report.
ReportCallback = Callable[[str, int, Mapping[str, float]], bool]
#: ``on_placed(trial_id, where)`` — an executor that runs trials elsewhere says where
PlacedCallback = Callable[[str, str], None]


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

    def __init__(self) -> None:
        self._on_report: ReportCallback | None = None
        self._on_placed: PlacedCallback | None = None

    def bind(self, on_report: ReportCallback, on_placed: PlacedCallback | None = None) -> None:
        """Give the executor the scheduler's report handler (called from the scheduler thread)
        and, optionally, where to say on which machine each trial runs."""
        self._on_report = on_report
        self._on_placed = on_placed

    def placed(self, trial_id: str, where: str) -> None:
        """``trial_id``'s current attempt runs at ``where`` (a node, a GPU share)."""
        if self._on_placed is not None:
            self._on_placed(trial_id, where)

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


#: ``report(step, metrics) -> stop``: the trial's side of a report.
MetricsReport = Callable[[int, Mapping[str, float]], bool]
#: ``runner(trial, report) -> float | TrialReturn``: how a FunctionExecutor runs one trial.
Runner = Callable[[Trial, MetricsReport], Any]


def _positional_arity(objective: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(objective).parameters.values()
    except (TypeError, ValueError):
        return 1
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 2
    return sum(
        p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in params
    )


@dataclass(frozen=True)
class ObjectiveTarget:
    """A black-box objective as a trial target, ``target(params, report, context)``, for the
    executors that run trials in other processes (Ray): ``objective(params)`` or
    ``objective(params, report)`` with ``report(step, value)``, as ``for_objective``."""

    objective: Callable[..., Any]
    metric: str = "value"

    def __call__(self, params: Mapping[str, Any], report: Any, context: Any) -> Any:
        if _positional_arity(self.objective) >= 2:
            return self.objective(
                dict(params), lambda step, value: report(step, {self.metric: value})
            )
        return self.objective(dict(params))


@dataclass(frozen=True)
class _Asked:
    """A thread's report, with the queue its answer goes back on."""

    report: ReportMessage
    answer: queue.Queue[bool]


class _StopRequested(Exception):
    """Raised inside a trial's report() after a hard stop (sweep timeout or shutdown)."""


class FunctionExecutor(Executor):
    """Runs ``runner(trial, report)`` for each trial, in this process.

    With ``capacity`` 1 the runner runs inline in ``wait()``; with more it runs in threads
    whose reports are handed to the scheduler's thread through a queue, so the scheduler's
    state is only ever touched by one thread. ``for_objective`` adapts a user's objective.
    """

    def __init__(self, runner: Runner, *, capacity: int = 1) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"max_concurrent_trials must be >= 1, got {capacity}")
        self.runner = runner
        self.capacity = capacity
        self._pending: list[Trial] = []  # inline mode: started, not yet run
        self._threads: dict[str, threading.Thread] = {}
        self._messages: queue.Queue[_Asked | AttemptOutcome] = queue.Queue()
        self._hard_stop: set[str] = set()

    @classmethod
    def for_objective(
        cls, objective: Callable[..., Any], *, capacity: int = 1, metric: str = "value"
    ) -> FunctionExecutor:
        """``objective(params) -> float`` or ``objective(params, report) -> float`` where
        ``report(step, value) -> bool`` reports ``value`` as the metric named ``metric``."""
        if _positional_arity(objective) >= 2:

            def runner(trial: Trial, report: MetricsReport) -> Any:
                return objective(
                    dict(trial.params), lambda step, value: report(step, {metric: value})
                )

        else:

            def runner(trial: Trial, report: MetricsReport) -> Any:
                return objective(dict(trial.params))

        return cls(runner, capacity=capacity)

    @property
    def running(self) -> int:
        return len(self._pending) + len(self._threads)

    def start(self, trial: Trial) -> None:
        if self.capacity == 1:
            self._pending.append(trial)
            return
        thread = threading.Thread(target=self._run_threaded, args=(trial,), daemon=True)
        self._threads[trial.trial_id] = thread
        thread.start()

    def stop(self, trial_id: str) -> None:
        self._hard_stop.add(trial_id)

    # -- running one trial -------------------------------------------------------------------
    def _call(self, trial: Trial, report: MetricsReport) -> AttemptOutcome:
        def guarded_report(step: int, metrics: Mapping[str, float]) -> bool:
            if trial.trial_id in self._hard_stop:
                raise _StopRequested
            return report(int(step), {k: float(v) for k, v in metrics.items()})

        try:
            value = self.runner(trial, guarded_report)
        except _StopRequested:
            return AttemptOutcome(trial.trial_id, AttemptEnd.HALTED)
        except Exception as err:  # a crashing trial fails, not the sweep
            return error_outcome(trial.trial_id, err)
        return returned_outcome(trial.trial_id, value)

    def _run_threaded(self, trial: Trial) -> None:
        def report(step: int, metrics: Mapping[str, float]) -> bool:
            answer: queue.Queue[bool] = queue.Queue(maxsize=1)
            self._messages.put(_Asked(ReportMessage(trial.trial_id, step, metrics), answer))
            return answer.get()

        self._messages.put(self._call(trial, report))

    # -- the scheduler's side ----------------------------------------------------------------
    def wait(self) -> list[AttemptOutcome]:
        if self.capacity == 1:
            if not self._pending:
                return []
            trial = self._pending.pop(0)
            return [self._call(trial, lambda step, m: self.report(trial.trial_id, step, m))]
        if not self._threads:
            return []
        outcomes: list[AttemptOutcome] = []
        while not outcomes:
            message = self._messages.get()
            if isinstance(message, _Asked):
                asked = message.report
                message.answer.put(self.report(asked.trial_id, asked.step, asked.metrics))
            else:
                self._threads.pop(message.trial_id).join()
                outcomes.append(message)
        return outcomes


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
