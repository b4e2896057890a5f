"""BanditPolicy: the semantics in docs/architecture.md on hand-computed histories, both goals."""

from __future__ import annotations

import math

import pytest

from automl_vision.policies import BanditPolicy, PrimaryMetricGoal
from automl_vision.policies.bandit import bandit_threshold

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


# -- schedule: which report counts are evaluated ----------------------------------------------
# "lead" is far ahead at every report, "lag" far behind: lag stops exactly at evaluation points.
@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"),
    [
        (1, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
        (1, 1, [1, 2, 3, 4, 5, 6, 7, 8]),
        (1, 5, [5, 6, 7, 8]),
        (2, 0, [2, 4, 6, 8]),
        (2, 3, [4, 6, 8]),
        (3, 0, [3, 6]),
        (3, 6, [6]),
        (4, 5, [8]),
        (10, 0, []),
    ],
)
@pytest.mark.parametrize(("goal", "good", "bad"), [(MAX, 0.9, 0.1), (MIN, 0.1, 0.9)])
def test_evaluation_schedule(interval, delay, evaluated, goal, good, bad) -> None:
    policy = BanditPolicy(interval, slack_factor=0.1, delay_evaluation=delay)
    stopped = [
        n
        for n in range(1, 9)
        if policy.should_stop("lag", {"lead": [good] * 8, "lag": [bad] * n}, goal)
    ]
    assert stopped == evaluated
    assert policy.evaluation_points(8) == evaluated


# -- the formulas ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("goal", "slack_factor", "slack_amount", "best", "value", "stop"),
    [
        # slack_factor 0.2, best 0.8 -> a trial at 0.66 stops (0.66 * 1.2 < 0.8)
        (MAX, 0.2, None, 0.8, 0.66, True),
        (MAX, 0.2, None, 0.8, 0.67, False),  # 0.67 >= 0.8 / 1.2 = 0.6667
        (MAX, 0.2, None, 0.8, 0.8, False),
        (MAX, 1.0, None, 0.5, 0.25, False),  # exactly at 0.5 / 2: continues (strict)
        (MAX, 1.0, None, 0.5, 0.2499, True),
        (MAX, None, 0.1, 0.8, 0.69, True),  # 0.69 < 0.8 - 0.1
        (MAX, None, 0.1, 0.8, 0.71, False),
        (MAX, None, 0.25, 0.75, 0.5, False),  # exactly at 0.75 - 0.25
        (MAX, None, 0.0, 0.75, 0.74, True),  # slack_amount 0: anything worse than best stops
        # minimize: value > best * (1 + slack_factor) / value > best + slack_amount
        (MIN, 0.2, None, 0.5, 0.61, True),  # 0.61 > 0.5 * 1.2 = 0.6
        (MIN, 0.2, None, 0.5, 0.59, False),
        (MIN, 1.0, None, 0.25, 0.5, False),  # exactly at 0.25 * 2
        (MIN, 1.0, None, 0.25, 0.5001, True),
        (MIN, None, 0.1, 0.5, 0.61, True),
        (MIN, None, 0.1, 0.5, 0.59, False),
        (MIN, None, 0.25, 0.25, 0.5, False),  # exactly at 0.25 + 0.25
        # a negative best: the ratio applies to magnitudes, on the worse side of best
        (MAX, 0.25, None, -1.0, -1.2, False),  # -1.2 >= -1.0 * 1.25
        (MAX, 0.25, None, -1.0, -1.3, True),
        (MIN, 0.25, None, -1.0, -0.85, False),  # -0.85 <= -1.0 / 1.25 = -0.8
        (MIN, 0.25, None, -1.0, -0.75, True),
        (MAX, 0.5, None, 0.0, -0.1, True),  # best 0: threshold 0
        (MAX, 0.5, None, 0.0, 0.0, False),
    ],
)
def test_slack_formulas(goal, slack_factor, slack_amount, best, value, stop) -> None:
    policy = BanditPolicy(slack_factor=slack_factor, slack_amount=slack_amount)
    history = {"best": [best], "t": [value]}
    decision = policy.decide("t", history, goal)
    assert decision.stop is stop
    assert policy.should_stop("t", history, goal) is stop
    assert not policy.should_stop("best", history, goal)


