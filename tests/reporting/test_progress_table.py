"""The live table drawn from a recorded sweep, compared with its snapshot (fixed clock, fixed
width), and the words of finished trials: each number labelled, the trainer's early stop said."""

from __future__ import annotations

from automl_vision.reporting.progress_state import SweepProgress
from automl_vision.reporting.progress_table import plain_text, progress_table
from automl_vision.reporting.trial_text import finished_line
from automl_vision.trial import PrimaryMetricGoal, Report, TrainingProgress, Trial, TrialStatus

SNAPSHOT = """\
trial        params                                     epoch   batch   accuracy   elapsed      ETA
───────────────────────────────────────────────────────────────────────────────────────────────────
trial_0002   model=resnet18 lr=0.003 batch=32             3/6   12/40     0.7123     1m30s    2m24s
trial_0003   model=vit_small_patch… lr=0.0001 batch=…     1/6    1/40                  10s   39m50s
trials 2/12 · running 2 · completed 1 · stopped 1 · failed 0 · best accuracy 0.8100 (trial_0000) ·
2m00s · ETA ~2m30s"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def params(model: str, lr: float, batch: int) -> dict:
    return {"model_name": model, "learning_rate": lr, "training_batch_size": batch,
            "number_of_epochs": 6, "weight_decay": 0.01}  # fmt: skip


def test_the_table_of_a_recorded_sweep_matches_its_snapshot() -> None:
    clock = Clock()
    state = SweepProgress(
        max_trials=12, concurrency=2, goal=PrimaryMetricGoal.MAXIMIZE, metric="accuracy",
        clock=clock,
    )  # fmt: skip
    first = Trial(0, params("resnet18", 0.01, 32), status=TrialStatus.RUNNING)
    second = Trial(1, params("resnet18", 0.1, 32), status=TrialStatus.RUNNING)
    state.start(first)
    state.start(second)
    clock.now = 30.0
    first.status, first.value = TrialStatus.COMPLETED, 0.81
    state.finish(first)  # 30 s each: the sweep's ETA is 10 trials x 30 s / 2 = 2m30s
    second.status, second.value = TrialStatus.STOPPED, 0.4
    state.finish(second)
    third = Trial(2, params("resnet18", 0.003, 32), status=TrialStatus.RUNNING)
    state.start(third)
    clock.now = 110.0
    fourth = Trial(3, params("vit_small_patch16_224", 1e-4, 16), status=TrialStatus.RUNNING)
    state.start(fourth)
    state.progressed(fourth, TrainingProgress(1, 6, 1, 40))
    third.reports += [Report(1, 0.61), Report(2, 0.7123)]
    clock.now = 120.0
    # 90 s for 2.3 of 6 epochs: 3.7 epochs left take 144.8 s (2m24s); trial_0003: 10 s for
    # 1/40 of an epoch, 239 epoch-fortieths left (39m50s)
    state.progressed(third, TrainingProgress(3, 6, 12, 40))
    text = plain_text(progress_table(state), width=100)
    assert text == SNAPSHOT, "\n" + text


def test_a_resumed_attempts_eta_counts_only_what_it_trained() -> None:
    clock = Clock()
    state = SweepProgress(max_trials=2, concurrency=1, goal=PrimaryMetricGoal.MAXIMIZE,
                          metric="accuracy", clock=clock)  # fmt: skip
    trial = Trial(0, {"number_of_epochs": 4}, status=TrialStatus.RUNNING)
    state.start(trial)
    state.attempt_starts(trial, 2)  # resumed after epoch 2
    clock.now = 60.0
    state.progressed(trial, TrainingProgress(3, 4, 10, 10))  # one epoch in 60 s
    (row,) = state.rows()
    assert (row.epoch, row.batch, row.eta) == ("3/4", "10/10", "1m00s")


def stopped_trial() -> Trial:
    trial = Trial(7, {"number_of_epochs": 6}, status=TrialStatus.STOPPED, value=0.6964)
    trial.reports += [Report(1, 0.52), Report(2, 0.6964), Report(3, 0.462396)]
    trial.artifacts.update({"best_epoch": 2, "epochs_run": 3, "number_of_epochs": 6})
    trial.stop_reason = (
        "stopped at rung 3 of bracket 0: 0.462396 is worse than 0.51 (cut-off = the 1st best of "
        "3 trials at report 3; top max(1, 3 // 3) = 1 continue)"
    )
    return trial


def test_a_stopped_trial_labels_its_best_value_and_the_value_it_was_judged_on() -> None:
    line = finished_line(stopped_trial(), "accuracy", "[5/12]")
    assert line.startswith(
        "[5/12] trial_0007 STOPPED best accuracy=0.6964 (epoch 2); "
        "judged on accuracy=0.4624 (epoch 3): stopped at rung 3 of bracket 0: 0.462396 is "
        "worse than 0.51"
    )


def test_a_trial_its_trainer_stopped_early_says_so() -> None:
    trial = Trial(4, {"number_of_epochs": 6}, status=TrialStatus.COMPLETED, value=0.9)
    trial.artifacts.update({"trainer_stop": "early_stopping", "epochs_run": 3,
                            "number_of_epochs": 6})  # fmt: skip
    assert finished_line(trial, "accuracy", "[1/4]") == (
        "[1/4] trial_0004 COMPLETED (trainer early stopping at epoch 3/6) accuracy=0.9000"
    )
    trial.artifacts["epochs_run"] = 6
    trial.artifacts.pop("trainer_stop")  # ran its budget: nothing to say
    assert finished_line(trial, "accuracy", "[1/4]") == "[1/4] trial_0004 COMPLETED accuracy=0.9000"
