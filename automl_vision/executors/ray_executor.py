"""Ray executor: each trial runs in a Ray actor of its own, on any node of a cluster.

The protocol is the process pool's (``messages.py``), carried by actor calls instead of a pipe:
the driver creates one actor per trial attempt (a fresh worker process, so whatever the trial
held, GPU memory included, is returned when the actor is killed after it), calls ``start`` (the
answer says where it runs: node and GPU share), then keeps one ``next`` call outstanding per
trial. A ``next`` returns the trial's next message: a ``ReportMessage``, answered with the
scheduler's verdict (``answer``) before the trial goes on, or ``AttemptDone``. So every
decision is made in the driver, in order, and only the driver writes the store.

Faults: an actor whose process or node dies ends its attempt as ``AttemptEnd.DIED`` (the
scheduler retries it once, resuming from its last checkpoint, on whichever worker Ray picks);
a trial past its time limit is killed (``TIMED_OUT``); ``close`` kills the actors still running
(their trials stay unfinished in the store and resume with the sweep).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_vision.artifacts import LOG_FILE
from automl_vision.executors.base import (
    AttemptEnd,
    AttemptOutcome,
    Executor,
    TrialContext,
    TrialTarget,
    error_outcome,
    returned_outcome,
)
from automl_vision.executors.messages import (
    AttemptDone,
    AttemptStarts,
    ProgressMessage,
    ReportMessage,
    RunTrial,
)
from automl_vision.executors.pool import redirect_output
from automl_vision.trial import TrainingProgress, Trial, Verdict

#: what a trial's actor hands the driver, one ``next`` call at a time
_Outgoing = AttemptStarts | ProgressMessage | ReportMessage | AttemptDone

__all__ = ["Placement", "RayExecutor", "TrialResources"]

logger = logging.getLogger(__name__)

_POLL_S = 1.0  # how often the driver looks at time limits while it waits


@dataclass(frozen=True)
class TrialResources:
    """What each trial asks Ray for: CPUs, a GPU share (0.25: four trials per GPU) and any
    custom resources of the cluster."""

    cpus: float = 1.0
    gpus: float = 0.0
    custom: Mapping[str, float] = field(default_factory=dict)

    def actor_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.custom:
            options["resources"] = dict(self.custom)
        return options

    def __str__(self) -> str:
        parts = [f"{self.cpus:g} CPU"] + ([f"{self.gpus:g} GPU"] if self.gpus else [])
        return ", ".join(parts + [f"{v:g} {k}" for k, v in sorted(self.custom.items())])


@dataclass(frozen=True)
class Placement:
    """Where a trial's attempt runs."""

    node_id: str
    host: str
    gpus: tuple[str, ...] = ()
    gpu_share: float = 0.0

    def __str__(self) -> str:
        where = f"{self.host} ({self.node_id[:8]})"
        if self.gpus:
            where += f" GPU {','.join(self.gpus)}" + (
                f" x{self.gpu_share:g}" if self.gpu_share < 1 else ""
            )
        return where


