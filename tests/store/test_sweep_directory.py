"""A sweep directory can be moved or copied and still read; a read-only or corrupt store is read
without writing or refused with one clear message."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from automl_vision.cli import main
from automl_vision.reporting.result import TuneResult
from automl_vision.store.database import CorruptStoreError, SweepStore
from automl_vision.store.sweep_dir import artifact_path
from automl_vision.trial import Trial


def _no_nan(text: str) -> None:
    raise ValueError(f"bare {text} in JSON")


# -- a sweep directory can be moved --------------------------------------------------------
def test_paths_are_relative_to_the_sweep_directory(finished_sweep: Path) -> None:
    db = sqlite3.connect(finished_sweep / "sweep.db")
    artifacts = [json.loads(a) for (a,) in db.execute("SELECT artifacts FROM attempts")]
    db.close()
    assert all(a["checkpoint"].startswith("trials/") for a in artifacts)
    metrics = json.loads((finished_sweep / "metrics.json").read_text(), parse_constant=_no_nan)
    assert all(t["artifacts"]["checkpoint"].startswith("trials/") for t in metrics["trials"])
    link = finished_sweep / "best.safetensors"
    assert link.is_symlink() and not os.readlink(link).startswith("/")


def test_a_copied_sweep_is_read_and_exported_from_another_directory(
    finished_sweep: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = TuneResult.load(copy)
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert str(result.best_checkpoint).startswith(str(copy))
    assert (copy / "best.safetensors").is_file()  # the relative link resolves inside the copy
    pytest.importorskip("onnx")
    assert main(["export", str(copy), "--onnx"]) == 0
    assert (copy / "best.onnx").is_file()


def test_old_absolute_artifact_records_still_read(tmp_path: Path) -> None:
    trial = Trial(index=0, params={}, artifacts={"checkpoint": "/old/place/best.safetensors"})
    assert artifact_path(trial, "checkpoint", tmp_path) == Path("/old/place/best.safetensors")
    trial.artifacts["checkpoint"] = "trials/trial_0000/best.safetensors"
    assert (
        artifact_path(trial, "checkpoint", tmp_path)
        == tmp_path / "trials/trial_0000/best.safetensors"
    )


# -- read-only and corrupt stores ----------------------------------------------------------
def test_status_reads_without_writing(finished_sweep: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    before = (copy / "sweep.db").read_bytes()
    store = SweepStore.open_readonly(copy / "sweep.db")
    assert len(store.load_trials()) == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.log("note", "x")
    store.close()
    assert (copy / "sweep.db").read_bytes() == before
    assert main(["status", str(copy)]) == 0
    assert "2 trials" in capsys.readouterr().out


def test_read_only_folder_falls_back_to_immutable(finished_sweep: Path, tmp_path, monkeypatch):
    """Where ``mode=ro`` cannot open a WAL store (no -shm, folder not writable), immutable=1
    is used; simulated, as root can write anywhere."""
    real = sqlite3.connect

    def connect(database, *args, **kwargs):
        if "immutable" not in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    store = SweepStore.open_readonly(finished_sweep / "sweep.db")
    assert len(store.load_trials()) == 2
    store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_status_on_a_read_only_copy(finished_sweep: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "ro"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    os.chmod(copy / "sweep.db", 0o444)
    os.chmod(copy, 0o555)
    try:
        assert main(["status", str(copy)]) == 0
        assert main(["report", str(copy), "--output-dir", str(tmp_path / "out")]) == 0
        assert main(["report", str(copy)]) == 2
        assert "--output-dir" in capsys.readouterr().err
    finally:
        os.chmod(copy, 0o755)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "not_a_sweep"])
def test_corrupt_store_is_one_clear_message(
    finished_sweep: Path, tmp_path: Path, capsys, damage: str
) -> None:
    copy = tmp_path / "bad"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    db = copy / "sweep.db"
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    if damage == "garbage":
        db.write_bytes(b"this is not sqlite" * 100)
    elif damage == "truncate":
        db.write_bytes(db.read_bytes()[:1500])
    else:
        db.unlink()
        sqlite3.connect(db).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(CorruptStoreError, match="not a readable sweep store"):
        TuneResult.load(copy)
    for command in ("status", "report"):
        assert main([command, str(copy)]) == 2
        err = capsys.readouterr().err
        assert "not a readable sweep store" in err and "Traceback" not in err
