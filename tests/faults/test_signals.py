"""SIGINT and SIGTERM: the running trials pause after their epoch, the sweep exits 130 / 143
saying how to resume, and the same command finishes it with nothing lost; a second Ctrl-C
exits at once, still losing nothing that was committed."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from helpers_sweep import reports_recorded, tiny_space
from killing import integrity, results, run_sweep, start_sweep, sweep_env, wait_for_reports

from automl_vision.store.database import SweepStore
from automl_vision.training.resume import load_resume
from automl_vision.trial import TrialStatus
from automl_vision.tuning.signals import GRACE_S, SweepInterrupted, interruptible


def _paused_trials_kept_their_epochs(output) -> list:
    """Every unfinished trial's resume checkpoint holds its last recorded epoch."""
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        trials = store.load_trials()
        attempts = {t.index: store.attempts(t.index) for t in trials}
    finally:
        store.close()
    assert not [t for t in trials if t.status is TrialStatus.FAILED]
    paused = [t for t in trials if t.status is TrialStatus.QUEUED]
    for t in paused:
        if not t.reports:
            continue
        saved = load_resume(output / "trials" / t.trial_id / "resume.safetensors")
        assert int(saved["epoch"]) == t.reports[-1].step  # the paused epoch is not re-done
        assert attempts[t.index][-1]["status"] == "INTERRUPTED"
    return paused


@pytest.mark.parametrize(
    ("sent", "code", "concurrency"),
    [
        pytest.param(signal.SIGINT, 130, 1, marks=pytest.mark.slow),
        pytest.param(signal.SIGTERM, 143, 2, marks=pytest.mark.slow),
        pytest.param(signal.SIGINT, 130, 2, marks=pytest.mark.slow),
    ],
    ids=["sigint-inline", "sigterm-pool", "sigint-pool"],
)
def test_a_signal_pauses_the_sweep_and_the_same_command_finishes_it(
    forker, digits_folder, tmp_path, reference, sent, code, concurrency
) -> None:
    output = tmp_path / "run"
    options = ("--concurrency", str(concurrency))
    sweep = start_sweep(digits_folder, output, *options)
    wait_for_reports(sweep, output, 1)
    sweep.send_signal(sent)
    _, err = sweep.communicate(timeout=600)
    assert sweep.returncode == code, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert integrity(output) == "ok"
    paused = _paused_trials_kept_their_epochs(output)
    assert paused  # the signal came while a trial was running
    run_sweep(digits_folder, output, None, *options, codes=(0,), forker=forker)
    final = results(output)
    assert [status for _, _, status, _, _ in final] != ["QUEUED"] * len(final)
    assert all(status in ("COMPLETED", "STOPPED") for _, _, status, _, _ in final)
    for _, _, _, _, reports in final:  # every epoch reported once, none skipped
        steps = [step for step, _ in reports]
        assert steps == list(range(1, len(steps) + 1))
    if concurrency == 1:  # inline, the sweep is deterministic: equal to the uninterrupted one
        assert final == reference


@pytest.mark.slow
def test_a_second_ctrl_c_exits_at_once_and_loses_nothing(
    forker, digits_folder, tmp_path, reference
) -> None:
    output = tmp_path / "run"
    sweep = start_sweep(digits_folder, output)
    wait_for_reports(sweep, output, 1)
    sweep.send_signal(signal.SIGINT)
    time.sleep(0.05)
    sweep.send_signal(signal.SIGINT)
    _, err = sweep.communicate(timeout=600)
    assert sweep.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    assert integrity(output) == "ok"
    run_sweep(digits_folder, output, codes=(0,), forker=forker)
    assert results(output) == reference


# -- a second signal ends the process at once ---------------------------------------------------
_STUCK = """
import sqlite3, sys
from automl_vision.tuning.signals import interruptible
with interruptible(lambda reason: None, "the-sweep"):
    print("ready", flush=True)
    sqlite3.connect(":memory:").execute(  # a native call: no Python handler runs during it
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000000) "
        "SELECT count(*) FROM c"
    ).fetchone()
"""


