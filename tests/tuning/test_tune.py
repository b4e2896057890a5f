"""tune() end to end on CPU with tiny models: both tasks, every sampler, concurrency, failures,
reuse, the metrics JSON and the plots."""

from __future__ import annotations

import json

import pytest
from helpers_sweep import tiny_space

from automl_vision import (
    BanditPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    choice,
    tune,
    uniform,
)
from automl_vision.artifacts import LOG_FILE
from automl_vision.store.database import SweepStore
from automl_vision.trial import TrialStatus
from automl_vision.tuning.tune import SweepPlan


def test_tune_multiclass_on_real_digits(digits_folder, tmp_path) -> None:
    result = tune(
        digits_folder,
        search_space=tiny_space(learning_rate=uniform(0.01, 0.1)),
        max_trials=3,
        policy=NoTerminationPolicy(),
        output_dir=tmp_path / "run",
        progress=False,
    )
    assert len(result.trials) == 3 and all(t.status is TrialStatus.COMPLETED for t in result.trials)
    assert result.primary_metric == "accuracy" and result.goal.value == "maximize"
    assert result.best_value == max(t.value for t in result.trials) > 0.15  # 10 classes
    assert result.trials[0].params["learning_rate"] == 0.01  # trial 0: Azure's default
    assert result.best_checkpoint.is_file() and (tmp_path / "run" / "best.safetensors").is_file()
    for trial in result.trials:  # inline trials have their log too, as the README says
        log = (tmp_path / "run" / "trials" / trial.trial_id / LOG_FILE).read_text()
        assert log.startswith(f"trial {trial.trial_id} starts with")
    assert {"accuracy", "accuracy_top5", "f1_macro", "log_loss"} <= set(result.best_metrics)
    data = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(data["trials"]) == 3 and len(data["trials"][0]["reports"]) == 2
    plots = sorted(p.name for p in (tmp_path / "run" / "plots").iterdir())
    assert plots == [
        "best_so_far.png",
        "learning_curves.png",
        "parallel_coordinates.png",
        "parameter_importance.png",
    ]


def test_tune_multilabel_defaults_to_iou(digits_multilabel_folder, tmp_path) -> None:
    result = tune(
        digits_multilabel_folder,
        search_space=tiny_space(learning_rate=choice(0.05, 0.1)),
        max_trials=2,
        output_dir=tmp_path / "ml",
        progress=False,
    )
    assert result.primary_metric == "iou"
    assert {"iou", "map", "f1_micro", "f1_macro"} <= set(result.best_metrics)
    assert 0 <= result.best_value <= 1


@pytest.mark.parametrize(
    ("sampling", "policy"),
    [
        ("random", BanditPolicy(slack_factor=0.1)),
        ("sobol", MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=1)),
        ("grid", TruncationSelectionPolicy(50)),
        ("bayesian", HyperbandPolicy(min_resource=1, max_resource=2)),
    ],
)
def test_every_sampler_with_a_policy(digits_folder, tmp_path, sampling, policy) -> None:
    result = tune(
        digits_folder,
        search_space=tiny_space(learning_rate=choice(0.001, 0.05, 0.2)),
        sampling=sampling,
        policy=policy,
        max_trials=3,
        output_dir=tmp_path / sampling,
        progress=False,
    )
    assert len(result.trials) == 3
    assert all(t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED) for t in result.trials)
    if sampling == "grid":
        assert sorted(t.params["learning_rate"] for t in result.trials) == [0.001, 0.05, 0.2]
    decisions = SweepStore(tmp_path / sampling / "sweep.db").decisions()
    assert len(decisions) == sum(len(t.reports) for t in result.trials)


@pytest.mark.slow
def test_concurrent_trials_in_the_process_pool(digits_folder, tmp_path) -> None:
    result = tune(
        digits_folder,
        search_space=tiny_space(learning_rate=uniform(0.01, 0.1)),
        max_trials=3,
        max_concurrent_trials=2,
        policy=NoTerminationPolicy(),
        output_dir=tmp_path / "pool",
        progress=False,
    )
    assert [t.status for t in result.trials] == [TrialStatus.COMPLETED] * 3
    starts = sorted(t.started_at for t in result.trials)
    ends = sorted(t.finished_at for t in result.trials)
    assert starts[1] < ends[0]  # two trials overlapped
    assert (tmp_path / "pool" / "trials" / "trial_0001" / "log.txt").is_file()


def test_a_crashing_trial_does_not_stop_the_sweep(digits_folder, tmp_path, monkeypatch) -> None:
    # test_resnet has 5 stages: freezing 50 fails at training time, in that trial only (the
    # planning-time check that refuses such a space is switched off here)
    monkeypatch.setattr("automl_vision.planning.plan.check_plan", lambda *a, **k: None)
    result = tune(
        digits_folder,
        search_space=tiny_space(layers_to_freeze=choice(0, 50)),
        sampling="grid",
        output_dir=tmp_path / "crash",
        progress=False,
    )
    by_freeze = {t.params["layers_to_freeze"]: t for t in result.trials}
    assert by_freeze[50].status is TrialStatus.FAILED and "layers_to_freeze" in by_freeze[50].error
    assert by_freeze[0].status is TrialStatus.COMPLETED
    assert result.best_trial is by_freeze[0]


