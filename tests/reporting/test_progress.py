"""The progress display: counts, the best so far, why trials stopped (each number labelled),
the live table, rate-limited epoch lines off a terminal, and a resumed sweep's counter."""

from __future__ import annotations

import io

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.reporting.progress import ProgressDisplay
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import PrimaryMetricGoal, Report, TrainingProgress, Trial, TrialStatus

CURVES = [[0.1, 0.2, 0.3], [0.5, 0.6, 0.7], [0.2, 0.25, 0.3], [0.6, 0.7, 0.9]]


class StopLow(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        v = history[trial_id][-1]
        return Decision(v < 0.2, f"stopped at report {len(history[trial_id])}: {v} < 0.2")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def display(stream: io.StringIO, *, live: bool, clock=None, **options) -> ProgressDisplay:
    values = {"max_trials": 4, "concurrency": 2, "goal": PrimaryMetricGoal.MAXIMIZE}
    values.update(options)
    extra = {} if clock is None else {"clock": clock}
    return ProgressDisplay(
        metric="accuracy", stream=stream, live=live, width=200, **extra, **values
    )


def run(live: bool) -> str:
    stream = io.StringIO()
    Scheduler(
        FixedConfigurations([{"curve": i} for i in range(4)]),
        SimulatedExecutor(CURVES, capacity=2),
        max_trials=4,
        policy=StopLow(),
        primary_metric="accuracy",
        observers=[display(stream, live=live)],
    ).run()
    return stream.getvalue()


def test_log_mode_prints_one_line_per_trial_with_reasons() -> None:
    lines = run(live=False).strip().splitlines()
    assert (
        "[1/4] trial_0000 STOPPED best accuracy=0.1000; judged on accuracy=0.1000 (report 1): "
        "stopped at report 1: 0.1 < 0.2"
    ) in lines
    assert "[4/4] trial_0003 COMPLETED accuracy=0.9000" in lines
    assert "trial_0001 epoch 1 accuracy=0.5000" in lines  # a trial's first epoch has a line
    assert lines[-1].startswith("sweep ended: max_trials reached (4)")


def test_live_mode_redraws_a_table_and_prints_finished_trials_above_it() -> None:
    out = run(live=True)
    assert "\x1b[" in out  # drawn in place
    assert "trial_0003 COMPLETED accuracy=0.9000" in out
    assert "params" in out and "ETA" in out  # the table's header
    final = out.split("sweep ended")[0]
    assert (
        "trials 4/4 · running 0 · completed 3 · stopped 1 · failed 0 · best accuracy 0.9000 "
        "(trial_0003)"
    ) in final


def test_the_status_line_counts_paused_trials() -> None:
    from automl_vision.policies import ASHAPolicy

    lines: list[str] = []

    class Recorder(ProgressDisplay):
        def _draw(self, *, now: bool = False) -> None:
            lines.append(self.line())

    stream = io.StringIO()
    Scheduler(
        FixedConfigurations([{"curve": i} for i in range(4)]),
        SimulatedExecutor(CURVES, capacity=1),
        max_trials=4,
        policy=ASHAPolicy(1, 3, 3, promotion=True),
        primary_metric="accuracy",
        observers=[Recorder(max_trials=4, concurrency=1, goal=PrimaryMetricGoal.MAXIMIZE,
                            metric="accuracy", stream=stream, live=False)],
    ).run()  # fmt: skip
    assert any("running 0 · paused 2 ·" in line for line in lines)
    assert "paused" not in lines[-1]  # none left at the end


def test_the_live_table_is_redrawn_at_most_every_refresh_interval() -> None:
    clock, stream = Clock(), io.StringIO()
    shown = display(stream, live=True, clock=clock, refresh_s=0.25)
    trial = Trial(0, {"x": 1.0}, status=TrialStatus.RUNNING)
    shown.trial_started(trial)
    drawn = len(stream.getvalue())
    shown.trial_progress(trial, TrainingProgress(1, 2, 1, 10))  # 0 s after the last redraw
    clock.now += 0.1
    shown.trial_progress(trial, TrainingProgress(1, 2, 2, 10))
    assert len(stream.getvalue()) == drawn
    clock.now += 0.2
    shown.trial_progress(trial, TrainingProgress(1, 2, 3, 10))
    assert len(stream.getvalue()) > drawn and "3/10" in stream.getvalue()[drawn:]


def test_off_a_terminal_epoch_lines_are_rate_limited_per_trial_and_the_last_always_shown() -> None:
    clock, stream = Clock(), io.StringIO()
    shown = display(stream, live=False, clock=clock, epoch_line_every_s=30.0)
    a = Trial(0, {"number_of_epochs": 5}, status=TrialStatus.RUNNING)
    b = Trial(1, {"number_of_epochs": 5}, status=TrialStatus.RUNNING)
    for trial in (a, b):
        shown.trial_started(trial)
    for epoch, value in enumerate([0.5, 0.6, 0.55, 0.7, 0.65], start=1):
        for trial in (a, b):
            report = Report(epoch, value)
            trial.reports.append(report)
            shown.trial_reported(trial, report, Decision(False, ""))
        clock.now += 12.0  # epochs end at 0, 12, 24, 36, 48 s
    lines = stream.getvalue().splitlines()
    assert [line for line in lines if line.startswith("trial_0000")] == [
        "trial_0000 epoch 1/5 accuracy=0.5000",
        "trial_0000 epoch 4/5 accuracy=0.7000 (best so far 0.7000)",  # 36 s: 30 s since 0 s
        "trial_0000 epoch 5/5 accuracy=0.6500 (best so far 0.7000)",  # the last: always
    ]
    assert sum(line.startswith("trial_0001") for line in lines) == 3


def test_the_counter_counts_on_from_the_trials_a_resume_kept() -> None:
    kept = [
        Trial(i, {"x": i}, status=status, value=0.5 + i / 10, started_at=0.0, finished_at=60.0)
        for i, status in enumerate(
            [TrialStatus.COMPLETED, TrialStatus.COMPLETED, TrialStatus.STOPPED]
        )
    ]
    requeued = Trial(3, {"x": 3}, status=TrialStatus.QUEUED)
    stream = io.StringIO()
    shown = display(stream, live=False, max_trials=12, kept=[*kept, requeued])
    requeued.status = TrialStatus.RUNNING
    shown.trial_started(requeued)
    requeued.status, requeued.value = TrialStatus.COMPLETED, 0.6
    shown.trial_finished(requeued)
    lines = stream.getvalue().splitlines()
    assert (
        lines[0]
        == "resumed: 3 finished trials kept (2 completed, 1 stopped); counting on from [3/12]"
    )
    assert lines[1] == "[4/12] trial_0003 COMPLETED accuracy=0.6000"
    assert shown.line().startswith("trials 4/12 · running 0 · completed 3 · stopped 1 ·")
    assert "best accuracy 0.7000 (trial_0002)" in shown.line()
