"""SIGINT and SIGTERM: the running trials pause after their epoch, the sweep exits 130 / 143
saying how to resume, and the same command finishes it with nothing lost; a second Ctrl-C
exits at once, still losing nothing that was committed."""

from __future__ import annotations

import signal
import time

import pytest
from killing import integrity, results, run_sweep, start_sweep, wait_for_reports

from automl_vision.store.database import SweepStore
from automl_vision.training.resume import load_resume
from automl_vision.trial import TrialStatus


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
    digits_folder, tmp_path, reference, sent, code, concurrency
) -> None:
    output = tmp_path / "run"
    options = ("--concurrency", str(concurrency))
    sweep = start_sweep(digits_folder, output, *options)
    wait_for_reports(sweep, output, 1)
    sweep.send_signal(sent)
    _, err = sweep.communicate(timeout=120)
    assert sweep.returncode == code, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert integrity(output) == "ok"
    paused = _paused_trials_kept_their_epochs(output)
    assert paused  # the signal came while a trial was running
    run_sweep(digits_folder, output, None, *options, codes=(0,))
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
    digits_folder, tmp_path, reference
) -> None:
    output = tmp_path / "run"
    sweep = start_sweep(digits_folder, output)
    wait_for_reports(sweep, output, 1)
    sweep.send_signal(signal.SIGINT)
    time.sleep(0.05)
    sweep.send_signal(signal.SIGINT)
    _, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    assert integrity(output) == "ok"
    run_sweep(digits_folder, output, codes=(0,))
    assert results(output) == reference
