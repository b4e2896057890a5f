"""The policies inside a sweep: ``optimize(..., policy=...)`` and the scheduler's replay."""

from __future__ import annotations

import pytest
from helpers_curves import CURVES, Replayer

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies import (
    BanditPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    TruncationSelectionPolicy,
    policy_from_dict,
)
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import TrialStatus
from automl_vision.tuning.optimize import optimize

BEST = 5  # the highest curve at every epoch
MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def curve(index: int, goal: PrimaryMetricGoal) -> list[float]:
    return CURVES[index] if goal is MAX else [1.0 - v for v in CURVES[index]]


POLICIES = [
    BanditPolicy(slack_factor=0.2, delay_evaluation=2),
    MedianStoppingPolicy(1, 2),
    TruncationSelectionPolicy(50, 1, 2),
    HyperbandPolicy(1, 9, 3),
    HyperbandPolicy(1, 9, 3, 2),
]


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
@pytest.mark.parametrize("goal", [MAX, MIN])
def test_optimize_with_a_reporting_objective(policy, goal) -> None:
    def objective(params, report):
        values = curve(params["curve"], goal)
        for step, value in enumerate(values, 1):
            if report(step, value):
                return value
        return values[-1]

    configs = [{"curve": i} for i in range(len(CURVES))]
    result = optimize(
        objective, {}, sampling=FixedConfigurations(configs), max_trials=8, goal=goal, policy=policy
    )
    stopped = [t for t in result.trials if t.status is TrialStatus.STOPPED]
    assert stopped, "the policy stopped nothing"
    for trial in stopped:
        assert trial.value == trial.values[-1]  # keeps its last value
        assert len(trial.values) < len(CURVES[0])
        assert trial.stop_reason and trial.stop_reason.startswith("stopped at")
    assert result.best_params == {"curve": BEST}
    assert result.best_value == curve(BEST, goal)[-1]


def test_optimize_accepts_the_dict_form() -> None:
    def objective(params, report):
        for step, value in enumerate(CURVES[params["curve"]], 1):
            if report(step, value):
                return value
        return CURVES[params["curve"]][-1]

    result = optimize(
        objective,
        {},
        sampling=FixedConfigurations([{"curve": i} for i in range(8)]),
        max_trials=8,
        policy={"type": "asha", "max_resource": 9},
    )
    assert any(t.status is TrialStatus.STOPPED for t in result.trials)


@pytest.mark.parametrize("policy", [*POLICIES, NoTerminationPolicy()], ids=repr)
@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize("seed", [0, 1])
def test_replaying_the_reports_reproduces_every_decision(policy, goal, seed) -> None:
    curves = [curve(i, goal) for i in range(len(CURVES))]
    replayer = Replayer()
    scheduler = Scheduler(
        FixedConfigurations([{"curve": i} for i in range(len(CURVES))]),
        SimulatedExecutor(curves, capacity=3, seed=seed, metric="score"),
        goal=goal,
        max_trials=len(CURVES),
        policy=policy,
        primary_metric="score",
        observers=[replayer],
    )
    replayer.scheduler = scheduler
    trials = scheduler.run().trials
    assert len(replayer.seen) == sum(len(t.reports) for t in trials)
    fresh = policy_from_dict(policy.to_dict())
    for trial_id, history, finished, stop, reason in replayer.seen:
        decision = fresh.decide(trial_id, history, goal, finished)
        assert (decision.stop, decision.reason) == (stop, reason)
    best = next(t for t in trials if t.params["curve"] == BEST)
    assert best.status is TrialStatus.COMPLETED
