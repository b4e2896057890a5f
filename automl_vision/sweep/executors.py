"""Executors run trials; the scheduler decides what runs and when it stops (docs/architecture.md, "Trial status").

An executor starts trials, delivers their reports to the scheduler's ``on_report`` callback
(whose answer, True = stop now, goes back to the trial), and returns the outcome of each trial
that ends. Implementations: ``FunctionExecutor`` (a Python objective, inline or in threads),
``SimulatedExecutor`` (replays recorded learning curves in simulated time) and the sweep's
process pool for training runs.
"""

from __future__ import annotations

import abc
import inspect
import math
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl_vision.sweep.storage import storage_problem
from automl_vision.trial import Trial, TrialStatus

__all__ = [
    "Executor",
    "FunctionExecutor",
    "MetricsReport",
    "ReportCallback",
    "TrialOutcome",
    "TrialResult",
    "describe_error",
    "error_outcome",
]

#: ``on_report(trial_id, step, metrics) -> stop`` — the scheduler's side of a report.
ReportCallback = Callable[[str, int, Mapping[str, float]], bool]


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended, as seen by the executor.

    ``status`` is COMPLETED (ran to its end), STOPPED (ended because a report was answered
    with True) or FAILED (``error`` says why); QUEUED means the trial could not go on for a
    reason outside it (``error``: a full disk) and stays resumable. ``value`` is the trial's
    final primary-metric value when the executor knows it (an objective's return value).
    """

    trial_id: str
    status: TrialStatus
    value: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    artifacts: Mapping[str, Any] = field(default_factory=dict)
    #: a FAILED trial whose process died (killed, out of host memory): a new attempt may
    #: resume it from its last resume checkpoint
    resumable: bool = False


class Executor(abc.ABC):
    """Runs up to ``capacity`` trials at a time."""

    capacity: int = 1

    def __init__(self) -> None:
        self._on_report: ReportCallback | None = None

    def bind(self, on_report: ReportCallback) -> None:
        """Give the executor the scheduler's report handler (called from the scheduler thread)."""
        self._on_report = on_report

    def report(self, trial_id: str, step: int, metrics: Mapping[str, float]) -> bool:
        if self._on_report is None:
            raise RuntimeError("executor used before bind(on_report)")
        return self._on_report(trial_id, step, metrics)

    @abc.abstractmethod
    def start(self, trial: Trial) -> None:
        """Start ``trial`` (its ``params`` are final)."""

    @abc.abstractmethod
    def wait(self) -> list[TrialOutcome]:
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


@dataclass(frozen=True)
class TrialResult:
    """What a trial function returns when a bare float is not enough (training runs)."""

    value: float | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    artifacts: Mapping[str, Any] = field(default_factory=dict)


#: ``report(step, metrics) -> stop``: the trial's side of a report.
MetricsReport = Callable[[int, Mapping[str, float]], bool]
#: ``runner(trial, report) -> float | TrialResult``: how a FunctionExecutor runs one trial.
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
        self._messages: queue.Queue[tuple[Any, ...]] = queue.Queue()
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
    def _call(self, trial: Trial, report: MetricsReport) -> TrialOutcome:
        stopped = False

        def guarded_report(step: int, metrics: Mapping[str, float]) -> bool:
            nonlocal stopped
            if trial.trial_id in self._hard_stop:
                raise _StopRequested
            metrics = {k: float(v) for k, v in metrics.items()}
            stop = report(int(step), metrics)
            stopped = stopped or stop
            return stop

        try:
            value = self.runner(trial, guarded_report)
        except _StopRequested:
            return TrialOutcome(trial.trial_id, TrialStatus.STOPPED)
        except Exception as err:  # a crashing trial fails, not the sweep
            return error_outcome(trial.trial_id, err)
        if stopped:
            return _result(trial.trial_id, value, TrialStatus.STOPPED)
        return _result(trial.trial_id, value, TrialStatus.COMPLETED)

    def _run_threaded(self, trial: Trial) -> None:
        def report(step: int, metrics: Mapping[str, float]) -> bool:
            answer: queue.Queue[bool] = queue.Queue(maxsize=1)
            self._messages.put(("report", trial.trial_id, step, metrics, answer))
            return answer.get()

        self._messages.put(("done", self._call(trial, report)))

    # -- the scheduler's side ----------------------------------------------------------------
    def wait(self) -> list[TrialOutcome]:
        if self.capacity == 1:
            if not self._pending:
                return []
            trial = self._pending.pop(0)
            return [self._call(trial, lambda step, m: self.report(trial.trial_id, step, m))]
        if not self._threads:
            return []
        outcomes: list[TrialOutcome] = []
        while not outcomes:
            message = self._messages.get()
            if message[0] == "report":
                _, trial_id, step, metrics, answer = message
                answer.put(self.report(trial_id, step, metrics))
            else:
                outcome = message[1]
                self._threads.pop(outcome.trial_id).join()
                outcomes.append(outcome)
        return outcomes


def error_outcome(trial_id: str, err: BaseException) -> TrialOutcome:
    """The outcome of a trial function that raised: FAILED, except when the storage failed
    (disk full, read-only): then QUEUED, which pauses the sweep without blaming the trial."""
    problem = storage_problem(err)
    if problem is not None:
        return TrialOutcome(trial_id, TrialStatus.QUEUED, error=problem)
    return TrialOutcome(trial_id, TrialStatus.FAILED, error=describe_error(err))


def describe_error(err: BaseException) -> str:
    """``Type: message`` of an exception, one line."""
    return "".join(traceback.format_exception_only(type(err), err)).strip()


def _result(trial_id: str, value: Any, status: TrialStatus) -> TrialOutcome:
    """The outcome for a trial function's return value (a number or a ``TrialResult``)."""
    if isinstance(value, TrialResult):
        outcome = _completed(trial_id, value.value) if value.value is not None else None
        if outcome is not None and outcome.status is TrialStatus.FAILED:
            return outcome
        return TrialOutcome(
            trial_id,
            status,
            value=None if outcome is None else outcome.value,
            metrics=dict(value.metrics),
            artifacts=dict(value.artifacts),
        )
    if status is TrialStatus.STOPPED:
        return TrialOutcome(trial_id, status)
    return _completed(trial_id, value)


def _completed(trial_id: str, value: Any) -> TrialOutcome:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return TrialOutcome(
                trial_id,
                TrialStatus.FAILED,
                error=f"objective returned {value!r} ({type(value).__name__}), not a number",
            )
    value = float(value)
    if not math.isfinite(value):
        return TrialOutcome(trial_id, TrialStatus.FAILED, error=f"objective returned {value}")
    return TrialOutcome(trial_id, TrialStatus.COMPLETED, value=value)
