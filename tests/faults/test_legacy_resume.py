"""A sweep killed under release 1 (pickle checkpoints, no trial owners) and resumed by this
release: refused in one line until ``automl-vision convert --trust``, then resumed from its last
saved epoch with results identical to an uninterrupted run."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest
import torch
from killing import results, run_sweep

from automl_vision.artifacts import BEST_FILE, OWNER_FILE, RESUME_FILE
from automl_vision.cli import main
from automl_vision.store.database import SweepStore
from automl_vision.training.checkpoint import Checkpoint, load_checkpoint
from automl_vision.training.resume import load_resume

pytestmark = pytest.mark.slow


def _as_release_1(output: Path) -> int:
    """Rewrite a sweep directory as release 1 left it; return how many resume states."""
    resumes = 0
    for folder in sorted((output / "trials").iterdir()):
        if (folder / RESUME_FILE).is_file():
            state = load_resume(folder / RESUME_FILE)
            best = state["progress"]["best"]
            if best is not None:
                state["progress"]["best"] = Checkpoint.from_tree(
                    best["fields"], best["state_dict"], folder
                )
            state["format"] = 1
            buffer = io.BytesIO()
            torch.save(state, buffer)
            payload = buffer.getvalue()
            header = b"automl_vision-resume " + hashlib.sha256(payload).hexdigest().encode()
            (folder / "resume.pt").write_bytes(header + b"\n" + payload)
            (folder / RESUME_FILE).unlink()
            resumes += 1
        if (folder / BEST_FILE).is_file():
            best = load_checkpoint(folder / BEST_FILE)
            torch.save(
                {**best.to_tree(), "state_dict": best.state_dict, "format": 1},
                folder / "best.pt",
            )
            (folder / BEST_FILE).unlink()
        (folder / OWNER_FILE).unlink(missing_ok=True)
    db = sqlite3.connect(output / "sweep.db")
    try:
        db.execute("DELETE FROM meta WHERE key = 'sweep_id'")
        db.execute("UPDATE attempts SET artifacts = replace(artifacts, ?, 'best.pt')", (BEST_FILE,))
        db.commit()
    finally:
        db.close()
    return resumes


def test_a_release_1_sweep_is_refused_then_converted_and_resumed(
    forker, digits_folder, tmp_path, reference, capsys
) -> None:
    output = tmp_path / "run"
    assert (
        run_sweep(digits_folder, output, "epoch:5", forker=forker).returncode == -9
    )  # trial 1, epoch 2
    assert _as_release_1(output) >= 1
    refused = run_sweep(digits_folder, output, codes=(2,), forker=forker)
    assert "earlier automl_vision release" in refused.stderr and "convert" in refused.stderr
    assert "--trust" in refused.stderr
    assert main(["convert", str(output)]) == 2  # reading pickles needs the user's word
    capsys.readouterr()
    assert main(["convert", str(output), "--trust"]) == 0
    assert "converted" in capsys.readouterr().out
    assert not list(output.rglob("*.pt"))
    run_sweep(digits_folder, output, codes=(0,), forker=forker)
    assert results(output) == reference
    store = SweepStore.open_readonly(output / "sweep.db")
    try:
        starts = [
            a.get("started_from_epoch")
            for t in store.load_trials()
            for a in t.artifacts.get("attempts", [])
        ]
    finally:
        store.close()
    assert max(starts) >= 1  # the converted resume state was continued, not started over
