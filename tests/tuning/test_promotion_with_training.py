"""Paused and promoted real training runs: a trial paused at a rung and promoted later ends bit
for bit where an uninterrupted trial with the same seed does (trainer and sweep level), and a
promotion sweep killed mid-way resumes without losing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers_sweep import tiny_space
from helpers_training import (
    assert_same_run,
    tiny_config,
    tiny_dataset,
)

from automl_vision import choice, tune
from automl_vision.policies import ASHAPolicy, NoTerminationPolicy
from automl_vision.store.database import EventKind, SweepStore
from automl_vision.training import train
from automl_vision.training.checkpoint import load_checkpoint
from automl_vision.training.loop import EpochRunner
from automl_vision.training.resume import RESUME_FILE, load_resume
from automl_vision.trial import TrialStatus, Verdict


def _pause_at(epoch: int, seen: list[int], answer: Verdict = Verdict.PAUSE):
    def report(step: int, metrics) -> Verdict:
        seen.append(step)
        return answer if step == epoch else Verdict.CONTINUE

    return report


@pytest.mark.parametrize("schedule", ["warmup_cosine", "step"])
def test_a_paused_run_resumed_is_an_uninterrupted_one(tmp_path: Path, schedule) -> None:
    data = tiny_dataset()
    config = tiny_config(
        number_of_epochs=4,
        learning_rate_scheduler=schedule,
        step_lr_step_size=1,
        early_stopping=True,
        early_stopping_delay=1,
        early_stopping_patience=10,
    )
    whole = train(config, data, output_dir=tmp_path / "whole")
    seen: list[int] = []
    paused = train(config, data, output_dir=tmp_path / "cut", report=_pause_at(2, seen))
    assert paused.epochs_run == 2 and str(paused.stop_reason) == "paused"
    assert load_resume(tmp_path / "cut" / RESUME_FILE)["stop"] == "paused"
    resumed = train(
        config, data, output_dir=tmp_path / "cut", report=_pause_at(0, seen), resume=True
    )
    assert seen == [1, 2, 3, 4]  # no report sent twice
    assert resumed.resumed_from_epoch == 2
    assert_same_run(whole, resumed)


def test_a_stopped_run_stays_stopped_on_resume(tmp_path: Path) -> None:
    data = tiny_dataset()
    config = tiny_config(number_of_epochs=4)
    seen: list[int] = []
    stopped = train(
        config, data, output_dir=tmp_path / "cut", report=_pause_at(2, seen, Verdict.STOP)
    )
    assert str(stopped.stop_reason) == "report"
    again = train(config, data, output_dir=tmp_path / "cut", resume=True)
    assert again.epochs_run == 2  # a stop is final: nothing more is trained


def _checkpoint(run_dir: Path, trial) -> dict:
    return load_checkpoint(run_dir / trial.artifacts["checkpoint"]).state_dict


SPACE = tiny_space(number_of_epochs=3, random_seed=7, learning_rate=choice(0.02, 0.05, 0.1, 0.2))
# eta 2 over 3 epochs: rungs at epochs 1 and 2; of 4 trials two reach epoch 2, one epoch 3
POLICY = ASHAPolicy(1, 3, 2, promotion=True)


def _promotion_sweep(digits_folder, out: Path):
    return tune(
        digits_folder,
        search_space=SPACE,
        sampling="grid",
        policy=POLICY,
        output_dir=out,
        progress=False,
        threads_per_trial=1,
    )


def test_a_promoted_trial_in_a_sweep_ends_as_an_uninterrupted_one(digits_folder, tmp_path):
    result = _promotion_sweep(digits_folder, tmp_path / "sweep")
    store = SweepStore.open_readonly(tmp_path / "sweep" / "sweep.db")
    kinds = [kind for _, kind, _ in store.events()]
    assert kinds.count(EventKind.TRIAL_PROMOTED.value) >= 3  # 2 to epoch 2, 1 to epoch 3
    done = [t for t in result.trials if t.status is TrialStatus.COMPLETED]
    assert len(done) == 1 and len(done[0].reports) == 3
    trial = done[0]
    assert [a["status"] for a in store.attempts(trial.index)] == ["PAUSED", "PAUSED", "COMPLETED"]
    assert [a["started_from_epoch"] for a in store.attempts(trial.index)] == [0, 1, 2]
    for t in result.trials:
        assert [r.step for r in t.reports] == list(range(1, len(t.reports) + 1))
        assert t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
    # the same configuration trained without a pause, same seed and threads
    alone = tune(
        digits_folder,
        search_space={**SPACE, "learning_rate": trial.params["learning_rate"]},
        max_trials=1,
        policy=NoTerminationPolicy(),
        output_dir=tmp_path / "alone",
        progress=False,
        threads_per_trial=1,
    )
    other = alone.trials[0]
    assert [r.model_metrics for r in trial.reports] == [r.model_metrics for r in other.reports]
    assert trial.value == other.value
    mine, theirs = _checkpoint(tmp_path / "sweep", trial), _checkpoint(tmp_path / "alone", other)
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)


@pytest.mark.slow
def test_a_killed_promotion_sweep_resumes_without_losing_anything(
    digits_folder, tmp_path, monkeypatch, capsys
) -> None:
    from automl_vision.cli import main

    whole = _promotion_sweep(digits_folder, tmp_path / "whole")
    real = EpochRunner.train_epoch
    count = {"epochs": 0}

    class Killed(BaseException):
        pass

    def dying(self, epoch: int, *rest):
        count["epochs"] += 1
        if count["epochs"] == 5:  # in the middle of the sweep, paused trials waiting
            raise Killed
        return real(self, epoch, *rest)

    monkeypatch.setattr(EpochRunner, "train_epoch", dying)
    with pytest.raises(Killed):
        _promotion_sweep(digits_folder, tmp_path / "cut")
    store = SweepStore.open_readonly(tmp_path / "cut" / "sweep.db")
    assert TrialStatus.PAUSED in {t.status for t in store.load_trials()}
    store.close()
    monkeypatch.setattr(EpochRunner, "train_epoch", real)
    resumed = _promotion_sweep(digits_folder, tmp_path / "cut")

    def summary(result):
        return [
            (t.trial_id, t.status, [r.model_metrics for r in t.reports], t.value)
            for t in result.trials
        ]

    assert summary(resumed) == summary(whole)
    capsys.readouterr()
    assert main(["status", str(tmp_path / "cut"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    statuses = {t["trial_id"]: t["status"] for t in data["trials"]}
    assert statuses == {t.trial_id: t.status.value for t in whole.trials}
    assert any([a["status"] for a in t["attempts"]][:1] == ["PAUSED"] for t in data["trials"])


def test_tune_judges_each_trial_by_its_learning_rate_schedule(digits_folder, tmp_path) -> None:
    from automl_vision.policies import BanditPolicy

    space = tiny_space(
        number_of_epochs=3,
        warmup_cosine_lr_warmup_epochs=1,
        learning_rate=choice(0.02, 0.2),
    )
    tune(
        digits_folder,
        search_space=space,
        sampling="grid",
        policy=BanditPolicy(slack_amount=0.0, schedule_aware=True),
        output_dir=tmp_path,
        progress=False,
    )
    store = SweepStore.open_readonly(tmp_path / "sweep.db")
    first = [reason for _, step, _, reason in store.decisions() if step == 1]
    assert len(first) == 2
    assert all(
        r == "report 1: decision moved from report 1 to report 2: report 1 is in the "
        "learning-rate warm-up"
        for r in first
    )
