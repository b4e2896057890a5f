"""The progress display shows counts, the best so far and why trials stopped."""

from __future__ import annotations

import io

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.reporting.progress import ProgressDisplay
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import PrimaryMetricGoal

CURVES = [[0.1, 0.2, 0.3], [0.5, 0.6, 0.7], [0.2, 0.25, 0.3], [0.6, 0.7, 0.9]]


class StopLow(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        v = history[trial_id][-1]
        return Decision(v < 0.2, f"stopped at report {len(history[trial_id])}: {v} < 0.2")


def run(live: bool) -> str:
    stream = io.StringIO()
    display = ProgressDisplay(
        max_trials=4,
        concurrency=2,
        goal=PrimaryMetricGoal.MAXIMIZE,
        metric="accuracy",
        stream=stream,
        live=live,
    )
    Scheduler(
        FixedConfigurations([{"curve": i} for i in range(4)]),
        SimulatedExecutor(CURVES, capacity=2),
        max_trials=4,
        policy=StopLow(),
        primary_metric="accuracy",
        observers=[display],
    ).run()
    return stream.getvalue()


def test_log_mode_prints_one_line_per_trial_with_reasons() -> None:
    out = run(live=False)
    lines = out.strip().splitlines()
    assert any(
        "trial_0000 STOPPED accuracy=0.1000 — stopped at report 1: 0.1 < 0.2" in line
        for line in lines
    )
    assert any("trial_0003 COMPLETED accuracy=0.9000" in line for line in lines)
    assert lines[-1].startswith("sweep ended: max_trials reached (4)")


def test_live_mode_redraws_a_status_line() -> None:
    out = run(live=True)
    last = out.split("\r\033[K")[-1]
    assert (
        "trials 4/4 · running 0 · completed 3 · stopped 1 · failed 0 · best accuracy 0.9000 (trial_0003)"
        in last
    )


def test_the_status_line_counts_paused_trials() -> None:
    from automl_vision.policies import ASHAPolicy

    stream = io.StringIO()
    display = ProgressDisplay(
        max_trials=4, concurrency=1, goal=PrimaryMetricGoal.MAXIMIZE, metric="accuracy",
        stream=stream, live=True,
    )  # fmt: skip
    Scheduler(
        FixedConfigurations([{"curve": i} for i in range(4)]),
        SimulatedExecutor(CURVES, capacity=1),
        max_trials=4,
        policy=ASHAPolicy(1, 3, 3, promotion=True),
        primary_metric="accuracy",
        observers=[display],
    ).run()
    lines = stream.getvalue().split("\r\033[K")
    assert any("running 0 · paused 2 ·" in line for line in lines)
    assert "paused" not in lines[-1].split("\n")[0]  # none left at the end
