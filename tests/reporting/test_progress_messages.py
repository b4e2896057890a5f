"""Progress within an epoch travels from a real trainer to a sweep's observers, and only there:
no report is recorded for it and no policy judges it."""

from __future__ import annotations

from pathlib import Path

from helpers_sweep import tiny_space
from helpers_training import tiny_dataset

from automl_vision.executors.function import FunctionExecutor
from automl_vision.policies.base import Decision
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.training.ticker import BatchTicker
from automl_vision.trial import Report, TrainingProgress, Trial
from automl_vision.tuning.training_trial import TrainingJob, TrainingTarget


class Recorder(SweepObserver):
    def __init__(self) -> None:
        self.progress: list[tuple[str, TrainingProgress]] = []
        self.reports: list[int] = []

    def trial_progress(self, trial: Trial, progress: TrainingProgress) -> None:
        self.progress.append((trial.trial_id, progress))

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        self.reports.append(report.step)


def test_a_real_trial_tells_its_observers_how_far_it_is(tmp_path: Path) -> None:
    data = tiny_dataset()  # 24 training images: 3 batches of 8
    job = TrainingJob(dataset=data, primary_metric="accuracy", seed=0, device="cpu", threads=1)
    params = {**tiny_space(), "training_batch_size": 8, "validation_batch_size": 16}
    executor = FunctionExecutor.for_target(TrainingTarget(job), output_dir=tmp_path)
    recorder = Recorder()
    outcome = Scheduler(
        FixedConfigurations([params]),
        executor,
        max_trials=1,
        primary_metric="accuracy",
        observers=[recorder],
    ).run()
    (trial,) = outcome.trials
    # the first batch of the run is always told; more only every half second
    assert recorder.progress[0] == ("trial_0000", TrainingProgress(1, 2, 1, 3))
    assert all(p.epochs == 2 and p.batches == 3 for _, p in recorder.progress)
    assert recorder.reports == [1, 2]  # progress is never a report
    assert [r.step for r in trial.reports] == [1, 2]
    assert trial.artifacts["number_of_epochs"] == 2


def test_the_trainer_tells_progress_at_most_every_interval() -> None:
    now = [0.0]
    told: list[TrainingProgress] = []
    ticker = BatchTicker(told.append, epochs=3, every_s=0.5, clock=lambda: now[0])
    for batch in range(1, 11):  # 10 batches, 0.2 s apart
        ticker.batch(1, batch, 10)
        now[0] += 0.2
    # batch 1 at 0.0, then the first batch at least 0.5 s after the last one told
    assert [p.batch for p in told] == [1, 4, 7, 10]
    assert told[-1] == TrainingProgress(1, 3, 10, 10)
    assert told[-1].fraction == 1 / 3
