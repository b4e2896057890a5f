"""Every output is written atomically: a kill or a full disk mid-write leaves the previous file
whole (or none), never a truncated one, and the error names the real file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from automl_vision import storage
from automl_vision.planning.memory import Shape, step_peaks
from automl_vision.reporting.plots import save_plots
from automl_vision.reporting.result import TuneResult
from automl_vision.storage import write_atomically
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus


def _trials() -> list[Trial]:
    out = []
    for i in range(3):
        t = Trial(index=i, params={"learning_rate": 0.01 * (i + 1)})
        t.reports = [Report(step=s, value=0.1 * s + 0.01 * i, metrics={}) for s in (1, 2)]
        t.status, t.value = TrialStatus.COMPLETED, t.reports[-1].value
        out.append(t)
    return out


@pytest.fixture
def full_disk(monkeypatch):
    """Every atomic write fails as on a full disk, after its temporary file was written."""

    def refuse(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(src))

    monkeypatch.setattr(storage.os, "replace", refuse)


def _no_temporary_left(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_write_atomically_keeps_the_old_file_and_names_the_real_one(tmp_path, full_disk):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(OSError) as caught:
        write_atomically(path, "new")
    assert caught.value.filename == str(path) and path.read_text() == "old"
    _no_temporary_left(tmp_path)


def test_a_link_at_the_path_is_replaced_not_written_through(tmp_path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    write_atomically(link, "new")
    assert target.read_text() == "keep" and not link.is_symlink() and link.read_text() == "new"


def test_plots_are_never_left_truncated(tmp_path, monkeypatch) -> None:
    trials = _trials()
    save_plots(trials, PrimaryMetricGoal.MAXIMIZE, "accuracy", tmp_path, trials[-1])
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.png")}
    assert before and all(before.values())
    monkeypatch.setattr(
        storage.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full"))
    )
    with pytest.raises(OSError):
        save_plots(trials, PrimaryMetricGoal.MAXIMIZE, "accuracy", tmp_path, trials[-1])
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.png")} == before
    _no_temporary_left(tmp_path)


def test_metrics_json_is_replaced_whole(tmp_path, full_disk) -> None:
    path = tmp_path / "metrics.json"
    path.write_text('{"old": true}')
    result = TuneResult.from_trials(
        _trials(), goal=PrimaryMetricGoal.MAXIMIZE, primary_metric="accuracy", end_reason="done"
    )
    with pytest.raises(OSError) as caught:
        result.to_json(path)
    assert caught.value.filename == str(path) and path.read_text() == '{"old": true}'


def test_the_memory_probe_cache_is_replaced_whole(tmp_path, full_disk) -> None:
    shape = Shape("test_resnet", 16, 4)
    with pytest.raises(OSError):
        step_peaks([shape], tmp_path, identity={}, probe=lambda s: {x: 10 for x in s})
    assert not (tmp_path / "memory_probe.json").exists()
    _no_temporary_left(tmp_path)


def test_nothing_writes_outputs_in_place() -> None:
    """Outputs go through write_atomically (or the tensor-file writer): no write_text/savefig
    to a final path in the modules that write a sweep's outputs."""
    root = Path(__file__).resolve().parents[2] / "automl_vision"
    for module in (
        "reporting/plots.py",
        "reporting/result.py",
        "dashboard/report.py",
        "planning/memory.py",
        "store/trial_folders.py",
        "predict.py",
    ):
        text = (root / module).read_text()
        assert ".write_text(" not in text and "savefig(path" not in text, module
    assert os.replace  # (the real one is restored by monkeypatch)


def test_cache_clear_removes_only_the_caches_own_files(tmp_path) -> None:
    """A mistyped ``cache clear --dir`` used to delete every *.npy, *.json and *.tmp there."""
    import numpy as np

    from automl_vision.data.cache import clear_cache, decode_images

    images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    decode_images(images, 8, cache_dir=tmp_path, fingerprint="ab" * 16)
    mine = {"data.npy": b"x", "model_1.npy": b"x", "notes.json": b"{}", "build.tmp": b"t"}
    for name, raw in mine.items():
        (tmp_path / name).write_bytes(raw)
    freed, entries = clear_cache(tmp_path)
    assert entries == 1 and freed > 0
    assert {p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")} == set(mine)
