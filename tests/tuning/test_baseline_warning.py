"""A sweep says when its best model is no better than a trivial guess: in its summary,
``status``, ``metrics.json``, ``report.html`` and the dashboard; it keeps its baseline on a
resume; a multilabel sweep shows its tuned per-class thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers_sweep import tiny_space
from PIL import Image

from automl_vision import TuneResult, tune
from automl_vision.cli import main
from automl_vision.dashboard.render import render_page
from automl_vision.dashboard.report import write_html_report
from automl_vision.dashboard.snapshot import load_snapshot

WARNED = "no better than a constant guess"


def _tune_noise(root: Path, run: Path) -> TuneResult:
    return tune(root, search_space=tiny_space(number_of_epochs=1), max_trials=1,
                output_dir=run, progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def noise_folder(tmp_path_factory) -> Path:
    """One 1-epoch trial on 16 px random noise: 3 classes of 12 images, plus 12 more of one."""
    root = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(0)
    for name, count in (("many", 24), ("few", 12), ("some", 12)):
        (root / name).mkdir()
        for i in range(count):
            pixels = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def noise_sweep(noise_folder, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("noise_run") / "run"
    _tune_noise(noise_folder, run)
    return run


def test_a_sweep_on_noise_warns_with_its_baseline_and_causes(noise_sweep) -> None:
    result = TuneResult.load(noise_sweep)
    summary = result.summary()
    assert "trivial baseline (majority class 'many') 0.5556" in summary
    assert WARNED in summary
    for cause in ("random weights", "training images", "16 px training crop", "1 epoch"):
        assert cause in summary, cause
    data = json.loads((noise_sweep / "metrics.json").read_text())
    assert data["baseline"]["value"] == pytest.approx(5 / 9)  # 5 of 9 validation images
    assert data["baseline"]["beats_baseline"] is False
    assert data["settings"]["baseline"]["rule"] == "majority class 'many'"


def test_status_report_and_dashboard_show_the_warning(noise_sweep, capsys, tmp_path) -> None:
    assert main(["status", str(noise_sweep)]) == 0
    assert WARNED in capsys.readouterr().out
    assert main(["status", str(noise_sweep), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["baseline"]["beats_baseline"] is False
    html = write_html_report(noise_sweep, tmp_path / "report.html").read_text()
    assert "baseline-warning" in html and WARNED in html
    assert WARNED in render_page([load_snapshot(noise_sweep)], "live", refresh_seconds=5)


def test_a_resumed_sweep_keeps_its_baseline(noise_folder, noise_sweep) -> None:
    before = TuneResult.load(noise_sweep).settings["baseline"]
    resumed = _tune_noise(noise_folder, noise_sweep)  # max_trials reached: nothing runs
    assert len(resumed.trials) == 1
    assert resumed.settings["baseline"] == before
    assert TuneResult.load(noise_sweep).settings["baseline"] == before
    assert WARNED in resumed.summary()


def test_digits_trained_briefly_beat_the_baseline(digits_folder, tmp_path) -> None:
    result = tune(digits_folder, search_space=tiny_space(number_of_epochs=2, learning_rate=0.05),
                  max_trials=1, include_default_trial=False, output_dir=tmp_path / "run",
                  progress=False)  # fmt: skip
    verdict = result.baseline
    assert verdict is not None and verdict.beats, verdict
    assert "trivial baseline (majority class" in result.summary()
    assert WARNED not in result.summary()


def test_multilabel_thresholds_in_the_summary_and_the_report(
    digits_multilabel_folder, tmp_path
) -> None:
    run = tmp_path / "run"
    result = tune(digits_multilabel_folder, search_space=tiny_space(number_of_epochs=1),
                  max_trials=1, output_dir=run, progress=False)  # fmt: skip
    thresholds = result.class_thresholds
    assert sorted(thresholds) == sorted(result.settings["class_names"])
    assert "tuned thresholds: " in result.summary()
    assert result.baseline is not None and "for every image" in result.baseline.baseline.rule
    html = write_html_report(run, tmp_path / "report.html").read_text()
    assert "Tuned thresholds" in html
    for name, value in thresholds.items():
        assert f"<tr><td>{name}</td><td>{value:.3f}</td></tr>" in html
    assert json.loads((run / "metrics.json").read_text())["class_thresholds"] == pytest.approx(
        thresholds
    )
