"""kill -9 a benchmark in the middle (its first cell finished, its second running), run the same
command again: the finished cell is not run again (its sweep, models and cell.json untouched)
and the benchmark completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers_bench_runs import METHOD_YAML, write_data
from killing import sweep_env

from automl_vision.cli import main
from automl_vision.store.sweep_dir import read_sweep


def _state(cell: Path) -> str | None:
    try:
        return json.loads((cell / "cell.json").read_text()).get("state")
    except (OSError, ValueError):
        return None


def _files(cell: Path) -> dict[str, int]:
    """Every retrained model's result and probabilities, by path, with its mtime."""
    return {
        str(p.relative_to(cell)): p.stat().st_mtime_ns
        for p in [*cell.glob("retrain/*/result.json"), *cell.glob("retrain/*/test_probs.npy")]
    }


@pytest.mark.slow
def test_a_killed_benchmark_resumes_without_running_a_finished_cell_again(tmp_path, capsys) -> None:
    paths = write_data(tmp_path / "data")
    out = tmp_path / "out"
    bench = tmp_path / "bench.yaml"
    dataset = {"data": str(paths["data"]), "test_data": str(paths["test_data"])}
    bench.write_text(
        yaml.safe_dump(
            {
                "datasets": {"colours": dataset},
                "methods": {"first": METHOD_YAML, "second": {**METHOD_YAML, "seed": 1}},
                "seeds": 2,
                "retrain_on": "train",
                "bootstrap": 200,
                "output_dir": str(out),
            }
        )
    )
    first, second = out / "cells" / "colours" / "first", out / "cells" / "colours" / "second"
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "automl_vision.cli", "benchmark", str(bench), "--quiet"],
            env=sweep_env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while _state(first) != "finished":
            assert child.poll() is None, err.read_text()[-2000:]
            assert time.monotonic() < deadline, "the first cell did not finish in time"
            time.sleep(0.05)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert _state(second) != "finished"  # killed in the middle of the benchmark
    assert not (out / "leaderboard.json").exists()
    kept = _files(first)
    assert len(kept) == 4  # rank 1 x 2 seeds: result.json + test_probs.npy
    trials = [t.trial_id for t in read_sweep(first / "sweep").trials]
    record = (first / "cell.json").read_bytes()
    sweep_db = (first / "sweep" / "sweep.db").stat().st_mtime_ns

    assert main(["benchmark", str(bench), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "first" in printed and "second" in printed and "leaderboard.csv:" in printed
    assert _files(first) == kept
    assert [t.trial_id for t in read_sweep(first / "sweep").trials] == trials
    assert (first / "cell.json").read_bytes() == record
    assert (first / "sweep" / "sweep.db").stat().st_mtime_ns == sweep_db
    assert _state(second) == "finished"
    rows = json.loads((out / "leaderboard.json").read_text())["rows"]
    assert {r["method"] for r in rows} == {"first", "second"}
