"""TruncationSelectionPolicy: ranking at report N, rounding, ties, finished trials."""

from __future__ import annotations

import math

import pytest

from automl_vision.policies import PrimaryMetricGoal, TruncationSelectionPolicy
from automl_vision.policies.truncation import truncation_count

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def flip(values: list[float]) -> list[float]:
    """The same ranking for the other goal (1 - x keeps ties and order, reversed)."""
    return [1.0 - v for v in values]


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"),
    [
        (1, 0, [1, 2, 3, 4, 5, 6]),
        (2, 0, [2, 4, 6]),
        (1, 4, [4, 5, 6]),
        (2, 3, [4, 6]),
        (5, 5, [5]),
    ],
)
@pytest.mark.parametrize(("goal", "good", "bad"), [(MAX, 0.9, 0.1), (MIN, 0.1, 0.9)])
def test_evaluation_schedule(interval, delay, evaluated, goal, good, bad) -> None:
    policy = TruncationSelectionPolicy(50, interval, delay)
    stopped = [
        n for n in range(1, 7) if policy.should_stop("t", {"a": [good] * 6, "t": [bad] * n}, goal)
    ]
    assert stopped == evaluated
    assert policy.evaluation_points(6) == evaluated


@pytest.mark.parametrize(
    ("trials", "percentage", "cut"),
    [(5, 20, 1), (5, 40, 2), (5, 50, 2), (5, 19, 0), (4, 25, 1), (4, 24, 0), (1, 99, 0),
     (10, 99, 9), (10, 1, 0), (100, 1, 1), (3, 34, 1), (3, 33, 0)],
)  # fmt: skip
def test_truncation_count_rounds_down(trials, percentage, cut) -> None:
    assert truncation_count(trials, percentage) == cut


# values at report 1 of trials t0..t4; which of them a given percentage stops (maximize)
VALUES = [0.1, 0.2, 0.3, 0.4, 0.5]


@pytest.mark.parametrize(
    ("percentage", "stopped"),
    [(20, [0]), (39, [0]), (40, [0, 1]), (50, [0, 1]), (60, [0, 1, 2]), (19, []), (99, [0, 1, 2, 3])],
)  # fmt: skip
@pytest.mark.parametrize("goal", [MAX, MIN])
def test_lowest_percentage_stops(percentage, stopped, goal) -> None:
    values = VALUES if goal is MAX else flip(VALUES)
    history = {f"t{i}": [v] for i, v in enumerate(values)}
    policy = TruncationSelectionPolicy(percentage)
    got = [i for i in range(5) if policy.should_stop(f"t{i}", history, goal)]
    assert got == stopped


@pytest.mark.parametrize(
    ("values", "percentage", "stopped"),
    [
        # 4 trials, 25 % -> 1 to cut, but the two lowest are tied: both continue
        ([0.2, 0.2, 0.5, 0.6], 25, []),
        # 4 trials, 50 % -> 2: the cut-off is the 2nd best (0.3); 0.2 is below it, 0.3s are not
        ([0.2, 0.3, 0.3, 0.5], 50, [0]),
        ([0.3, 0.3, 0.3, 0.3], 75, []),
        # NaN ranks last and is never better: 3 trials, 34 % -> 1 to cut, NaN is the one
        ([math.nan, 0.2, 0.5], 34, [0]),
        ([math.nan, 0.2, 0.5], 67, [0, 1]),
    ],
)
@pytest.mark.parametrize("goal", [MAX, MIN])
def test_ties_go_to_the_trial(values, percentage, stopped, goal) -> None:
    values = values if goal is MAX else flip(values)
    history = {f"t{i}": [v] for i, v in enumerate(values)}
    policy = TruncationSelectionPolicy(percentage)
    assert [i for i in range(len(values)) if policy.should_stop(f"t{i}", history, goal)] == stopped


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_ranked_by_the_value_at_n_not_by_later_values(goal) -> None:
    # "old" is at 0.1 at report 2 and 0.9 later; "young" (report 2 = 0.3) is compared at report 2
    old, young = [0.5, 0.1, 0.9], [0.5, 0.3]
    if goal is MIN:
        old, young = flip(old), flip(young)
    policy = TruncationSelectionPolicy(50)
    assert not policy.should_stop("young", {"old": old, "young": young}, goal)
    assert policy.should_stop("old", {"old": old[:2], "young": young}, goal)


@pytest.mark.parametrize(
    ("exclude", "percentage", "stopped"),
    [
        # running r1 = 0.3, r2 = 0.2; finished f1..f3 = 0.9, 0.8, 0.7 at report 2
        (False, 40, ["r1", "r2"]),  # 5 trials, 2 cut
        (True, 40, []),  # 2 running trials, 40 % of 2 rounds down to 0
        (False, 20, ["r2"]),
        (True, 50, ["r2"]),  # 2 running trials, 1 cut
    ],
)
@pytest.mark.parametrize("goal", [MAX, MIN])
def test_finished_trials(exclude, percentage, stopped, goal) -> None:
    values = {"f1": 0.9, "f2": 0.8, "f3": 0.7, "r1": 0.3, "r2": 0.2}
    sign = (lambda v: v) if goal is MAX else (lambda v: 1.0 - v)
    history = {k: [0.5, sign(v)] for k, v in values.items()}
    history["f1"] = [*history["f1"], sign(0.95)]  # finished trials may be longer
    policy = TruncationSelectionPolicy(percentage, exclude_finished_jobs=exclude)
    finished = {"f1", "f2", "f3"}
    got = [t for t in ("r1", "r2") if policy.should_stop(t, history, goal, finished)]
    assert got == stopped


def test_the_deciding_trial_always_takes_part() -> None:
    policy = TruncationSelectionPolicy(50, exclude_finished_jobs=True)
    history = {"a": [0.9], "t": [0.1]}
    assert policy.should_stop("t", history, MAX, finished={"t"})


def test_reason_shows_the_numbers() -> None:
    history = {f"t{i}": [v] for i, v in enumerate(VALUES)}
    stop = TruncationSelectionPolicy(40).decide("t1", history, MAX)
    assert stop.reason == (
        "stopped at report 1: 0.2 is worse than 0.3 (cut-off = the 3rd best of 5 trials at "
        "report 1; the lowest 40% = 2 trials stop)"
    )
    keep = TruncationSelectionPolicy(19).decide("t0", history, MAX)
    assert keep.reason == "report 1: 19% of 5 trials at report 1 rounds down to 0 to stop"


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_a_lone_trial_never_stops(goal) -> None:
    policy = TruncationSelectionPolicy(99)
    assert not any(policy.should_stop("t", {"t": [0.5] * n}, goal) for n in range(1, 6))
