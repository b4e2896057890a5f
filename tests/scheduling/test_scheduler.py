"""The sweep loop: optimize(), executors, policies hooked in, stop criteria, resume."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.criteria import (
    MaxConsecutiveFailures,
    NoImprovement,
    TargetValue,
    Timeout,
)
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.space import choice, uniform
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus
from automl_vision.tuning.optimize import optimize


class SpaceRandom(Sampler):
    """Minimal sampler for these tests: a uniformly chosen sub-space, sampled at random."""

    def suggest(self, history, goal, rng):
        i = int(rng.integers(len(self.spaces)))
        return Suggestion(self.spaces[i].sample(rng), i)


class StopBelow(EarlyTerminationPolicy):
    """Stops a trial whose latest value is below ``threshold`` (maximize) — for hook tests."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def decide(self, trial_id, history, goal, finished=()):
        value = history[trial_id][-1]
        if goal.sign * value < goal.sign * self.threshold:
            return Decision(True, f"{value} worse than {self.threshold}")
        return Decision(False, "ok")


class StopAfter(EarlyTerminationPolicy):
    def __init__(self, reports: int) -> None:
        self.reports = reports

    def decide(self, trial_id, history, goal, finished=()):
        return Decision(len(history[trial_id]) >= self.reports, "budget")


SPACE = {"x": uniform(-2, 2), "y": uniform(-2, 2)}


def neg_sphere(params) -> float:
    return -(params["x"] ** 2 + params["y"] ** 2)


def test_optimize_runs_max_trials_and_finds_the_best() -> None:
    result = optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE, seed=1), max_trials=30)
    assert len(result.trials) == 30
    assert all(t.status is TrialStatus.COMPLETED for t in result.trials)
    values = [t.value for t in result.trials]
    assert result.best_value == max(values)
    assert result.best_params == result.trials[values.index(max(values))].params
    assert "max_trials reached (30)" in result.end_reason


def test_optimize_minimize() -> None:
    result = optimize(
        lambda p: p["x"] ** 2,
        SPACE,
        sampling=SpaceRandom(SPACE, seed=1),
        max_trials=20,
        goal="minimize",
    )
    assert result.best_value == min(t.value for t in result.trials)


def test_same_seed_same_trials() -> None:
    a = optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE, seed=7), max_trials=10)
    b = optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE, seed=7), max_trials=10)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_failing_and_nan_trials_are_marked_failed_and_the_sweep_goes_on() -> None:
    def flaky(params) -> float:
        if params["x"] < -1:
            raise RuntimeError("boom")
        if params["x"] > 1:
            return math.nan
        return params["x"]

    result = optimize(flaky, SPACE, sampling=SpaceRandom(SPACE, seed=3), max_trials=40)
    statuses = {t.status for t in result.trials}
    assert statuses == {TrialStatus.COMPLETED, TrialStatus.FAILED}
    errors = {t.error for t in result.trials if t.status is TrialStatus.FAILED}
    assert "RuntimeError: boom" in errors and "objective returned nan" in errors
    assert -1 <= result.best_value <= 1


def test_report_hook_applies_the_policy_and_stopped_trials_keep_their_last_value() -> None:
    answers: list[bool] = []

    def objective(params, report) -> float:
        value = 0.0
        for step in range(1, 6):
            value = params["x"] * step
            stop = report(step, value)
            answers.append(stop)
            if stop:
                return -999.0  # ignored: a stopped trial keeps its last reported value
        return value

    result = optimize(
        objective, SPACE, sampling=SpaceRandom(SPACE, seed=0), max_trials=12, policy=StopBelow(0.0)
    )
    stopped = [t for t in result.trials if t.status is TrialStatus.STOPPED]
    completed = [t for t in result.trials if t.status is TrialStatus.COMPLETED]
    assert stopped and completed and True in answers
    for t in stopped:
        assert t.value == t.values[-1] < 0 and len(t.reports) == 1
        assert "worse than" in t.stop_reason
    for t in completed:
        assert len(t.reports) == 5 and t.value == pytest.approx(5 * t.params["x"])


def test_concurrent_trials_run_in_threads() -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def objective(params, report) -> float:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        for step in range(1, 4):
            time.sleep(0.01)
            report(step, params["x"])
        with lock:
            running[0] -= 1
        return params["x"]

    result = optimize(
        objective, SPACE, sampling=SpaceRandom(SPACE, seed=0), max_trials=9, max_concurrent_trials=3
    )
    assert len(result.trials) == 9 and peak[0] == 3
    assert all(len(t.reports) == 3 for t in result.trials)


