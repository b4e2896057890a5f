"""Contract suite run over every policy (several settings each), on generated histories.

Every policy: decides the same way twice; does not touch its inputs; ignores the order of the
history mapping; gives the same decision when every value is negated and the goal flipped; never
stops the current best trial (a pause is not a stop); stops only at its evaluation points; ``should_stop`` is
``decide(...).stop``; pickles and round-trips through ``to_dict``.
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import automl_vision.policies as policies_module
from automl_vision.policies import (
    ASHAPolicy,
    BanditPolicy,
    Decision,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    TruncationSelectionPolicy,
    policy_from_dict,
)

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE

POLICIES = [
    BanditPolicy(slack_factor=0.2),
    BanditPolicy(2, slack_factor=0.5, delay_evaluation=3),
    BanditPolicy(slack_amount=0.1),
    BanditPolicy(1, None, 0.0, 2),
    MedianStoppingPolicy(),
    MedianStoppingPolicy(1, 0),
    MedianStoppingPolicy(2, 1),
    TruncationSelectionPolicy(20),
    TruncationSelectionPolicy(50, 1, 2),
    TruncationSelectionPolicy(99, 2, 0, True),
    HyperbandPolicy(),
    ASHAPolicy(1, 9, 3),
    HyperbandPolicy(1, 9, 3),
    HyperbandPolicy(2, None, 2),
    HyperbandPolicy(1, 27, 3, 3),
    BanditPolicy(slack_factor=0.2, schedule_aware=True),
    MedianStoppingPolicy(1, 1, schedule_aware=True),
    HyperbandPolicy(1, 27, schedule_aware=True),
    ASHAPolicy(1, 9, 3, promotion=True),
    HyperbandPolicy(1, 27, 3, 2, schedule_aware=True, promotion=True),
    NoTerminationPolicy(),
]
IDS = [repr(p) for p in POLICIES]

# few distinct values so that ties are common; NaN sometimes; negatives too
VALUE = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.8, 1.0, -0.3, -1.0, 2.5, math.nan])
EXTREME = st.sampled_from([math.inf, -math.inf, 1e308, -1e308, 5e-324, math.nan, 0.5])
HISTORIES = st.dictionaries(
    st.sampled_from([f"trial_{i:04d}" for i in range(12)] + ["alpha", "beta"]),
    st.lists(st.one_of(VALUE, VALUE, VALUE, EXTREME), min_size=1, max_size=10),
    min_size=1,
    max_size=7,
)


def negate(history):
    return {k: [-v for v in values] for k, values in history.items()}


def finished_of(history):
    return {k for i, k in enumerate(sorted(history)) if i % 2 == 0}


def all_decisions(policy, history, goal, finished=()):
    return {t: policy.decide(t, history, goal, finished) for t in history}


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
@given(history=HISTORIES)
def test_pure_and_untouched(policy, history) -> None:
    frozen = copy.deepcopy(history)
    finished = finished_of(history)
    for goal in (MAX, MIN):
        first = all_decisions(policy, history, goal, finished)
        assert all_decisions(policy, history, goal, finished) == first
        # tuples instead of lists, a fresh policy, the mapping in another order: same decisions
        as_tuples = {k: tuple(v) for k, v in reversed(list(history.items()))}
        again = policy_from_dict(policy.to_dict())
        assert all_decisions(again, as_tuples, goal, frozenset(finished)) == first
        for decision in first.values():
            assert isinstance(decision, Decision)
            assert isinstance(decision.reason, str)
            assert decision.reason
    assert _same(history, frozen)


def _same(a, b) -> bool:
    return a.keys() == b.keys() and all(
        len(a[k]) == len(b[k])
        and all(x == y or (x != x and y != y) for x, y in zip(a[k], b[k], strict=True))
        for k in a
    )


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
@given(history=HISTORIES)
def test_goal_symmetry(policy, history) -> None:
    finished = finished_of(history)
    for goal, flipped in ((MAX, MIN), (MIN, MAX)):
        for trial in history:
            original = policy.should_stop(trial, history, goal, finished)
            mirrored = policy.should_stop(trial, negate(history), flipped, finished)
            assert original == mirrored, trial


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
@given(history=HISTORIES)
def test_never_stops_the_current_best_trial(policy, history) -> None:
    for goal in (MAX, MIN):
        for trial, values in history.items():
            n = len(values)
            latest = values[-1]
            if math.isnan(latest):
                continue
            seen = [v for vs in history.values() for v in vs[:n] if not math.isnan(v)]
            if goal.best(seen) == latest:  # nobody reported better at or before report n
                decision = policy.decide(trial, history, goal, finished_of(history))
                # a promotion policy pauses it at a rung: not an end, it is promoted first
                assert not decision.stop or decision.pause


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
@given(history=HISTORIES)
def test_stops_only_at_evaluation_points(policy, history) -> None:
    for goal in (MAX, MIN):
        for trial, values in history.items():
            if policy.should_stop(trial, history, goal):
                assert len(values) in policy.evaluation_points(len(values))


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
@given(history=HISTORIES)
def test_should_stop_is_decide(policy, history) -> None:
    for goal in (MAX, MIN, "maximize", "min"):
        for trial in history:
            stop = policy.should_stop(trial, history, goal)
            assert stop is policy.decide(trial, history, PrimaryMetricGoal.parse(goal)).stop
            assert type(stop) is bool


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_interface(policy) -> None:
    assert isinstance(policy, EarlyTerminationPolicy)
    params = inspect.signature(type(policy).should_stop).parameters
    assert list(params) == ["self", "trial_id", "history", "goal", "finished"]
    assert params["finished"].default == ()
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert policy_from_dict(policy.to_dict()) == policy
    assert eval(repr(policy), vars(policies_module)) == policy


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_a_trial_without_reports_continues(policy) -> None:
    for history in ({}, {"t": []}, {"a": [0.5]}):
        decision = policy.decide("t", history, MAX)
        assert not decision.stop
        assert "no reports" in decision.reason


@pytest.mark.parametrize("policy", POLICIES, ids=IDS)
def test_bad_goal(policy) -> None:
    with pytest.raises(ValueError, match="goal"):
        policy.should_stop("t", {"t": [0.5]}, "up")


@pytest.mark.parametrize("policy", POLICIES[:-1], ids=IDS[:-1])
@pytest.mark.parametrize("goal", [MAX, MIN])
def test_every_policy_stops_something(policy, goal) -> None:
    """Guards the suite against vacuous passes: each policy does stop a clearly bad trial."""
    good, bad = (1.0, 0.0) if goal is MAX else (0.0, 1.0)
    for n in range(1, 30):
        history = {f"trial_{i:04d}": [good] * 30 for i in range(30)}
        history["trial_0000"] = [bad] * n
        if policy.should_stop("trial_0000", history, goal):
            return
    pytest.fail(f"{policy!r} never stopped a trial that is worst at every report")
