"""Process-pool executor: one long-lived worker process per device slot.

Each worker owns a slot (``CUDA_VISIBLE_DEVICES`` is set before anything imports torch, and
several slots may name the same GPU to run several trials on it), runs one trial at a time and
talks to the scheduler over a pipe: a report is sent and the worker waits for the answer (stop
or go on), so every decision is made on the scheduler's side, in order. A trial that raises is
FAILED with its error; a worker that dies (segfault, out-of-memory kill) or a trial that exceeds
its time limit fails its trial, and the worker is replaced; the sweep goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from automl_vision.sweep.executors import Executor, TrialOutcome, TrialResult, _result
from automl_vision.trial import Trial, TrialStatus

__all__ = ["ProcessPoolExecutor", "TrialContext"]


@dataclass(frozen=True)
class TrialContext:
    """What a trial function knows besides its params: where to write and which devices."""

    trial_id: str
    trial_index: int
    workdir: str
    devices: str  # the slot's CUDA_VISIBLE_DEVICES value, "" for CPU
    #: the trial was promoted from a pause: continue the run its report stopped
    promoted: bool = False


#: ``target(params, report, context) -> float | TrialResult``; must be importable (picklable).
TrialTarget = Callable[[dict, Callable[[int, Mapping[str, float]], bool], TrialContext], Any]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _redirect_output(path: Path) -> None:
    """Send this process's stdout/stderr (Python and C level) to the trial's log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _worker_main(conn: Connection, devices: str, target: TrialTarget, threads: int) -> None:
    """Worker loop: receive a trial, run it, send its reports and outcome."""
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
        if message[0] == "exit":
            return
        _, trial_id, index, params, workdir, promoted = message
        Path(workdir).mkdir(parents=True, exist_ok=True)
        _redirect_output(Path(workdir) / "log.txt")
        stopped = False

        def report(step: int, metrics: Mapping[str, float], trial_id: str = trial_id) -> bool:
            nonlocal stopped
            conn.send(("report", trial_id, int(step), {k: float(v) for k, v in metrics.items()}))
            answer = bool(conn.recv())
            stopped = stopped or answer
            return answer

        context = TrialContext(trial_id, index, workdir, devices, promoted)
        try:
            value = target(params, report, context)
            status = TrialStatus.STOPPED if stopped else TrialStatus.COMPLETED
            if isinstance(value, TrialResult):
                payload: Any = ("result", value.value, dict(value.metrics), dict(value.artifacts))
            else:
                payload = ("value", value)
            conn.send(("done", trial_id, status.value, payload, None))
        except BaseException as err:  # everything a trial raises fails the trial, not the pool
            traceback.print_exc()
            text = "".join(traceback.format_exception_only(type(err), err)).strip()
            conn.send(("done", trial_id, TrialStatus.FAILED.value, None, text))
            if isinstance(err, KeyboardInterrupt):
                return


@dataclass
class _Worker:
    slot: str
    process: Any
    conn: Connection
    trial: Trial | None = None
    started: float = 0.0
    workdir: Path | None = None


class ProcessPoolExecutor(Executor):
    """Runs ``target(params, report, context)`` in one worker process per slot.

    ``slots``: one ``CUDA_VISIBLE_DEVICES`` value per worker (e.g. ``["0", "0", "1"]`` runs two
    trials on GPU 0 and one on GPU 1; ``["0,1"]`` gives one trial two GPUs; ``[""] * 2`` runs
    two CPU trials). ``trial_timeout`` is in seconds.
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
    ) -> None:
        super().__init__()
        if not slots:
            raise ValueError("the process pool needs at least one slot")
        self.target = target
        self.slots = list(slots)
        self.capacity = len(self.slots)
        self.output_dir = Path(output_dir)
        self.trial_timeout = trial_timeout
        self.threads = threads_per_worker or max(1, (os.cpu_count() or 1) // self.capacity)
        self._ctx = mp.get_context(start_method)
        self._workers: list[_Worker] = [self._spawn(slot) for slot in self.slots]
        self._hard_stop: set[str] = set()

    def _spawn(self, slot: str) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(child, slot, self.target, self.threads),
            daemon=True,
            name=f"trial-worker[{slot}]",
        )
        process.start()
        child.close()
        return _Worker(slot, process, parent)

    @property
    def running(self) -> int:
        return sum(w.trial is not None for w in self._workers)

    def start(self, trial: Trial) -> None:
        worker = next((w for w in self._workers if w.trial is None), None)
        if worker is None:
            raise RuntimeError("no free worker: the scheduler started more trials than slots")
        worker.trial = trial
        worker.started = time.monotonic()
        worker.workdir = self.output_dir / "trials" / trial.trial_id
        worker.conn.send(
            (
                "run",
                trial.trial_id,
                trial.index,
                dict(trial.params),
                str(worker.workdir),
                trial.promoted,
            )
        )

    def stop(self, trial_id: str) -> None:
        """The trial's next report is answered 'stop' (training ends cleanly, checkpoint kept)."""
        self._hard_stop.add(trial_id)

    def _replace(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        worker.conn.close()
        fresh = self._spawn(worker.slot)
        worker.process, worker.conn = fresh.process, fresh.conn
        worker.trial = None

    def _fail(self, worker: _Worker, error: str) -> TrialOutcome:
        trial = worker.trial
        assert trial is not None
        log = _tail(worker.workdir / "log.txt") if worker.workdir else ""
        self._replace(worker)
        return TrialOutcome(
            trial.trial_id, TrialStatus.FAILED, error=error + (f"\n{log}" if log else "")
        )

    def _timeouts(self) -> list[TrialOutcome]:
        if self.trial_timeout is None:
            return []
        now = time.monotonic()
        return [
            self._fail(w, f"trial exceeded its time limit of {self.trial_timeout:.0f} s")
            for w in self._workers
            if w.trial is not None and now - w.started > self.trial_timeout
        ]

    def wait(self) -> list[TrialOutcome]:
        outcomes: list[TrialOutcome] = []
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
                        self._fail(worker, f"the trial's process died (exit code {code})")
                    )
            outcomes += self._timeouts()
        return outcomes

    def _handle(self, worker: _Worker, message: tuple[Any, ...]) -> TrialOutcome | None:
        trial = worker.trial
        assert trial is not None
        if message[0] == "report":
            _, trial_id, step, metrics = message
            stop = trial_id in self._hard_stop or self.report(trial_id, step, metrics)
            worker.conn.send(stop)
            return None
        _, trial_id, status, payload, error = message
        worker.trial = None
        if error is not None:
            return TrialOutcome(trial_id, TrialStatus.FAILED, error=error)
        if payload[0] == "result":
            value = TrialResult(payload[1], payload[2], payload[3])
        else:
            value = payload[1]
        return _result(trial_id, value, TrialStatus(status))

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(("exit",))
        deadline = time.monotonic() + 5
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