def test_fixed_configurations_then_another_sampler() -> None:
    first = {"x": 0.0, "y": 0.0}
    sampler = FixedConfigurations([first], then=SpaceRandom(SPACE, seed=0))
    result = optimize(neg_sphere, SPACE, sampling=sampler, max_trials=5)
    assert result.trials[0].params == first and result.best_value == 0.0
    two = FixedConfigurations([first, {"x": 1.0, "y": 1.0}])
    assert len(optimize(neg_sphere, SPACE, sampling=two).trials) == 2  # max_trials = size
    more = optimize(neg_sphere, SPACE, sampling=two, max_trials=5)
    assert len(more.trials) == 2 and more.end_reason == "search space exhausted (2 configurations)"


CURVES = [
    [0.1, 0.2, 0.3, 0.4],
    [0.5, 0.6, 0.7, 0.8],
    [0.2, 0.3, 0.35, 0.4],
    [0.6, 0.7, 0.75, 0.9],
    [0.3, 0.4, 0.5, 0.6],
]


def replay(
    policy=None, capacity=2, seed=0, criteria=(), observers=()
) -> tuple[list[Trial], SimulatedExecutor, str]:
    configs = [{"curve": i} for i in range(len(CURVES))]
    executor = SimulatedExecutor(CURVES, capacity=capacity, seed=seed)
    scheduler = Scheduler(
        FixedConfigurations(configs),
        executor,
        max_trials=len(configs),
        policy=policy,
        primary_metric="accuracy",
        criteria=criteria,
        observers=observers,
    )
    outcome = scheduler.run()
    return outcome.trials, executor, outcome.end_reason


class Recorder(SweepObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def trial_started(self, trial):
        self.events.append(("start", trial.trial_id))

    def trial_reported(self, trial, report, decision):
        self.events.append(("report", trial.trial_id))

    def trial_finished(self, trial):
        self.events.append(("finish", trial.trial_id))

    def sweep_finished(self, trials, reason):
        self.events.append(("end", reason))


def test_simulated_executor_replays_curves_concurrently_in_random_order() -> None:
    recorder = Recorder()
    trials, executor, _ = replay(capacity=3, observers=[recorder])
    assert executor.epochs_run == sum(map(len, CURVES))
    assert [t.values for t in trials] == CURVES
    assert all(t.status is TrialStatus.COMPLETED and t.value == t.values[-1] for t in trials)
    reports = [tid for kind, tid in recorder.events if kind == "report"]
    assert reports != sorted(reports)  # interleaved, not one trial after the other
    assert recorder.events[-1][0] == "end"
    # another seed, another arrival order; the same seed, the same order
    assert replay(capacity=3, seed=1)[1].now() != executor.now()
    assert replay(capacity=3, seed=0)[1].now() == executor.now()


def test_simulated_executor_with_a_policy_saves_epochs() -> None:
    trials, executor, _ = replay(policy=StopAfter(2))
    assert executor.epochs_run == 2 * len(CURVES)
    assert all(t.status is TrialStatus.STOPPED and len(t.reports) == 2 for t in trials)


def test_target_value_ends_the_sweep() -> None:
    trials, _, reason = replay(capacity=1, criteria=[TargetValue(0.8)])
    assert reason.startswith("target reached: trial_0001 has 0.8 >= 0.8")
    assert len(trials) == 2


def test_timeout_stops_running_trials_at_their_next_report() -> None:
    trials, _, reason = replay(capacity=2, criteria=[Timeout(2.0)])
    assert reason.startswith("timeout")
    assert any(
        t.status is TrialStatus.STOPPED and "sweep ended: timeout" in t.stop_reason for t in trials
    )
    assert len(trials) < len(CURVES)


def _trials(values: Sequence[float | None]) -> list[Trial]:
    out = []
    for i, v in enumerate(values):
        t = Trial(index=i, params={}, finished_at=float(i))
        t.status = TrialStatus.FAILED if v is None else TrialStatus.COMPLETED
        t.value = v
        t.error = "bad" if v is None else None
        out.append(t)
    return out


@pytest.mark.parametrize(
    ("values", "goal", "stops"),
    [
        ([0.5, 0.6, 0.601, 0.602, 0.603], "maximize", True),  # < 1% in the last 3
        ([0.5, 0.6, 0.601, 0.602, 0.7], "maximize", False),
        ([1.0, 0.5, 0.499, 0.498, 0.497], "minimize", True),
        ([1.0, 0.5, 0.499, 0.498, 0.3], "minimize", False),
        ([0.5, 0.6, 0.61], "maximize", False),  # not enough trials yet
    ],
)
def test_no_improvement_criterion(values, goal, stops) -> None:
    reason = NoImprovement(3)(_trials(values), PrimaryMetricGoal.parse(goal), 0.0)
    assert bool(reason) is stops


def test_consecutive_failures_criterion() -> None:
    assert MaxConsecutiveFailures(3)(
        _trials([0.5, None, None, None]), PrimaryMetricGoal.MAXIMIZE, 0
    )
    assert not MaxConsecutiveFailures(3)(
        _trials([None, None, 0.5, None]), PrimaryMetricGoal.MAXIMIZE, 0
    )

    def crash(params):
        raise ValueError("always")

    result = optimize(
        crash,
        SPACE,
        sampling=SpaceRandom(SPACE, seed=0),
        max_trials=50,
        criteria=[MaxConsecutiveFailures(5)],
    )
    assert len(result.trials) == 5 and "last error: ValueError: always" in result.end_reason
    with pytest.raises(ValueError, match="no trial produced a value"):
        _ = result.best_value


def test_resume_starts_queued_trials_first_and_keeps_finished_ones() -> None:
    done = Trial(index=0, params={"curve": 1}, status=TrialStatus.COMPLETED, value=0.8)
    queued = Trial(index=1, params={"curve": 3})
    executor = SimulatedExecutor(CURVES, capacity=1)
    sampler = FixedConfigurations([{"curve": i} for i in range(len(CURVES))])
    outcome = Scheduler(
        sampler, executor, max_trials=4, primary_metric="accuracy", trials=[done, queued]
    ).run()
    trials = outcome.trials
    assert [t.params["curve"] for t in trials] == [1, 3, 0, 2]
    assert trials[0] is done and not done.reports  # not re-run
    assert trials[1].status is TrialStatus.COMPLETED and trials[1].value == 0.9
    assert executor.epochs_run == 3 * 4


def test_missing_primary_metric_fails_the_trial() -> None:
    executor = SimulatedExecutor(CURVES, capacity=1, metric="acc")
    outcome = Scheduler(
        FixedConfigurations([{"curve": 0}]), executor, max_trials=1, primary_metric="accuracy"
    ).run()
    assert outcome.trials[0].status is TrialStatus.FAILED
    assert "no primary metric 'accuracy' (reported: acc)" in outcome.trials[0].error


def test_choice_spaces_and_union_of_spaces() -> None:
    spaces = [{"kind": "a", "x": uniform(0, 1)}, {"kind": choice("b", "c"), "z": uniform(5, 6)}]
    result = optimize(lambda p: 1.0, spaces, sampling=SpaceRandom(spaces, seed=0), max_trials=30)
    kinds = {t.params["kind"] for t in result.trials}
    assert kinds == {"a", "b", "c"}
    for t in result.trials:
        assert ("x" in t.params) == (t.space_index == 0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_trials is required"):
        optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE, seed=0))
    with pytest.raises(ValueError, match="max_concurrent_trials must be an integer >= 1"):
        optimize(
            neg_sphere, SPACE, sampling=SpaceRandom(SPACE), max_trials=2, max_concurrent_trials=0
        )
    with pytest.raises(ValueError, match="goal='up' is not allowed"):
        optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE), max_trials=2, goal="up")
    with pytest.raises(ValueError, match="policy: BanditPolicy: exactly one of slack_factor"):
        optimize(neg_sphere, SPACE, sampling=SpaceRandom(SPACE), max_trials=2, policy="bandit")


