"""A front-aware policy inside a sweep: the scheduler tells it each trial's known objectives (asked
once per trial), a fast trial that accuracy alone would stop runs to the end, a slow laggard is
stopped naming the trial that dominates it, and replaying the reports reproduces every decision."""

from __future__ import annotations

import pytest
from helpers_curves import CURVES, Replayer

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies import ASHAPolicy, BanditPolicy, FrontAwarePolicy, PolicyContext
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

#: curve 6 (the worst) is by far the fastest; curve 4 (a laggard) the slowest
LATENCY = [5.0, 4.0, 8.0, 6.0, 50.0, 3.0, 0.5, 7.0]
OBJECTIVES = {"accuracy": "max", "latency_ms": "min"}


def _sweep(policy, known, seed: int = 0, observers=()):
    scheduler = Scheduler(
        FixedConfigurations([{"curve": i} for i in range(len(CURVES))]),
        SimulatedExecutor(CURVES, capacity=3, seed=seed, metric="accuracy"),
        goal=PrimaryMetricGoal.MAXIMIZE,
        max_trials=len(CURVES),
        policy=policy,
        primary_metric="accuracy",
        known=known,
        observers=observers,
    )
    for observer in observers:
        observer.scheduler = scheduler
    return scheduler, {t.params["curve"]: t for t in scheduler.run().trials}


def _latency(trial: Trial) -> dict[str, float]:
    return {"latency_ms": LATENCY[trial.params["curve"]]}


@pytest.mark.parametrize(
    "inner", [BanditPolicy(slack_factor=0.2, delay_evaluation=2), ASHAPolicy(1, 9, 3)], ids=repr
)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_fast_laggard_runs_to_the_end_and_the_slow_one_is_stopped(inner, seed) -> None:
    asked: list[int] = []

    def known(trial: Trial) -> dict[str, float]:
        asked.append(trial.params["curve"])
        return _latency(trial)

    _, alone = _sweep(inner, None, seed)
    assert alone[6].status is TrialStatus.STOPPED  # accuracy alone stops the worst trial
    assert alone[4].status is TrialStatus.STOPPED
    observer = Replayer()
    _, trials = _sweep(FrontAwarePolicy(inner, OBJECTIVES), known, seed, [observer])
    assert sorted(asked) == list(range(len(CURVES)))  # once per trial
    assert trials[6].status is TrialStatus.COMPLETED  # nothing is as fast: it stays
    kept = [reason for trial_id, *_, stop, reason in observer.seen
            if trial_id == trials[6].trial_id and "kept" in reason]  # fmt: skip
    assert kept and all("accuracy alone would stop it" in r for r in kept)
    assert trials[4].status is TrialStatus.STOPPED
    assert "dominated by" in (trials[4].stop_reason or "")
    assert trials[5].status is TrialStatus.COMPLETED  # the most accurate is never stopped
    # replay: the same decisions from the recorded histories and the known objectives
    fresh = FrontAwarePolicy(inner, OBJECTIVES)
    known_now = {t.trial_id: _latency(t) for t in trials.values()}
    for trial_id, history, finished, stop, reason in observer.seen:
        context = PolicyContext(
            history=history, goal="maximize", trial_id=trial_id, finished=finished,
            known=known_now,
        )  # fmt: skip
        assert (fresh.judge(context).stop, fresh.judge(context).reason) == (stop, reason)


def test_without_known_objectives_the_policy_is_told_nothing() -> None:
    inner = BanditPolicy(slack_factor=0.2, delay_evaluation=2)
    _, alone = _sweep(inner, None)
    _, wrapped = _sweep(FrontAwarePolicy(inner, OBJECTIVES), None)
    # nothing known: every stop of the inner policy stands, with its own reason
    assert [(t.status, t.stop_reason) for t in alone.values()] == [
        (t.status, t.stop_reason) for t in wrapped.values()
    ]