def test_identical_trials_are_reused_not_trained_again(digits_folder, tmp_path) -> None:
    space = tiny_space(learning_rate=choice(0.01, 0.05))
    first = tune(
        digits_folder,
        search_space=space,
        sampling="grid",
        output_dir=tmp_path / "a",
        progress=False,
    )
    assert len(first.trials) == 2
    second = tune(
        digits_folder,
        search_space=space,
        sampling="grid",
        output_dir=tmp_path / "b",
        reuse_from=[tmp_path / "a"],
        progress=False,
    )
    assert [t.artifacts["reused_from"] for t in second.trials] == ["trial_0000", "trial_0001"]
    assert [t.value for t in second.trials] == [t.value for t in first.trials]
    assert [len(t.reports) for t in second.trials] == [2, 2]
    assert not (tmp_path / "b" / "trials").exists()  # nothing was trained
    # different data: nothing to reuse
    third = tune(
        digits_folder,
        search_space=space,
        sampling="grid",
        validation_size=0.3,
        output_dir=tmp_path / "c",
        reuse_from=[tmp_path / "a"],
        progress=False,
    )
    assert all("reused_from" not in t.artifacts for t in third.trials)


def test_dry_run_plans_without_training_or_writing(digits_folder, tmp_path, capsys) -> None:
    plan = tune(
        digits_folder,
        search_space=tiny_space(learning_rate=uniform(0.01, 0.1)),
        policy=HyperbandPolicy(min_resource=1, max_resource=2),
        output_dir=tmp_path / "dry",
        dry_run=True,
    )
    assert isinstance(plan, SweepPlan) and not (tmp_path / "dry").exists()
    out = capsys.readouterr().out
    assert "bracket 0 rungs: [1]" in out
    assert "worst case: 20 trials x 2 epochs = 40 epochs" in out
    assert "sampler: bayesian (trial 0: Azure's defaults" in out  # the default sampler


def test_auto_choices_are_said(digits_folder, tmp_path, capsys) -> None:
    tune(digits_folder, output_dir=tmp_path / "auto", dry_run=True)
    err = capsys.readouterr().err
    assert "search space: preset 'cpu_tiny'" in err
    # the defaults are the best measured combination (sweep/tune_defaults.py)
    assert "sampling: bayesian (the default" in err
    assert "early termination: Hyperband" in err and "brackets='auto'" in err


def test_cuda_oom_is_retried_with_half_batch_and_double_accumulation(
    digits_folder,
    tmp_path,
    monkeypatch,
) -> None:
    import torch

    import automl_vision.training as training

    real_train = training.train
    calls: list[tuple[int, int]] = []

    def flaky_train(config, data, **kwargs):
        calls.append((config.training_batch_size, config.gradient_accumulation_step))
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_train(config, data, **kwargs)

    monkeypatch.setattr(training, "train", flaky_train)
    result = tune(
        digits_folder,
        search_space=tiny_space(),
        max_trials=1,
        output_dir=tmp_path / "oom",
        progress=False,
    )
    assert calls == [(64, 1), (32, 2)]
    trial = result.trials[0]
    assert trial.status is TrialStatus.COMPLETED
    assert "retried with 32 x gradient_accumulation_step 2" in trial.artifacts["notes"][0]
    stored = SweepStore(tmp_path / "oom" / "sweep.db").load_trials()[0]
    assert stored.artifacts["notes"] == trial.artifacts["notes"]


def test_stop_criteria_and_warm_start(digits_folder, tmp_path, capsys) -> None:
    space = tiny_space(learning_rate=uniform(0.01, 0.2))
    first = tune(
        digits_folder,
        search_space=space,
        max_trials=5,
        target_value=0.0,
        output_dir=tmp_path / "t",
        progress=False,
    )
    assert len(first.trials) == 1 and first.end_reason.startswith("target reached: trial_0000")
    second = tune(
        digits_folder,
        search_space=space,
        sampling="bayesian",
        max_trials=2,
        warm_start_from=[tmp_path / "t"],
        output_dir=tmp_path / "w",
        progress=False,
    )
    assert "warm start: 1 earlier trials as prior observations" in capsys.readouterr().err
    assert len(second.trials) == 2


def test_resume_refusal_shows_only_the_changed_fields(finished_sweep, digits_folder) -> None:
    space = tiny_space(number_of_epochs=1, learning_rate=choice(0.01, 0.1))
    with pytest.raises(ValueError, match="the sweep changed") as info:
        tune(digits_folder, search_space=space, sampling="grid", output_dir=finished_sweep,
             progress=False)  # fmt: skip
    lines = str(info.value).splitlines()[1:-1]
    assert lines == ["  search_space[0].learning_rate: 'choice(0.01, 0.05)' -> 'choice(0.01, 0.1)'"]