class _TrialActor:
    """One trial attempt in a Ray worker process of its own (made a Ray actor class with the
    trial's resources by ``RayExecutor``)."""

    def __init__(self, target: TrialTarget, threads: int, gpu_share: float) -> None:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[name] = str(threads)
        self._target = target
        self._gpu_share = gpu_share
        self._out: queue.Queue[_Outgoing] = queue.Queue()
        self._answers: queue.Queue[int] = queue.Queue()

    def start(self, run: RunTrial) -> Placement:
        import ray  # lazy: runs inside a Ray worker, where Ray is installed

        context = ray.get_runtime_context()
        gpus = tuple(str(g) for g in context.get_accelerator_ids().get("GPU", ()))
        placement = Placement(context.get_node_id(), ray.util.get_node_ip_address(), gpus)
        if gpus:
            placement = Placement(placement.node_id, placement.host, gpus, self._gpu_share)
        thread = threading.Thread(target=self._run, args=(run, ",".join(gpus)), daemon=True)
        thread.start()
        return placement

    def _run(self, run: RunTrial, devices: str) -> None:
        workdir = Path(run.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        redirect_output(workdir / LOG_FILE)

        def report(step: int, metrics: Mapping[str, float]) -> Verdict:
            message = ReportMessage(
                run.trial_id, int(step), {k: float(v) for k, v in metrics.items()}
            )
            self._out.put(message)
            return Verdict.of(self._answers.get())

        def began(step: int) -> None:
            self._out.put(AttemptStarts(run.trial_id, int(step)))

        def progressed(progress: TrainingProgress) -> None:
            self._out.put(ProgressMessage(run.trial_id, progress))

        context = TrialContext(
            run.trial_id, run.index, run.workdir, devices, on_start=began, on_progress=progressed
        )
        try:
            value = self._target(dict(run.params), report, context)
            self._out.put(AttemptDone(run.trial_id, returned=value))
        except BaseException as err:  # everything a trial raises fails the trial
            traceback.print_exc()
            outcome = error_outcome(run.trial_id, err)
            storage = outcome.end is AttemptEnd.STORAGE
            self._out.put(AttemptDone(run.trial_id, error=outcome.error, storage=storage))

    def next(self) -> _Outgoing:
        return self._out.get()

    def answer(self, verdict: int) -> None:
        self._answers.put(verdict)


@dataclass
class _Running:
    trial: Trial
    actor: Any
    pending: Any  # the ObjectRef of the outstanding start() or next() call
    started: float | None = None  # when start() answered (the time limit counts from then)
    placement: Placement | None = None


class RayExecutor(Executor):
    """Runs ``target(params, report, context)`` for each trial in a Ray actor (see the module
    docstring). ``ray``: the connected ``ray`` module (``ray_cluster.ray_session``)."""

    def __init__(
        self,
        target: TrialTarget,
        *,
        ray: Any,
        capacity: int,
        output_dir: str | Path,
        resources: TrialResources,
        trial_timeout: float | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"max_concurrent_trials must be >= 1, got {capacity}")
        self._ray = ray
        self.capacity = capacity
        self.output_dir = Path(output_dir)
        self.resources = resources
        self.trial_timeout = trial_timeout
        self._threads = threads or max(1, int(resources.cpus))
        self._target = ray.put(target)  # once per sweep, not once per trial
        self._actor_class = ray.remote(
            max_restarts=0, max_task_retries=0, max_concurrency=4, **resources.actor_options()
        )(_TrialActor)
        self._running: dict[str, _Running] = {}
        self._hard_stop: set[str] = set()
        self.placements: dict[str, Placement] = {}

    @property
    def running(self) -> int:
        return len(self._running)

    def start(self, trial: Trial) -> None:
        if len(self._running) >= self.capacity:
            raise RuntimeError("no free slot: the scheduler started more trials than capacity")
        actor = self._actor_class.remote(self._target, self._threads, self.resources.gpus)
        workdir = self.output_dir / "trials" / trial.trial_id
        run = RunTrial(trial.trial_id, trial.index, dict(trial.params), str(workdir))
        self._running[trial.trial_id] = _Running(trial, actor, actor.start.remote(run))
        self._hard_stop.discard(trial.trial_id)

    def stop(self, trial_id: str) -> None:
        """The trial's next report is answered 'stop' (training ends cleanly)."""
        self._hard_stop.add(trial_id)

    def _end(self, running: _Running) -> None:
        self._running.pop(running.trial.trial_id, None)
        self._ray.kill(running.actor, no_restart=True)  # its worker process exits

    def _died(self, running: _Running, err: BaseException) -> AttemptOutcome:
        where = f" on {running.placement}" if running.placement else ""
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        self._end(running)
        return AttemptOutcome(
            running.trial.trial_id,
            AttemptEnd.DIED,
            error=f"the trial's Ray worker died{where} ({type(err).__name__}: {first})",
        )

    def _timeouts(self) -> list[AttemptOutcome]:
        if self.trial_timeout is None:
            return []
        now = time.monotonic()
        late = [
            r
            for r in self._running.values()
            if r.started is not None and now - r.started > self.trial_timeout
        ]
        outcomes = []
        for running in late:
            self._end(running)  # cancels the trial: its actor is killed
            outcomes.append(
                AttemptOutcome(
                    running.trial.trial_id,
                    AttemptEnd.TIMED_OUT,
                    error=f"trial exceeded its time limit of {self.trial_timeout:.0f} s",
                )
            )
        return outcomes

    def wait(self) -> list[AttemptOutcome]:
        ray = self._ray
        outcomes: list[AttemptOutcome] = []
        while not outcomes and self._running:
            by_ref = {r.pending: r for r in self._running.values()}
            ready, _ = ray.wait(list(by_ref), num_returns=1, timeout=_POLL_S)
            for ref in ready:
                running = by_ref[ref]
                try:
                    message = ray.get(ref)
                except ray.exceptions.RayTaskError as err:  # a method raised: not expected
                    self._end(running)
                    outcomes.append(
                        AttemptOutcome(running.trial.trial_id, AttemptEnd.RAISED, error=str(err))
                    )
                    continue
                except ray.exceptions.RayError as err:  # its process or node died
                    outcomes.append(self._died(running, err))
                    continue
                outcome = self._handle(running, message)
                if outcome is not None:
                    outcomes.append(outcome)
            outcomes += self._timeouts()
        return outcomes

    def _handle(
        self,
        running: _Running,
        message: Placement | _Outgoing,
    ) -> AttemptOutcome | None:
        trial_id = running.trial.trial_id
        if isinstance(message, Placement):
            running.started = time.monotonic()
            running.placement = self.placements[trial_id] = message
            self.placed(trial_id, str(message))
            running.pending = running.actor.next.remote()
            return None
        if isinstance(message, AttemptStarts):
            self.started(trial_id, message.step)
            running.pending = running.actor.next.remote()
            return None
        if isinstance(message, ProgressMessage):
            self.progressed(trial_id, message.progress)
            running.pending = running.actor.next.remote()
            return None
        if isinstance(message, ReportMessage):
            answer = (
                Verdict.STOP
                if trial_id in self._hard_stop
                else Verdict.of(self.report(trial_id, message.step, message.metrics))
            )
            running.actor.answer.remote(int(answer))
            running.pending = running.actor.next.remote()
            return None
        self._end(running)
        if message.error is not None:
            end = AttemptEnd.STORAGE if message.storage else AttemptEnd.RAISED
            return AttemptOutcome(trial_id, end, error=message.error)
        return returned_outcome(trial_id, message.returned)

    def close(self) -> None:
        """Kill the actors still running (the sweep is ending or aborted): their trials stay
        unfinished in the store and resume with the sweep."""
        for running in list(self._running.values()):
            self._end(running)
