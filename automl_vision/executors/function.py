"""Trials in the sweep's own process: ``FunctionExecutor`` and the ``inline`` kind's backend.

``FunctionExecutor`` runs ``runner(trial, report)`` for each trial: with capacity 1 inline in
``wait()``, with more in threads whose reports reach the scheduler's thread through a queue (so
the scheduler's state is only ever touched by one thread). ``for_target`` adapts a trial
target (``base.TrialTarget``), ``for_objective`` a user's objective (``ObjectiveTarget``).

``InlineBackend``: a training sweep runs one trial at a time in its own process, on every
device the sweep uses; ``optimize`` runs its objective in threads when several run at once.
"""

from __future__ import annotations

import inspect
import math
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.executors.backend import (
    Capacity,
    ExecutorBackend,
    ExecutorKind,
    ExecutorRequest,
    Purpose,
    local_capacity,
)
from automl_vision.executors.base import (
    AttemptEnd,
    AttemptOutcome,
    Executor,
    MetricsReport,
    TrialContext,
    TrialTarget,
    error_outcome,
    returned_outcome,
)
from automl_vision.executors.machine import Machine
from automl_vision.executors.messages import ProgressMessage, ReportMessage
from automl_vision.executors.trial_log import trial_log
from automl_vision.trial import COST_KEY, PROGRESS_KEY, TrainingProgress, Trial

__all__ = ["FunctionExecutor", "InlineBackend", "ObjectiveReport", "ObjectiveTarget"]

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


def _number(name: str, value: object) -> float:
    """``value`` as a float; a ValueError naming ``name`` if it is not a real number."""
    wrong = ValueError(f"report({name}={value!r}): {name} must be a real number")
    if isinstance(value, (bool, str, bytes)):
        raise wrong
    try:
        return float(value)  # type: ignore[arg-type]  # ints, floats, numpy scalars
    except (TypeError, ValueError):
        raise wrong from None


@dataclass(frozen=True)
class ObjectiveReport:
    """The ``report`` an objective is given: ``report(step, value, *, progress=None,
    cost=None) -> bool``.

    ``value`` goes into the report's metrics as ``metric``; ``progress`` (the fraction of the
    trial's schedule done, in [0, 1]) and ``cost`` (what the trial has spent so far, cumulative,
    >= 0 and finite) go in under ``PROGRESS_KEY`` / ``COST_KEY`` when given. A progress outside
    [0, 1] (or NaN), a negative or non-finite cost, or a non-number raises ValueError naming the
    argument. Answers the scheduler's verdict (truthy: stop now)."""

    report: Callable[[int, Mapping[str, float]], Any]
    metric: str = "value"

    def __call__(
        self, step: int, value: float, *, progress: float | None = None, cost: float | None = None
    ) -> Any:
        metrics = {self.metric: value}
        if progress is not None:
            p = _number("progress", progress)
            if not 0.0 <= p <= 1.0:  # NaN fails too
                raise ValueError(f"report(progress={progress!r}): progress must be in [0, 1]")
            metrics[PROGRESS_KEY] = p
        if cost is not None:
            c = _number("cost", cost)
            if not (math.isfinite(c) and c >= 0.0):
                raise ValueError(
                    f"report(cost={cost!r}): cost must be a finite number >= 0 (cumulative)"
                )
            metrics[COST_KEY] = c
        return self.report(step, metrics)


@dataclass(frozen=True)
class ObjectiveTarget:
    """A black-box objective as a trial target, ``target(params, report, context)``, for the
    executors that run trials in other processes (Ray): ``objective(params)`` or
    ``objective(params, report)`` with ``report(step, value, *, progress=None, cost=None)``
    (``ObjectiveReport``), as ``for_objective``."""

    objective: Callable[..., Any]
    metric: str = "value"

    def __call__(self, params: Mapping[str, Any], report: Any, context: Any) -> Any:
        if _positional_arity(self.objective) >= 2:
            return self.objective(dict(params), ObjectiveReport(report, self.metric))
        return self.objective(dict(params))


