"""A sweep's trial continues from its last completed epoch: after a CUDA out-of-memory error
(half the batch, twice the accumulation) and after its attempt was interrupted."""

from __future__ import annotations

import pytest
import torch
from helpers_sweep import tiny_space

from automl_vision import tune
from automl_vision.store.database import SweepStore
from automl_vision.training.loop import EpochRunner
from automl_vision.trial import TrialStatus


def test_oom_after_reports_resumes_from_checkpoint(digits_folder, tmp_path, monkeypatch) -> None:
    real = EpochRunner.train_epoch
    seen: list[tuple[int, int, int]] = []
    failed = []

    def train_epoch(self, epoch: int, *rest):
        seen.append(
            (epoch, self.config.training_batch_size, self.config.gradient_accumulation_step)
        )
        if epoch == 3 and not failed:
            failed.append(epoch)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, epoch, *rest)

    monkeypatch.setattr(EpochRunner, "train_epoch", train_epoch)
    result = tune(
        digits_folder,
        search_space=tiny_space(number_of_epochs=4),
        max_trials=1,
        output_dir=tmp_path / "oom",
        progress=False,
    )
    # epochs 1-2 at batch 64; epoch 3 runs out of memory; 3-4 again at 32 x 2, from epoch 2
    assert seen == [(1, 64, 1), (2, 64, 1), (3, 64, 1), (3, 32, 2), (4, 32, 2)]
    trial = result.trials[0]
    assert trial.status is TrialStatus.COMPLETED
    assert [r.step for r in trial.reports] == [1, 2, 3, 4]  # no report sent twice
    attempts = trial.artifacts["attempts"]
    assert attempts == [
        {"started_from_epoch": 0, "ended": "cuda out of memory", "training_batch_size": 64},
        {"started_from_epoch": 2, "ended": "finished"},
    ]
    assert "from the checkpoint of epoch 2" in trial.artifacts["notes"][0]
    store = SweepStore(tmp_path / "oom" / "sweep.db")
    assert [r.step for r in store.trial_reports(0)] == [1, 2, 3, 4]
    assert store.attempts(0)[0]["retries"][0]["started_from_epoch"] == 2


def test_an_interrupted_trial_resumes_after_its_last_epoch(digits_folder, tmp_path, monkeypatch):
    """The first run dies in epoch 3 (as a killed sweep would, leaving the attempt open); the
    resumed sweep continues that trial from epoch 2 and ends where an uninterrupted one does."""
    space = tiny_space(number_of_epochs=4, random_seed=3)
    whole = tune(
        digits_folder, search_space=space, max_trials=1, output_dir=tmp_path / "w", progress=False
    )
    real = EpochRunner.train_epoch
    seen: list[int] = []

    class Killed(BaseException):
        pass

    def dying(self, epoch: int, *rest):
        seen.append(epoch)
        if epoch == 3:
            raise Killed
        return real(self, epoch, *rest)

    monkeypatch.setattr(EpochRunner, "train_epoch", dying)
    with pytest.raises(Killed):
        tune(
            digits_folder,
            search_space=space,
            max_trials=1,
            output_dir=tmp_path / "r",
            progress=False,
        )
    monkeypatch.setattr(
        EpochRunner, "train_epoch", lambda self, e, *rest: seen.append(e) or real(self, e, *rest)
    )
    resumed = tune(
        digits_folder, search_space=space, max_trials=1, output_dir=tmp_path / "r", progress=False
    )
    assert seen == [1, 2, 3, 3, 4]
    a, b = whole.trials[0], resumed.trials[0]
    assert b.status is TrialStatus.COMPLETED and b.value == a.value
    assert [r.model_metrics for r in b.reports] == [r.model_metrics for r in a.reports]
    store = SweepStore(tmp_path / "r" / "sweep.db")
    assert store.attempt_counts() == {0: 2}
    attempts = store.attempts(0)
    assert [x["status"] for x in attempts] == ["INTERRUPTED", "COMPLETED"]
    assert attempts[1]["started_from_epoch"] == 2


def test_status_json_lists_each_trials_attempts(digits_folder, tmp_path, monkeypatch, capsys):
    import json

    from automl_vision.cli import main

    real = EpochRunner.train_epoch

    class Killed(BaseException):
        pass

    def dying(self, epoch: int, *rest):
        if epoch == 2:
            raise Killed
        return real(self, epoch, *rest)

    space = tiny_space(number_of_epochs=3)
    monkeypatch.setattr(EpochRunner, "train_epoch", dying)
    with pytest.raises(Killed):
        tune(digits_folder, search_space=space, max_trials=1, output_dir=tmp_path, progress=False)
    monkeypatch.setattr(EpochRunner, "train_epoch", real)
    tune(digits_folder, search_space=space, max_trials=1, output_dir=tmp_path, progress=False)
    capsys.readouterr()
    assert main(["status", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    attempts = data["trials"][0]["attempts"]
    assert [(a["status"], a["started_from_epoch"]) for a in attempts] == [
        ("INTERRUPTED", 0),
        ("COMPLETED", 1),
    ]
    assert attempts[0]["ended"].startswith("interrupted")


def test_a_diverged_trial_fails_with_no_value_and_is_never_best(
    digits_folder, tmp_path, monkeypatch
) -> None:
    """Defect 1: NaN loss used to be COMPLETED with an all-NaN best.safetensors that could win."""
    import automl_vision.training.components as comp

    original = comp.make_loss

    class NanLoss(torch.nn.Module):
        def __init__(self, loss):
            super().__init__()
            self.loss = loss

        def forward(self, logits, targets):
            return self.loss(logits, targets) * float("nan")

    monkeypatch.setattr(comp, "make_loss", lambda *a, **k: NanLoss(original(*a, **k)))
    result = tune(
        digits_folder,
        search_space=tiny_space(),
        max_trials=1,
        output_dir=tmp_path,
        progress=False,
    )
    trial = result.trials[0]
    assert trial.status is TrialStatus.FAILED and trial.value is None
    assert "diverged" in trial.error
    with pytest.raises(ValueError, match="no trial produced a value"):
        _ = result.best_trial
    assert not (tmp_path / "trials" / trial.trial_id / "best.safetensors").exists()
