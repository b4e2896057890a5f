"""A full disk, a read-only output directory and a corrupt store: one clear error (exit 2, no
traceback), never counted as the trials' failure, the store stays consistent, and the same
command resumes the sweep once the disk has room; a corrupt store is named and never replaced."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from killing import integrity, results, run_sweep

from automl_vision.cli import main
from automl_vision.store.database import SweepStore
from automl_vision.trial import TrialStatus


def _no_trial_failed(output: Path) -> None:
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        trials = store.load_trials()
    finally:
        store.close()
    assert trials and not [t for t in trials if t.status is TrialStatus.FAILED]


@pytest.mark.slow
def test_disk_full_is_one_error_and_the_sweep_resumes(
    forker, digits_folder, tmp_path, reference
) -> None:
    output = tmp_path / "run"
    # the 4th resume checkpoint hits a full disk (injected: OSError(ENOSPC) on its write)
    done = run_sweep(digits_folder, output, "checkpoint:4:enospc", codes=(2,), forker=forker)
    err = done.stderr
    assert "no space left on the device" in err and "resume" in err and "Traceback" not in err
    assert "resume.safetensors" in err  # names the file it could not write
    assert integrity(output) == "ok"
    _no_trial_failed(output)
    assert not list(output.rglob("*.tmp"))  # no half-written checkpoint left behind
    run_sweep(digits_folder, output, codes=(0,), forker=forker)  # the disk has room again: resume
    assert results(output) == reference


@pytest.fixture
def small_mount(tmp_path):
    """A 10 MiB tmpfs (a disk that fills up for real), unmounted afterwards; skipped where
    mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    point = tmp_path / "disk"
    point.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", str(point)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.slow
def test_a_disk_that_fills_up_for_real(forker, digits_folder, small_mount, reference) -> None:
    output = small_mount / "run"  # the sweep needs ~18 MB: it runs out during trial 1
    done = run_sweep(digits_folder, output, codes=(2,), forker=forker)
    assert "no space left on the device" in done.stderr and "Traceback" not in done.stderr
    assert integrity(output) == "ok"
    _no_trial_failed(output)
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_mount)], check=True)
    run_sweep(digits_folder, output, codes=(0,), forker=forker)
    assert results(output) == reference


def test_a_read_only_output_directory_is_one_error(digits_folder, small_mount, capsys) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    code = main(["tune", "--data", str(digits_folder), "--output-dir", str(small_mount / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and str(small_mount) in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_a_corrupt_store_is_named_and_never_replaced(digits_folder, tmp_path, capsys) -> None:
    output = tmp_path / "run"
    output.mkdir()
    store = output / "sweep.db"
    store.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)  # a damaged header and pages
    before = store.read_bytes()
    code = main(["tune", "--data", str(digits_folder), "--output-dir", str(output), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "sweep.db" in err and "corrupt" in err and "Traceback" not in err
    assert store.read_bytes() == before


def test_force_never_discards_finished_trials(digits_folder, tmp_path) -> None:
    from helpers_sweep import tiny_space

    from automl_vision import tune

    output = tmp_path / "run"
    first = tune(
        digits_folder,
        search_space=tiny_space(number_of_epochs=1),
        max_trials=2,
        output_dir=output,
        progress=False,
    )
    kept = {(t.trial_id, t.status, t.value) for t in first.trials}
    shutil.copy(output / "sweep.db", tmp_path / "before.db")
    again = tune(  # a changed definition, resumed anyway: the finished trials stay as they are
        digits_folder,
        search_space=tiny_space(number_of_epochs=1, learning_rate=0.05),
        max_trials=3,
        output_dir=output,
        progress=False,
        force=True,
    )
    assert kept <= {(t.trial_id, t.status, t.value) for t in again.trials}
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        assert all(n == 1 for n in store.attempt_counts().values())  # none ran again
    finally:
        store.close()


@pytest.mark.slow
def test_a_corrupt_resume_checkpoint_is_named_and_the_trial_starts_again(
    forker, digits_folder, tmp_path, reference
) -> None:
    output = tmp_path / "run"
    assert (
        run_sweep(digits_folder, output, "epoch:5", forker=forker).returncode == -9
    )  # trial 1, epoch 2
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        (queued,) = [t for t in store.load_trials() if t.status is TrialStatus.QUEUED]
    finally:
        store.close()
    resume = output / "trials" / queued.trial_id / "resume.safetensors"
    raw = bytearray(resume.read_bytes())
    raw[-7] ^= 0xFF  # a flipped bit: the checksum no longer matches
    resume.write_bytes(bytes(raw))
    run_sweep(digits_folder, output, codes=(0,), forker=forker)
    assert results(output) == reference  # it started again; its stored reports were replays
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        (trial,) = [t for t in store.load_trials() if t.trial_id == queued.trial_id]
    finally:
        store.close()
    assert any(
        "checksum" in note and "resume.safetensors" in note for note in trial.artifacts["notes"]
    )
    assert (resume.parent / "resume.safetensors.corrupt").is_file()
