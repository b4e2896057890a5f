"""MedianStoppingPolicy: the median of running averages, on hand-computed histories."""

from __future__ import annotations

import math

import pytest

from automl_vision.policies import MedianStoppingPolicy, PrimaryMetricGoal
from automl_vision.policies.common import median
from automl_vision.policies.median import running_average

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"),
    [
        (1, 5, [5, 6, 7, 8]),  # the defaults
        (1, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
        (2, 0, [2, 4, 6, 8]),
        (2, 3, [4, 6, 8]),
        (3, 1, [3, 6]),
        (1, 9, []),
    ],
)
@pytest.mark.parametrize(("goal", "good", "bad"), [(MAX, 0.9, 0.1), (MIN, 0.1, 0.9)])
def test_evaluation_schedule(interval, delay, evaluated, goal, good, bad) -> None:
    policy = MedianStoppingPolicy(interval, delay)
    others = {"a": [good] * 8, "b": [good] * 8}
    stopped = [n for n in range(1, 9) if policy.should_stop("t", {**others, "t": [bad] * n}, goal)]
    assert stopped == evaluated
    assert policy.evaluation_points(8) == evaluated


def test_defaults_are_hyperdrives() -> None:
    policy = MedianStoppingPolicy()
    assert (policy.evaluation_interval, policy.delay_evaluation) == (1, 5)


# At report 3 (policy (1, 3)); "a" has more reports, "e" has fewer.
#   maximize: a=[0.2,0.2,0.2,1,1] avg@3 0.2 (avg of all 5 would be 0.52), b avg 0.5,
#   c=[0.1,0.3,0.35] avg 0.25 best 0.35 -> median(0.2, 0.5, 0.25) = 0.25 -> c continues.
#   minimize: the same with 1 - x.
MAX_BASE = {"a": [0.2, 0.2, 0.2, 1.0, 1.0], "b": [0.5, 0.5, 0.5]}
MIN_BASE = {"a": [0.8, 0.8, 0.8, 0.0, 0.0], "b": [0.5, 0.5, 0.5]}


@pytest.mark.parametrize(
    ("goal", "history", "stop", "why"),
    [
        (MAX, {**MAX_BASE, "c": [0.1, 0.3, 0.35]}, False, "median 0.25 of [0.2, 0.5, 0.25]"),
        (MIN, {**MIN_BASE, "c": [0.9, 0.7, 0.65]}, False, "median 0.75 of [0.8, 0.5, 0.75]"),
        # a trial that has not reached report 3 is left out (with it the median would be 0.375)
        (
            MAX,
            {**MAX_BASE, "e": [0.9, 0.9], "c": [0.1, 0.3, 0.35]},
            False,
            "e did not reach report 3",
        ),
        (
            MIN,
            {**MIN_BASE, "e": [0.1, 0.1], "c": [0.9, 0.7, 0.65]},
            False,
            "e did not reach report 3",
        ),
        # the trial's best so far is compared, not its latest value: best 0.6, avg 0.2667
        (MAX, {**MAX_BASE, "c": [0.6, 0.1, 0.1]}, False, "best 0.6 >= median 0.2667"),
        (MIN, {**MIN_BASE, "c": [0.4, 0.9, 0.9]}, False, "best 0.4 <= median 0.7333"),
        # c=[0.1,0.15,0.2]: median(0.2, 0.5, 0.15) = 0.2 and best 0.2 is not worse (strict)
        (MAX, {**MAX_BASE, "c": [0.1, 0.15, 0.2]}, False, "best equal to the median"),
        (MAX, {**MAX_BASE, "c": [0.1, 0.15, 0.19]}, True, "best 0.19 < median 0.2"),
        (MIN, {**MIN_BASE, "c": [0.9, 0.85, 0.81]}, True, "best 0.81 > median 0.8"),
        # even count: median of [0.2, 0.5, 0.4, ~0.1] = (0.2 + 0.4) / 2 = 0.3
        (
            MAX,
            {**MAX_BASE, "d": [0.4, 0.4, 0.4], "c": [0.0, 0.0, 0.29]},
            True,
            "best 0.29 < median 0.3 (even count)",
        ),
        (
            MAX,
            {**MAX_BASE, "d": [0.4, 0.4, 0.4], "c": [0.0, 0.0, 0.31]},
            False,
            "best 0.31 > median 0.3 (even count)",
        ),
        (
            MIN,
            {**MIN_BASE, "d": [0.6, 0.6, 0.6], "c": [1.0, 1.0, 0.71]},
            True,
            "best 0.71 > median 0.7 (even count)",
        ),
    ],
)
def test_median_of_running_averages(goal, history, stop, why) -> None:
    assert MedianStoppingPolicy(1, 3).should_stop("c", history, goal) is stop, why


def test_reason_shows_the_numbers() -> None:
    history = {**MAX_BASE, "c": [0.1, 0.15, 0.19]}
    decision = MedianStoppingPolicy(1, 3).decide("c", history, MAX)
    assert decision.reason == (
        "stopped at report 3: best 0.19 < 0.2 (median of the running averages of 3 trials at "
        "report 3)"
    )


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_a_lone_trial_never_stops(goal) -> None:
    policy = MedianStoppingPolicy(1, 0)
    for values in ([0.1] * 7, [0.3, 0.1, 0.7], [0.9, 0.1, 0.1, 0.1], [1 / 3] * 13):
        for n in range(1, len(values) + 1):
            assert not policy.should_stop("t", {"t": values[:n]}, goal)


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_nan(goal) -> None:
    policy = MedianStoppingPolicy(1, 2)
    good = 0.9 if goal is MAX else 0.1
    assert policy.should_stop("t", {"a": [good] * 2, "t": [good, math.nan]}, goal)
    assert not policy.should_stop("t", {"a": [good] * 2, "t": [math.nan]}, goal)  # not evaluated
    # a NaN running average is left out of the median; t's own average here is NaN too
    bad = 0.1 if goal is MAX else 0.9
    assert not policy.should_stop("t", {"a": [math.nan, good], "t": [math.nan, bad]}, goal)
    assert policy.should_stop("t", {"a": [good, good], "n": [math.nan] * 2, "t": [bad] * 2}, goal)


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_huge_values_do_not_overflow_into_a_stop(goal) -> None:
    big = 1e308 if goal is MAX else -1e308
    history = {"a": [big, big], "t": [big, big]}
    assert not MedianStoppingPolicy(1, 1).should_stop("t", history, goal)


def test_running_average_and_median() -> None:
    assert running_average([0.2, 0.4, 0.9], 2) == pytest.approx(0.3)
    assert running_average([0.1] * 3, 3) == 0.1  # clamped: never above the best value
    assert math.isnan(running_average([0.1, math.nan], 2))
    assert math.isnan(running_average([math.inf, -math.inf], 2))
    assert running_average([math.inf, 1.0], 2) == math.inf
    assert running_average([1e308, 1e308, 1e308], 3) == 1e308  # no overflow
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert math.isnan(median([]))
    assert median([1e308, 1e308]) == 1e308  # no overflow
    assert median([-math.inf, math.inf, 0.0, 1.0]) == 0.5
