"""``automl-vision demo --latency``: a sweep on the scattered digits (small digit scans on a 48 px
canvas, where a larger image reads them better) with accuracy and latency as objectives over
three image sizes; it measures each architecture once, prints the Pareto front and draws it."""

from __future__ import annotations

import json

import pytest

from automl_vision.cli import main


@pytest.mark.slow
def test_the_latency_demo_prints_and_draws_the_front(tmp_path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--latency", "--trials", "2", "--output-dir", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "Pareto front: trial_" in text
    assert (out / "data" / "digits_scattered" / ".complete").is_file()
    assert not (out / "data" / "digits").exists()
    sweep = out / "sweep_latency"
    entries = json.loads((sweep / "deployment.json").read_text())["entries"]
    assert entries and all(e["metrics"]["latency_ms"] > 0 for e in entries)
    assert (sweep / "plots" / "pareto.png").is_file()
    assert (sweep / "plots" / "hypervolume.png").is_file()