def test_a_second_signal_ends_the_process_even_inside_a_long_native_call(tmp_path) -> None:
    """The main thread stuck in native code cannot run a Python handler (and two signals merge
    into one call of it): the watcher thread ends the process GRACE_S after the second."""
    err = (tmp_path / "err").open("w+")
    child = subprocess.Popen(
        [sys.executable, "-c", _STUCK], env=sweep_env(), stdout=subprocess.PIPE, stderr=err,
        text=True,
    )  # fmt: skip
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # inside the native call
    child.send_signal(signal.SIGINT)
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    second = time.monotonic()
    try:
        code = child.wait(timeout=GRACE_S + 120)
    finally:
        child.kill()
    elapsed = time.monotonic() - second
    err.seek(0)
    text = err.read()
    # the native call runs for hours: ending at all is the watcher's doing (the bound is loose
    # so that a busy machine cannot fail it)
    assert code == 130 and elapsed < GRACE_S + 60, (code, elapsed, text)
    assert "SIGINT again: stopped at once" in text and "the-sweep" in text


def _signal_myself_twice() -> None:
    for _ in range(2):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    sys.exit(0 if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else 5)


def test_processes_forked_during_a_sweep_ignore_its_signals() -> None:
    """A data loader's workers are forked from the sweep's process: a Ctrl-C at a terminal
    reaches them too; they ignore it (as the sweep's own workers do) instead of running the
    sweep's handler (a warning each, and a SweepInterrupted in the worker the second time)."""
    calls: list[str] = []
    with interruptible(calls.append):
        child = multiprocessing.get_context("fork").Process(target=_signal_myself_twice)
        child.start()
        child.join(30)
    assert child.exitcode == 0 and calls == []


class _SignalsWhenCollected:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # its handler runs here, inside the finalizer


def test_a_second_signal_raised_inside_a_finalizer_still_ends_the_block(capfd) -> None:
    """A data loader's ``__del__`` may be running when the second Ctrl-C comes: Python only
    prints what a finalizer raises. The block raises it when it ends, and prints nothing."""
    with pytest.raises(SweepInterrupted, match="SIGINT again"), interruptible(lambda _: None):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        _SignalsWhenCollected()  # collected at once: the second signal, swallowed
        time.sleep(0.05)
    assert "Exception ignored" not in capfd.readouterr().err


@pytest.mark.slow
def test_a_second_ctrl_c_at_a_terminal_ends_a_sweep_at_once(digits_folder, tmp_path) -> None:
    """Ctrl-C twice at a terminal (SIGINT to the whole process group) during an inline sweep
    whose data loader has worker processes: one warning, then exit 130 at once."""
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"search_space": [tiny_space(
        number_of_workers=2, number_of_epochs=200, training_crop_size=64,
        validation_crop_size=64, validation_resize_size=64,
    )]}))  # fmt: skip
    output = tmp_path / "run"
    err = (tmp_path / "err").open("w+")
    sweep = subprocess.Popen(
        [sys.executable, "-m", "automl_vision.cli", "tune", "--data", str(digits_folder),
         "--search-space", str(space), "--output-dir", str(output), "--max-trials", "1",
         "--executor", "inline", "-q"],
        env=sweep_env(), stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while reports_recorded(output) < 1:
            assert sweep.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(sweep.pid, signal.SIGINT)
        time.sleep(0.5)
        os.killpg(sweep.pid, signal.SIGINT)
        second = time.monotonic()
        reports_at_second = reports_recorded(output)
        code = sweep.wait(timeout=300)
        elapsed = time.monotonic() - second
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)
    err.seek(0)
    text = err.read()
    assert code == 130 and "Traceback" not in text, text
    # at once: the epoch in progress was not waited for (an event, not a wall-clock limit, so a
    # busy machine cannot fail it; the bound below only catches a hang)
    assert reports_recorded(output) == reports_at_second, text
    assert elapsed < GRACE_S + 60, (elapsed, text)
    assert text.count("press Ctrl-C again") == 1, text  # not once per data-loader worker
    assert integrity(output) == "ok"
