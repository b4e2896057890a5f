"""Process-pool executor: one long-lived worker process per device slot.

Each worker owns a slot (``CUDA_VISIBLE_DEVICES`` is set before anything imports torch, and
several slots may name the same GPU to run several trials on it), runs one trial at a time and
talks to the scheduler over a pipe: a report is sent and the worker waits for the answer (stop
or go on), so every decision is made on the scheduler's side, in order. A trial that raises is
FAILED with its error; a worker that dies (segfault, out-of-memory kill) or a trial that exceeds
its time limit fails its trial, and the worker is replaced; the sweep goes on.

Recycling: with ``recycle_after=N`` a worker that has finished N trials exits and a fresh
process takes its slot, so whatever memory the trials left behind (CUDA contexts, allocator
caches, fragmentation) is truly returned to the system. ``recycle_after=1`` (one process per
trial) is the default on CUDA.

Placement: with a ``placer`` (``TrialPlacer``), the GPU of each trial is chosen when it starts
(from its predicted memory peak, ``packing.py``); an idle worker on another GPU is replaced by
one on the chosen GPU. The placer's capacity bounds how many trials run at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol

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
    Exit,
    ProgressMessage,
    ReportMessage,
    RunTrial,
    TrialBegan,
)
from automl_vision.system import available_cpus
from automl_vision.trial import TrainingProgress, Trial, Verdict

__all__ = ["ProcessPoolExecutor", "TrialPlacer", "redirect_output"]


class TrialPlacer(Protocol):
    """Chooses a slot (``CUDA_VISIBLE_DEVICES`` value) for each trial as it starts."""

    def place(self, trial: Trial) -> str:
        """The slot of ``trial`` (reserving its room there); raises if none has room."""

    def release(self, trial_id: str) -> None:
        """``trial_id`` has ended: free its room."""


_PR_SET_PDEATHSIG = 1  # prctl(2)
_WATCHDOG_S = 1.0  # how often a worker checks that the sweep's process is still its parent


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def redirect_output(path: Path) -> None:
    """Send this process's stdout/stderr (Python and C level) to the trial's log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _die_with_parent(parent: int) -> None:
    """End this worker when the sweep's process ends, also by ``kill -9``: the kernel's
    parent-death signal where there is one (Linux), and a watchdog thread everywhere (it also
    covers the moment before the signal was armed)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCHDOG_S)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _worker_main(
    conn: Connection, devices: str, target: TrialTarget, threads: int, parent: int
) -> None:
    """Worker loop: receive a trial, run it, send its reports and outcome."""
    _die_with_parent(parent)
    # Ctrl-C in a terminal reaches the whole process group and a service manager may send
    # SIGTERM to all of it: the sweep's process decides how trials end (it pauses them at their
    # next report), so the workers ignore both
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ["CUDA_VISIBLE_DEVICES"] = devices
    # CPU workers share the machine's cores: oversubscribed BLAS/OpenMP threads make small
    # tensor ops many times slower, so each worker gets its share (set before torch loads)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if isinstance(message, Exit):
            return
        run: RunTrial = message
        trial_id, workdir = run.trial_id, run.workdir
        conn.send(TrialBegan(trial_id))  # its time limit counts from here, not from start-up
        Path(workdir).mkdir(parents=True, exist_ok=True)
        redirect_output(Path(workdir) / LOG_FILE)

        def report(step: int, metrics: Mapping[str, float], trial_id: str = trial_id) -> Verdict:
            conn.send(ReportMessage(trial_id, int(step), {k: float(v) for k, v in metrics.items()}))
            return Verdict.of(conn.recv())

        def began(step: int, trial_id: str = trial_id) -> None:
            conn.send(AttemptStarts(trial_id, int(step)))

        def progressed(progress: TrainingProgress, trial_id: str = trial_id) -> None:
            conn.send(ProgressMessage(trial_id, progress))

        context = TrialContext(
            trial_id, run.index, workdir, devices, on_start=began, on_progress=progressed
        )
        try:
            value = target(dict(run.params), report, context)
            conn.send(AttemptDone(trial_id, returned=value))
        except BaseException as err:  # everything a trial raises fails the trial, not the pool
            traceback.print_exc()
            outcome = error_outcome(trial_id, err)
            conn.send(
                AttemptDone(
                    trial_id, error=outcome.error, storage=outcome.end is AttemptEnd.STORAGE
                )
            )
            if isinstance(err, KeyboardInterrupt):
                return


@dataclass
class _Worker:
    slot: str
    process: Any
    conn: Connection
    trial: Trial | None = None
    started: float | None = None  # when the worker began the trial (None: not yet)
    workdir: Path | None = None
    finished: int = 0  # trials this process has finished (recycling counts them)


class ProcessPoolExecutor(Executor):
    """Runs ``target(params, report, context)`` in one worker process per slot.

    ``slots``: one ``CUDA_VISIBLE_DEVICES`` value per worker (e.g. ``["0", "0", "1"]`` runs two
    trials on GPU 0 and one on GPU 1; ``["0,1"]`` gives one trial two GPUs; ``[""] * 2`` runs
    two CPU trials). ``trial_timeout`` is in seconds. ``recycle_after``: replace a worker
    process after it has finished that many trials (None: never). ``placer``: choose each
    trial's slot when it starts (see the module docstring).
    """

    def __init__(
        self,
        target: TrialTarget,
        *,
        slots: Sequence[str],
        output_dir: str | Path,
        trial_timeout: float | None = None,
        start_method: str = "spawn",
        threads_per_worker: int | None = None,
        recycle_after: int | None = None,
        placer: TrialPlacer | None = None,
    ) -> None:
        super().__init__()
        if not slots:
            raise ValueError("the process pool needs at least one slot")
        whole = isinstance(recycle_after, int) and not isinstance(recycle_after, bool)
        if recycle_after is not None and not (whole and recycle_after >= 1):
            raise ValueError(
                f"recycle_workers_after must be a whole number >= 1 or None, got {recycle_after!r}"
            )
        self.recycle_after = recycle_after
        self.placer = placer
        self.target = target
        self.slots = list(slots)
        self.capacity = len(self.slots)
        self.output_dir = Path(output_dir)
        self.trial_timeout = trial_timeout
        self.threads = threads_per_worker or max(1, available_cpus() // self.capacity)
        self._ctx = mp.get_context(start_method)
        self._workers: list[_Worker] = [self._spawn(slot) for slot in self.slots]
        self._hard_stop: set[str] = set()

    def _spawn(self, slot: str) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(child, slot, self.target, self.threads, os.getpid()),
            # not daemonic: a trial may start processes of its own (a data loader's workers;
            # a daemonic process may not have children). A worker still ends with the sweep:
            # on Exit, on its pipe's EOF, and on the sweep's death (_die_with_parent)
            daemon=False,
            name=f"trial-worker[{slot}]",
        )
        process.start()
        child.close()
        return _Worker(slot, process, parent)

    @property
    def running(self) -> int:
        return sum(w.trial is not None for w in self._workers)

    def start(self, trial: Trial) -> None:
        idle = [w for w in self._workers if w.trial is None]
        if not idle:
            raise RuntimeError("no free worker: the scheduler started more trials than slots")
        worker = idle[0]
        if self.placer is not None:
            slot = self.placer.place(trial)
            worker = next((w for w in idle if w.slot == slot), idle[0])
            if worker.slot != slot:
                self._retire(worker, slot)
        worker.trial = trial
        worker.started = None  # set when the worker says it began (it may still be starting)
        worker.workdir = self.output_dir / "trials" / trial.trial_id
        worker.conn.send(
            RunTrial(trial.trial_id, trial.index, dict(trial.params), str(worker.workdir))
        )

    def stop(self, trial_id: str) -> None:
        """The trial's next report is answered 'stop' (training ends cleanly, checkpoint kept)."""
        self._hard_stop.add(trial_id)

    def _replace(self, worker: _Worker) -> None:
        if worker.process.is_alive():  # its trial is lost anyway: no grace period
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
        fresh = self._spawn(worker.slot)
        worker.process, worker.conn = fresh.process, fresh.conn
        worker.trial = None
        worker.finished = 0

    def _retire(self, worker: _Worker, slot: str | None = None) -> None:
        """An idle worker exits cleanly; a fresh process takes its place (on ``slot``)."""
        with contextlib.suppress(OSError):
            worker.conn.send(Exit())
        worker.process.join(10)
        worker.slot = worker.slot if slot is None else slot
        self._replace(worker)

    def _ended(self, worker: _Worker, trial_id: str) -> None:
        """Bookkeeping after a worker's trial ended (it is idle again)."""
        worker.trial = None
        worker.finished += 1
        if self.placer is not None:
            self.placer.release(trial_id)
        if self.recycle_after is not None and worker.finished >= self.recycle_after:
            self._retire(worker)

    def _fail(self, worker: _Worker, error: str, end: AttemptEnd) -> AttemptOutcome:
        trial = worker.trial
        assert trial is not None
        log = _tail(worker.workdir / LOG_FILE) if worker.workdir else ""
        if self.placer is not None:
            self.placer.release(trial.trial_id)
        self._replace(worker)
        return AttemptOutcome(trial.trial_id, end, error=error + (f"\n{log}" if log else ""))

    def _timeouts(self) -> list[AttemptOutcome]:
        if self.trial_timeout is None:
            return []
        now = time.monotonic()
        return [
            self._fail(
                w,
                f"trial exceeded its time limit of {self.trial_timeout:.0f} s",
                AttemptEnd.TIMED_OUT,
            )
            for w in self._workers
            if w.trial is not None
            and w.started is not None
            and now - w.started > self.trial_timeout
        ]

    def wait(self) -> list[AttemptOutcome]:
        outcomes: list[AttemptOutcome] = []
        while not outcomes and self.running:
            busy = [w for w in self._workers if w.trial is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for worker in busy:
                if worker.trial is None:
                    continue
                dead = worker.process.sentinel in ready
                if worker.conn in ready:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):  # the worker's end closed: it is dying
                        dead = True
                    else:
                        outcome = self._handle(worker, message)
                        if outcome is not None:
                            outcomes.append(outcome)
                        continue
                if dead or not worker.process.is_alive():
                    worker.process.join(2)  # reap it, so that the exit code is known
                    code = worker.process.exitcode
                    outcomes.append(
                        self._fail(
                            worker, f"the trial's process died (exit code {code})", AttemptEnd.DIED
                        )
                    )
            outcomes += self._timeouts()
        return outcomes

    def _handle(
        self,
        worker: _Worker,
        message: TrialBegan | AttemptStarts | ProgressMessage | ReportMessage | AttemptDone,
    ) -> AttemptOutcome | None:
        assert worker.trial is not None
        if isinstance(message, TrialBegan):
            worker.started = time.monotonic()
            return None
        if isinstance(message, ProgressMessage):
            self.progressed(message.trial_id, message.progress)
            return None
        if isinstance(message, AttemptStarts):
            self.started(message.trial_id, message.step)
            return None
        if isinstance(message, ReportMessage):
            answer = (
                Verdict.STOP
                if message.trial_id in self._hard_stop
                else Verdict.of(self.report(message.trial_id, message.step, message.metrics))
            )
            worker.conn.send(int(answer))
            return None
        self._ended(worker, message.trial_id)
        if message.error is not None:
            end = AttemptEnd.STORAGE if message.storage else AttemptEnd.RAISED
            return AttemptOutcome(message.trial_id, end, error=message.error)
        return returned_outcome(message.trial_id, message.returned)

    def abort(self) -> None:
        """Kill every worker at once, busy or idle (an idle one may still be starting up, and
        would keep an aborted sweep waiting for it); running trials resume from their last
        resume checkpoint."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.kill()
        for worker in self._workers:
            worker.process.join()
            worker.conn.close()

    def close(self) -> None:
        """End every worker. A worker still running a trial (the sweep is being aborted: a
        second Ctrl-C, an error in the sweep's process) is killed at once; its trial stays
        unfinished in the store and resumes from its last resume checkpoint."""
        for worker in self._workers:
            if worker.trial is not None and worker.process.is_alive():
                worker.process.kill()
                continue
            with contextlib.suppress(OSError):
                worker.conn.send(Exit())
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
