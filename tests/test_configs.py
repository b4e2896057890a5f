"""Every job in configs/ validates, plans, and runs (shortened) on the demo data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automl_vision.cli import main
from automl_vision.store.database import SweepStore
from automl_vision.trial import TrialStatus

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    """configs/ next to a data/ folder written by `automl-vision demo-data`."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(CONFIGS[0].parent, root / "configs")
    assert main(["demo-data", str(root / "data")]) == 0
    return root


def test_there_are_the_three_documented_jobs() -> None:
    assert {p.stem for p in CONFIGS} >= {"digits_multiclass", "digits_multilabel", "fridge_objects"}


@pytest.mark.parametrize("config", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_validates_and_plans(repo_copy, config, capsys) -> None:
    job = repo_copy / "configs" / config.name
    assert main(["validate", str(job)]) == 0
    assert main(["tune", "-c", str(job), "--dry-run", "--output-dir", str(repo_copy / "dry")]) == 0
    assert "worst case:" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "extra", "metric"),
    [
        ("digits_multiclass", [], "accuracy"),
        ("digits_multilabel", [], "iou"),
        (
            "fridge_objects",
            ["--search-space", "cpu_tiny", "--max-concurrent-trials", "1"],
            "accuracy",
        ),
    ],
)
def test_config_runs(repo_copy, name, extra, metric, capsys) -> None:
    job = repo_copy / "configs" / f"{name}.yaml"
    run = repo_copy / "runs" / name
    args = ["tune", "-c", str(job), "--max-trials", "1", "--output-dir", str(run), "-q", *extra]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"best: trial_0000 {metric}=" in out
    (trial,) = SweepStore(run / "sweep.db").load_trials()
    assert trial.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED) and trial.value is not None
