"""Promotion ASHA/Hyperband (``promotion=True``): a trial pauses at every rung, and ``promote``
picks the paused trial that continues (top ``m // eta`` of its rung), for both goals."""

from __future__ import annotations

import math

import pytest
import yaml

from automl_vision.policies import (
    ASHAPolicy,
    Decision,
    HyperbandPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    policy_from_dict,
)

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
ASHA = ASHAPolicy(1, 27, 3, promotion=True)  # rungs 1, 3, 9


def sign(goal, history):
    """Histories written for maximize, mirrored for minimize."""
    return {k: [v if goal is MAX else -v for v in vs] for k, vs in history.items()}


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    ("history", "paused", "promoted"),
    [
        # fewer than eta trials at the rung: none is promoted yet
        ({"a": [0.9], "b": [0.5]}, ["a", "b"], None),
        # three at rung 1: the top 3 // 3 = 1 goes on
        ({"a": [0.5], "b": [0.9], "c": [0.1]}, ["a", "b", "c"], "b"),
        # the best was already promoted (it has 2 reports): nobody else is in the top 1
        ({"a": [0.5], "b": [0.9, 0.9], "c": [0.1]}, ["a", "c"], None),
        # six at rung 1: top 2; b is running on, a is the other one
        ({"a": [0.8], "b": [0.9, 0.9], "c": [0.1], "d": [0.2], "e": [0.3], "f": [0.4]},
         ["a", "c", "d", "e", "f"], "a"),
        # ties at the cut-off are in the trial's favour; the smaller id goes first
        ({"b": [0.5], "a": [0.5], "c": [0.5]}, ["b", "a", "c"], "a"),
        # the rung reached furthest goes first, even with a worse value there
        ({"a": [0.9, 0.9, 0.1], "b": [0.8, 0.8, 0.05], "c": [0.7, 0.7, 0.0],
          "d": [0.6], "e": [0.5], "f": [0.4], "g": [0.95]},
         ["a", "b", "c", "d", "e", "f", "g"], "a"),
        # a NaN is never promoted
        ({"a": [math.nan], "b": [0.1], "c": [0.2]}, ["a"], None),
        # only paused trials are candidates
        ({"a": [0.9], "b": [0.5], "c": [0.1]}, ["b", "c"], None),
    ],
)  # fmt: skip
def test_the_promotion_rule(goal, history, paused, promoted) -> None:
    promotion = ASHA.promote(paused, sign(goal, history), goal)
    assert (promotion.trial_id if promotion else None) == promoted
    if promotion is not None:
        assert promotion.reason.startswith(f"promoted from report {len(history[promoted])}")
        assert "// 3" in promotion.reason


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_a_trial_pauses_at_every_rung_and_runs_between_them(goal) -> None:
    history = sign(goal, {"a": [0.1, 0.2, 0.3, 0.4], "b": [0.9, 0.9, 0.9, 0.9]})
    for n, rung in [(1, True), (2, False), (3, True), (4, False)]:
        cut = {k: v[:n] for k, v in history.items()}
        decision = ASHA.decide("b", cut, goal)  # the best pauses too: promotion decides later
        assert decision.stop == rung and decision.pause == rung
        if rung:
            assert decision.reason.startswith(f"paused at rung {n}: ")
    at_max = {"a": [0.5] * 27}
    assert not ASHA.decide("a", sign(goal, at_max), goal).stop  # no rung at max_resource


def test_a_nan_at_a_rung_stops_for_good() -> None:
    decision = ASHA.decide("a", {"a": [math.nan]}, MAX)
    assert decision.stop and not decision.pause