def test_rng_is_derived_from_seed_and_trial_index() -> None:
    sampler = SpaceRandom(SPACE, seed=5)
    history = [Trial(index=i, params={}) for i in range(3)]
    expected = sampler.spaces[0].sample(np.random.default_rng([5, 3]))
    assert sampler.ask(history).params == expected


def test_reuse_hook_finishes_identical_trials_without_running_them() -> None:
    from automl_vision.scheduling.reuse import ReuseIndex

    earlier = Trial(index=0, params={"curve": 1}, status=TrialStatus.COMPLETED, value=0.8)
    earlier.reports = [r for r in replay_reports(CURVES[1])]
    earlier.artifacts = {"checkpoint": "/x.pt"}
    executor = SimulatedExecutor(CURVES, capacity=1)

    reuse = ReuseIndex.build("data", [("earlier-run", [earlier])])

    outcome = Scheduler(
        FixedConfigurations([{"curve": 0}, {"curve": 1}]),
        executor,
        max_trials=2,
        primary_metric="accuracy",
        reuse=reuse,
    ).run()
    reused = outcome.trials[1]
    assert reused.status is TrialStatus.COMPLETED and reused.value == 0.8
    assert reused.artifacts == {"checkpoint": "/x.pt", "reused_from": "trial_0000"}
    assert reused.values == CURVES[1] and executor.epochs_run == len(CURVES[0])


def replay_reports(values):
    from automl_vision.trial import Report

    return [Report(i + 1, v, {"accuracy": v}) for i, v in enumerate(values)]


def test_trials_record_the_fields_their_params_leave_inactive() -> None:
    from automl_vision.space import ImageClassificationSearchSpace

    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"), momentum=uniform(0.8, 0.9), beta1=uniform(0.8, 0.9)
    )
    result = optimize(lambda p: 1.0, space, sampling=SpaceRandom(space, seed=0), max_trials=10)
    for t in result.trials:
        assert t.inactive == ({"beta1"} if t.params["optimizer"] == "sgd" else {"momentum"})