def test_the_design_example_reason_shows_the_numbers() -> None:
    decision = BanditPolicy(slack_factor=0.2).decide("t", {"a": [0.8], "t": [0.66]}, MAX)
    assert decision.stop
    assert decision.reason.startswith("stopped at report 1: 0.66 < 0.8 / (1 + 0.2) = 0.666667")
    kept = BanditPolicy(slack_amount=0.1).decide("t", {"a": [0.5], "t": [0.55]}, MIN)
    assert not kept.stop
    assert "within slack" in kept.reason
    assert "0.55 <= 0.5 + 0.1 = 0.6" in kept.reason
    skipped = BanditPolicy(2, slack_factor=0.1).decide("t", {"a": [0.8], "t": [0.1]}, MAX)
    assert "not an evaluation point" in skipped.reason


@pytest.mark.parametrize(
    ("goal", "history", "stop"),
    [
        # best = best value at reports 1..N only: "a" reaches 0.9 at report 2, "t" is at report 1
        (MAX, {"a": [0.5, 0.9], "t": [0.45]}, False),  # 0.45 * 1.2 >= 0.5
        (MAX, {"a": [0.5, 0.9], "t": [0.45, 0.7]}, True),  # 0.7 < 0.9 / 1.2 = 0.75
        (MIN, {"a": [0.5, 0.2], "t": [0.55]}, False),  # 0.55 <= 0.5 * 1.2
        (MIN, {"a": [0.5, 0.2], "t": [0.55, 0.3]}, True),  # 0.3 > 0.2 * 1.2 = 0.24
        # the trial's own earlier reports count toward best (a lone trial that regressed)
        (MAX, {"t": [0.9, 0.5]}, True),
        (MIN, {"t": [0.2, 0.5]}, True),
        (MAX, {"t": [0.9, 0.8]}, False),
        # finished / stopped trials count like any other
        (MAX, {"done": [0.8, 0.8, 0.8], "t": [0.3]}, True),
    ],
)
def test_best_is_taken_at_or_before_the_interval(goal, history, stop) -> None:
    assert BanditPolicy(slack_factor=0.2).should_stop("t", history, goal) is stop


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_nan(goal) -> None:
    policy = BanditPolicy(2, slack_factor=0.2)
    good = 0.9 if goal is MAX else 0.1
    assert policy.should_stop("t", {"a": [good, good], "t": [good, math.nan]}, goal)
    assert not policy.should_stop("t", {"a": [good, good], "t": [math.nan]}, goal)  # no eval
    # another trial's NaN is ignored when taking the best
    assert not policy.should_stop("t", {"a": [math.nan, math.nan], "t": [good, good]}, goal)


@pytest.mark.parametrize(
    ("best", "goal", "kwargs", "threshold"),
    [
        (0.8, MAX, {"slack_factor": 0.25}, 0.64),
        (0.8, MIN, {"slack_factor": 0.25}, 1.0),
        (-0.8, MAX, {"slack_factor": 0.25}, -1.0),
        (-0.8, MIN, {"slack_factor": 0.25}, -0.64),
        (0.8, MAX, {"slack_amount": 0.25}, 0.55),
        (0.8, MIN, {"slack_amount": 0.25}, 1.05),
    ],
)
def test_threshold_function(best, goal, kwargs, threshold) -> None:
    value, formula = bandit_threshold(best, goal, **kwargs)
    assert value == pytest.approx(threshold)
    assert formula


def test_threshold_needs_a_slack() -> None:
    with pytest.raises(ValueError, match="slack_factor or slack_amount"):
        bandit_threshold(0.5, MAX)