def test_hyperband_promotes_within_a_bracket() -> None:
    policy = HyperbandPolicy(1, 9, 3, 2, promotion=True)  # two brackets: rungs 1, 3 and 3
    ids = [f"trial_{i:04d}" for i in range(40)]
    by_bracket: dict[int, list[str]] = {0: [], 1: []}
    for trial_id in ids:
        by_bracket[policy.bracket_of(trial_id)].append(trial_id)
    low, high = by_bracket[0][:3], by_bracket[1][:2]
    history = {t: [0.1 * (i + 1)] * 3 for i, t in enumerate(high)}  # bracket 1 at rung 3
    history.update({t: [0.5 + 0.1 * i] for i, t in enumerate(low)})  # bracket 0 at rung 1
    # bracket 1 has only 2 trials at report 3 (its top 0): bracket 0's best at rung 1 goes on
    assert policy.promote([*low, *high], history, MAX).trial_id == low[2]
    history[by_bracket[1][2]] = [0.05] * 3  # now 3 of bracket 1 reached its rung
    assert policy.promote([*low, *high], history, MAX).trial_id == high[1]


def test_without_promotion_nothing_is_promoted_or_paused() -> None:
    history = {"a": [0.5], "b": [0.9], "c": [0.1]}
    assert ASHAPolicy(1, 27).promote(["a", "b", "c"], history, MAX) is None
    assert NoTerminationPolicy().promote(["a"], history, MAX) is None
    assert not ASHAPolicy(1, 27).decide("c", history, MAX).pause


@pytest.mark.parametrize(
    "policy",
    [ASHA, HyperbandPolicy(1, 27, promotion=True), HyperbandPolicy(1, 27, 3, 2, promotion=True)],
    ids=repr,
)
def test_the_option_round_trips(policy) -> None:
    data = policy.to_dict()
    assert data["promotion"] is True
    assert policy_from_dict(yaml.safe_load(yaml.safe_dump(data))) == policy
    assert policy != policy.model_copy(update={"promotion": False})
    assert policy.with_max_resource(50) == policy  # max_resource is set: unchanged
    assert HyperbandPolicy(promotion=True).with_max_resource(9).promotion
    assert (
        eval(repr(policy), {"ASHAPolicy": ASHAPolicy, "HyperbandPolicy": HyperbandPolicy}) == policy
    )


def test_the_yaml_form() -> None:
    policy = policy_from_dict(yaml.safe_load("type: asha\nmax_resource: 9\npromotion: true\n"))
    assert policy == ASHAPolicy(1, 9, promotion=True)
    with pytest.raises(ValueError, match="promotion must be true or false"):
        policy_from_dict({"type": "hyperband", "promotion": 1})


def test_a_pause_is_a_stop() -> None:
    with pytest.raises(ValueError, match="pause=True needs stop=True"):
        Decision(False, "x", pause=True)


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    ("history", "paused", "promoted", "k"),
    [
        # fewer than eta at the rung: as the sweep closes the best of them goes on
        ({"a": [0.9], "b": [0.5]}, ["a", "b"], "a", 1),
        # a single trial at its rung goes on
        ({"a": [0.4]}, ["a"], "a", 1),
        # the best was already promoted: max(1, 2 // 3) = 1 keeps the other one paused
        ({"a": [0.5], "b": [0.9, 0.9]}, ["a"], None, None),
        # six at the rung: the top 2, as while open (b is promoted already, a is the other)
        ({"a": [0.8], "b": [0.9, 0.9], "c": [0.1], "d": [0.2], "e": [0.3], "f": [0.4]},
         ["a", "c", "d", "e", "f"], "a", 2),
        # the furthest paused goes first, even alone at its rung
        ({"a": [0.1, 0.1, 0.1], "b": [0.9], "c": [0.8], "d": [0.7]}, ["a", "b", "c", "d"],
         "a", 1),
        # a NaN is never promoted, closing or not
        ({"a": [math.nan]}, ["a"], None, None),
    ],
)  # fmt: skip
def test_the_closing_promotion_rule(goal, history, paused, promoted, k) -> None:
    promotion = ASHA.promote(paused, sign(goal, history), goal, closing=True)
    assert (promotion.trial_id if promotion else None) == promoted
    if promotion is not None:
        n = len(history[promoted])
        assert promotion.reason.startswith(f"promoted from report {n} as the sweep closes")
        assert f"// 3) = {k} of the" in promotion.reason
    without = ASHA.promote(paused, sign(goal, history), goal)
    if without is not None:  # closing only ever adds promotable trials
        assert promotion is not None