@dataclass(frozen=True)
class _Began:
    """A thread's trial says where its attempt starts (``TrialContext.on_start``)."""

    trial_id: str
    step: int


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
        self._messages: queue.Queue[_Asked | _Began | ProgressMessage | AttemptOutcome] = (
            queue.Queue()
        )
        self._hard_stop: set[str] = set()

    @classmethod
    def for_target(
        cls, target: TrialTarget, *, capacity: int = 1, output_dir: Path | None = None
    ) -> FunctionExecutor:
        """Run ``target(params, report, context)`` for each trial; its work folder is
        ``output_dir/trials/<trial id>`` (none without ``output_dir``), holding the trial's log
        (``trial_log``), its devices the sweep's."""

        def runner(trial: Trial, report: MetricsReport) -> Any:
            workdir = "" if output_dir is None else str(output_dir / "trials" / trial.trial_id)
            context = TrialContext(
                trial.trial_id,
                trial.index,
                workdir,
                "",
                on_start=lambda step: executor._began(trial.trial_id, step),
                on_progress=lambda progress: executor._progress(trial.trial_id, progress),
            )
            if not workdir:
                return target(trial.params, report, context)
            with trial_log(Path(workdir), trial.trial_id, trial.params, halts=(_StopRequested,)):
                return target(trial.params, report, context)

        executor = cls(runner, capacity=capacity)
        return executor

    @classmethod
    def for_objective(
        cls, objective: Callable[..., Any], *, capacity: int = 1, metric: str = "value"
    ) -> FunctionExecutor:
        """``objective(params) -> float`` or ``objective(params, report) -> float`` where
        ``report(step, value, *, progress=None, cost=None) -> bool`` reports ``value`` as the
        metric named ``metric`` (``ObjectiveReport``)."""
        return cls.for_target(ObjectiveTarget(objective, metric), capacity=capacity)

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
    def _began(self, trial_id: str, step: int) -> None:
        """A trial's ``on_start``: told at once inline, through the queue from a thread (the
        scheduler's state is only touched on its own thread)."""
        if self.capacity == 1:
            self.started(trial_id, step)
        else:
            self._messages.put(_Began(trial_id, step))

    def _progress(self, trial_id: str, progress: TrainingProgress) -> None:
        """A trial's ``on_progress``: as ``_began``."""
        if self.capacity == 1:
            self.progressed(trial_id, progress)
        else:
            self._messages.put(ProgressMessage(trial_id, progress))

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
            if isinstance(message, _Began):
                self.started(message.trial_id, message.step)
            elif isinstance(message, ProgressMessage):
                self.progressed(message.trial_id, message.progress)
            elif isinstance(message, _Asked):
                asked = message.report
                message.answer.put(self.report(asked.trial_id, asked.step, asked.metrics))
            else:
                self._threads.pop(message.trial_id).join()
                outcomes.append(message)
        return outcomes


class InlineBackend(ExecutorBackend):
    """``inline``: trials in the sweep's process (see the module docstring)."""

    kind = ExecutorKind.INLINE

    def check(self, request: ExecutorRequest, purpose: Purpose) -> None:
        several = request.max_concurrent_trials not in (1, "auto")
        if purpose is Purpose.TRAINING and several:
            raise ValueError(
                "executor: 'inline' runs one trial at a time in the sweep's process; "
                f"max_concurrent_trials={request.max_concurrent_trials} needs 'process' or 'ray'"
            )

    def capacity(
        self,
        request: ExecutorRequest,
        purpose: Purpose,
        machine: Machine,
        connection: Any = None,
    ) -> Capacity:
        trials = 1
        if purpose is Purpose.OBJECTIVE and not request.auto:
            trials = int(request.max_concurrent_trials)  # threads
        return local_capacity(self.kind, trials, request, machine)

    def executor(
        self,
        target: TrialTarget,
        capacity: Capacity,
        *,
        output_dir: Path,
        trial_timeout: float | None = None,
        connection: Any = None,
    ) -> Executor:
        return FunctionExecutor.for_target(target, capacity=capacity.trials, output_dir=output_dir)
