"""Deployment metrics in a sweep: measured once per architecture (reused on resume), recorded on
each trial, constraints refused before training, the Pareto front and ``select``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_deployment import FAKE, fake_measurement
from helpers_sweep import tiny_space

import automl_vision.training.deployment as deployment
from automl_vision import TuneResult, choice, tune
from automl_vision.cli import main
from automl_vision.deployment_cache import DeploymentKey
from automl_vision.store.database import SweepStore
from automl_vision.tuning.deployment import RefusalsRecord


#: fake sizes and latencies: the large model is slower and bigger
@pytest.fixture
def measured(monkeypatch) -> list[str]:
    """The fake measurement in place; the list of architectures measured."""
    return fake_measurement(monkeypatch)


def _sweep(
    data: Path, output: Path, max_trials: int, sampling_override: str = "grid", **extra
) -> TuneResult:
    return tune(
        data,
        search_space=tiny_space(
            model_name=choice("test_resnet", "resnet18"),
            validation_crop_size=32,
            validation_resize_size=32,
            training_crop_size=32,
            number_of_epochs=1,
        ),
        sampling=sampling_override,
        max_trials=max_trials,
        seed=3,
        executor="inline",
        threads_per_trial=1,
        include_default_trial=False,
        training_options={"pretrained": False},
        output_dir=output,
        progress=False,
        **extra,
    )


def test_a_constraint_refuses_the_large_model_before_training(digits_folder, tmp_path, measured):
    run = tmp_path / "run"
    result = _sweep(digits_folder, run, 2, constraints={"params_m": 5})
    assert [t.params["model_name"] for t in result.trials] == ["test_resnet"]
    folders = [p for p in run.iterdir() if p.is_dir() and p.name.startswith("trial")]
    assert len(folders) == 1  # no folder for the refused configuration
    assert result.settings["refused"] >= 1
    assert set(result.settings["refusals"]) == {"params_m > 5"}
    assert "refused by the constraints before training" in TuneResult.load(run).summary()
    assert sorted(set(measured)) == ["resnet18", "test_resnet"]


def test_measured_once_per_architecture_and_reused_on_resume(
    digits_folder, tmp_path, measured, capsys
):
    run = tmp_path / "run"
    objectives = {"accuracy": "max", "params_m": "min"}
    first = _sweep(digits_folder, run, 2, objectives=objectives)
    assert sorted(measured) == ["resnet18", "test_resnet"]
    for trial in first.trials:
        recorded = trial.artifacts["deployment"]
        assert recorded["params_m"] == FAKE[trial.params["model_name"]][0]
    saved = json.loads((run / "metrics.json").read_text())
    assert all("params_m" in t["artifacts"]["deployment"] for t in saved["trials"])
    measured.clear()
    again = _sweep(digits_folder, run, 2, objectives=objectives)  # resumed: nothing measured
    assert measured == []
    assert len(again.trials) == 2

    # the front: the small model is on it (fewer parameters); select within a size bound
    front = again.pareto_front
    assert "test_resnet" in [t.params["model_name"] for t in front]
    assert again.select(params_m=1).params["model_name"] == "test_resnet"
    with pytest.raises(ValueError, match="params_m <= 0.01"):
        again.select(params_m=0.01)

    # the command line: the front as a table, within a bound
    assert main(["pareto", str(run), "--max-params-m", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["trial", "accuracy", "params_m"]
    assert "test_resnet" in table[1] and "resnet18" not in "\n".join(table)
    assert table[-1] == "1 trials on the front within params_m <= 1"


def test_single_objective_front_is_the_best_trial(finished_sweep):
    result = TuneResult.load(finished_sweep)
    assert result.pareto_front == [result.best_trial]


def test_the_cache_key_is_what_the_sweep_measures(tmp_path, measured):
    key = deployment.deployment_key("test_resnet", crop_size=32, num_classes=10, threads=1)
    assert isinstance(key, DeploymentKey)


def test_constraints_that_refuse_everything_end_the_sweep_and_say_why(
    digits_folder, tmp_path, measured
):
    result = _sweep(digits_folder, tmp_path / "run", 3, constraints={"params_m": 0.01},
                    sampling_override="random")  # fmt: skip
    assert result.trials == []
    assert "in a row refused by the constraints" in result.end_reason
    assert result.settings["refused"] >= 100


def test_the_plan_says_objectives_constraints_and_the_latency_runtime(digits_folder, tmp_path):
    text = _sweep(
        digits_folder, tmp_path / "run", 2,
        objectives={"accuracy": "max", "latency_ms": "min"}, constraints={"params_m": 5},
        dry_run=True,
    )  # fmt: skip
    text = text.describe()
    assert "objectives: accuracy (maximize), latency_ms (minimize)" in str(text)
    assert "the search follows accuracy alone" in str(text)
    assert "early termination is front-aware" in str(text)
    assert "constraints (refused before training): params_m <= 5" in str(text)
    assert "onnxruntime on the CPU" in str(text)


def test_refusals_reach_the_store_while_the_sweep_runs(
    digits_folder, tmp_path, measured, monkeypatch
):
    written: list[int] = []
    original = SweepStore.set_meta

    def spy(self, values):
        settings = values.get("settings")
        if isinstance(settings, dict) and "refused" in settings:
            written.append(settings["refused"])
        original(self, values)

    monkeypatch.setattr(SweepStore, "set_meta", spy)
    result = _sweep(digits_folder, tmp_path / "run", 3, constraints={"params_m": 5},
                    sampling_override="random")  # fmt: skip
    assert result.settings["refused"] >= 1
    # a write as a trial started after refusals, before the one when the sweep ended
    assert len([n for n in written if n > 0]) >= 2, written
    assert written[-1] == result.settings["refused"]


class _Refusing:
    refused = 0


def test_the_refusals_record_writes_only_when_they_changed() -> None:
    sampler = _Refusing()
    writes: list[int] = []
    record = RefusalsRecord(sampler, lambda: writes.append(sampler.refused))  # type: ignore[arg-type]
    record.trial_started(None)  # type: ignore[arg-type]
    assert writes == []
    sampler.refused = 2
    record.trial_started(None)  # type: ignore[arg-type]
    record.trial_started(None)  # type: ignore[arg-type]
    assert writes == [2]
