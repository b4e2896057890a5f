"""Pool workers: a worker killed mid-trial costs at most the epoch it was in (a new attempt
resumes the trial from its last resume checkpoint), and workers die with the sweep's process
(kill -9 of the sweep leaves no orphan training on)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from killing import integrity, results, start_sweep, wait_for_reports

from automl_vision.store.database import SweepStore


def _workers(pid: int) -> list[int]:
    """The pool's trial workers among ``pid``'s children (not multiprocessing's helpers)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _attempts_started(output: Path) -> int:
    try:
        store = SweepStore.open_readonly(output / "sweep.db")
    except ValueError:  # not created yet
        return 0
    try:
        return sum(len(store.attempts(t.index)) for t in store.load_trials())
    finally:
        store.close()


def _busy_worker(sweep, output: Path, reports: int = 2) -> int:
    """A worker pid while it trains (``reports`` reports are in the store, or with 0, a trial
    has started)."""
    if reports:
        wait_for_reports(sweep, output, reports)
    deadline = time.monotonic() + 600
    while not _attempts_started(output):
        assert time.monotonic() < deadline and sweep.poll() is None, "no trial started"
        time.sleep(0.1)
    deadline = time.monotonic() + 300
    while not (workers := _workers(sweep.pid)):
        assert time.monotonic() < deadline, "no worker process found"
        time.sleep(0.1)
    return workers[0]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_workers_die_with_the_sweep(digits_folder, tmp_path) -> None:
    output = tmp_path / "run"
    # 200 epochs and no report before the last: a worker notices nothing from its pipe for
    # minutes, so only the parent-death signal (or the watchdog) can end it in time
    options = ("--epochs", "200", "--evaluation-frequency", "200", "--concurrency", "2")
    sweep = start_sweep(digits_folder, output, *options)
    try:
        _busy_worker(sweep, output, reports=0)
        deadline = time.monotonic() + 600
        # each worker has started (past its start-up imports) once it opens its trial's log
        while len(list(output.glob("trials/*/log.txt"))) < 2:
            assert time.monotonic() < deadline and sweep.poll() is None, "workers did not start"
            time.sleep(0.1)
        time.sleep(0.5)  # they train
        workers = _workers(sweep.pid)
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(30)
        deadline = time.monotonic() + 60
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {w: Path(f"/proc/{w}/stat").read_text() for w in workers if _alive(w)}
        assert not left, f"a worker outlived the sweep: {left}"
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait(30)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_killed_worker_costs_at_most_its_epoch(digits_folder, tmp_path) -> None:
    output = tmp_path / "run"
    sweep = start_sweep(digits_folder, output, "--epochs", "5", "--concurrency", "2")
    os.kill(_busy_worker(sweep, output), signal.SIGKILL)
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, err
    assert integrity(output) == "ok"
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        trials = store.load_trials()
        attempts = {t.index: store.attempts(t.index) for t in trials}
        first_reports = {t.index: len(store.reports(t.index, attempt=1)) for t in trials}
    finally:
        store.close()
    assert all(t.status.value in ("COMPLETED", "STOPPED") for t in trials)
    retried = [i for i, a in attempts.items() if len(a) == 2]
    assert len(retried) == 1  # the killed worker's trial, once more from its checkpoint
    first, second = attempts[retried[0]]
    assert "process died" in first["ended"] and first["status"] == "INTERRUPTED"
    # it lost at most the epoch it was in: the new attempt starts after every reported epoch
    # but (at most) the last, whose checkpoint the kill may have beaten
    assert first_reports[retried[0]] - second["started_from_epoch"] <= 1
    for _, _, _, _, reports in results(output):
        steps = [step for step, _ in reports]
        assert steps == list(range(1, len(steps) + 1))
