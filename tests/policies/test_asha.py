"""HyperbandPolicy / ASHAPolicy: rungs and promotion with eta = 3, Hyperband brackets ("auto" =
every bracket) and their assignment."""

from __future__ import annotations

import math

import pytest
import yaml

from automl_vision.policies import (
    ASHAPolicy,
    HyperbandPolicy,
    PrimaryMetricGoal,
    RungSystem,
    parse_policy,
    policy_from_dict,
)
from automl_vision.policies.asha import (
    auto_brackets,
    bracket_sequence,
    bracket_weights,
    promotion_count,
    rung_schedule,
)

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize(
    ("policy", "max_reports", "rungs"),
    [
        (ASHAPolicy(), 30, [1, 3, 9, 27]),
        (ASHAPolicy(1, 27), 30, [1, 3, 9]),  # max_resource itself is not a rung
        (ASHAPolicy(1, 28), 30, [1, 3, 9, 27]),
        (ASHAPolicy(1, 20, 3), 20, [1, 3, 9]),
        (ASHAPolicy(2, None, 2), 20, [2, 4, 8, 16]),
        (ASHAPolicy(3, 100, 4), 100, [3, 12, 48]),
        (ASHAPolicy(5, 5), 10, []),  # min_resource == max_resource: nothing to stop
        (HyperbandPolicy(1, 27, 3, 3), 30, [1, 3, 9]),  # union over brackets
    ],
)
def test_rungs(policy, max_reports, rungs) -> None:
    assert policy.evaluation_points(max_reports) == rungs


def test_rungs_per_bracket() -> None:
    policy = HyperbandPolicy(1, 27, 3, 3)
    assert [policy.rungs(b) for b in range(3)] == [[1, 3, 9], [3, 9], [9]]
    assert [policy.bracket_min_resource(b) for b in range(3)] == [1, 3, 9]
    assert HyperbandPolicy(1, 81, 3, 4).rungs(3) == [27]
    assert HyperbandPolicy(1, 9, 3, 3).rungs(2) == []  # Hyperband's last bracket: no stopping
    assert rung_schedule(1, 3, None, 10) == [1, 3, 9]
    with pytest.raises(ValueError, match="bracket must be in"):
        policy.rungs(3)
    with pytest.raises(ValueError, match="max_reports"):
        ASHAPolicy().rungs(0)


@pytest.mark.parametrize(
    ("reached", "eta", "kept"),
    [(1, 3, 1), (2, 3, 1), (3, 3, 1), (5, 3, 1), (6, 3, 2), (8, 3, 2), (9, 3, 3), (4, 2, 2),
     (27, 3, 9)],
)  # fmt: skip
def test_promotion_count(reached, eta, kept) -> None:
    assert promotion_count(reached, eta) == kept


# Trials reach rung 1 one after another (eta = 3): (value at report 1, continues?)
#   t0 0.50 alone                     -> top max(1, 1//3)=1: continues
#   t1 0.40, 1 of 2 better            -> k=1: stops
#   t2 0.60, best of 3                -> k=1: continues
#   t3 0.55, 0.60 better              -> k=1 (4//3): stops
#   t4 0.52, two better               -> k=1: stops
#   t5 0.58, only 0.60 better         -> k=2 (6//3): continues
#   t6 0.56, 0.60 and 0.58 better     -> k=2: stops
#   t7 0.59, 0.60 better              -> k=2: continues
#   t8 0.65, best                     -> k=3: continues
ARRIVALS = [0.50, 0.40, 0.60, 0.55, 0.52, 0.58, 0.56, 0.59, 0.65]
CONTINUES = [True, False, True, False, False, True, False, True, True]


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_asha_promotion_at_rung_one(goal) -> None:
    policy = ASHAPolicy(1, 27, 3)
    history: dict[str, list[float]] = {}
    got = []
    for i, value in enumerate(ARRIVALS):
        trial = f"trial_{i:04d}"
        history[trial] = [value if goal is MAX else 1.0 - value]
        got.append(not policy.should_stop(trial, history, goal))
    assert got == CONTINUES


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_asha_rung_three_compares_values_at_report_three(goal) -> None:
    def g(values):
        return values if goal is MAX else [1.0 - v for v in values]

    policy = ASHAPolicy(1, 27, 3)
    history = {
        # a is at report 9 now; at report 3 it had 0.60 (its later 0.99 must not be used)
        "a": g([0.5, 0.55, 0.60, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99]),
        "b": g([0.4, 0.50, 0.62]),
        "short": g([0.9, 0.9]),  # has not reached rung 3: not counted
        "t": g([0.6, 0.61, 0.61]),
    }
    # rung 3: a 0.60, b 0.62, t 0.61 -> k = max(1, 3 // 3) = 1, b is better: t stops
    assert policy.should_stop("t", history, goal)
    # between rungs (reports 2, 4..8) nothing stops, however bad
    for n in (2, 4, 5, 6, 7, 8):
        assert not policy.should_stop("t", {**history, "t": g([0.0] * n)}, goal)
    # with 6 trials at rung 3, k = max(1, 6 // 3) = 2 and t (2nd best) continues
    more = {f"x{i}": g([0.1, 0.1, 0.1]) for i in range(3)}
    assert not policy.should_stop("t", {**history, **more}, goal)
    assert "cut-off = the 2nd best of 6 trials at report 3" in (
        policy.decide("t", {**history, **more}, goal).reason
    )


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_ties_at_a_rung_continue(goal) -> None:
    history = {"a": [0.5], "b": [0.5], "t": [0.5]}
    assert not ASHAPolicy().should_stop("t", history, goal)


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_nan_at_a_rung_stops_and_ranks_last(goal) -> None:
    policy = ASHAPolicy()
    assert policy.should_stop("t", {"a": [0.5], "t": [math.nan]}, goal)
    assert not policy.should_stop("t", {"t": [0.5, math.nan]}, goal)  # report 2 is no rung
    # a NaN at the rung is never better: t is the best of 2
    assert not policy.should_stop("t", {"a": [math.nan], "t": [0.1]}, goal)


def test_max_resource_is_not_a_rung() -> None:
    policy = ASHAPolicy(1, 9)
    history = {"a": [0.9] * 9, "t": [0.1] * 9}
    assert not policy.should_stop("t", history, MAX)
    assert ASHAPolicy(1, 10).should_stop("t", history, MAX)


def test_trials_shorter_than_a_rung_are_never_judged_there() -> None:
    policy = ASHAPolicy(3, None, 3)
    history = {"a": [0.9] * 5, "t": [0.1, 0.1]}
    assert not policy.should_stop("t", history, MAX)
    assert policy.should_stop("t", {**history, "t": [0.1] * 3}, MAX)


# -- Hyperband bracket assignment --------------------------------------------------------------
@pytest.mark.parametrize(
    ("brackets", "eta", "weights", "sequence"),
    [
        (1, 3, [1], (0,)),
        (2, 3, [3, 2], (0, 1, 0, 1, 0)),
        (2, 2, [2, 2], (0, 1, 0, 1)),
        (3, 3, [9, 5, 3], (0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 0, 0, 2, 1, 0)),
        (4, 3, [27, 12, 6, 4], None),
    ],
)
def test_bracket_weights_and_sequence(brackets, eta, weights, sequence) -> None:
    assert bracket_weights(brackets, eta) == weights
    got = bracket_sequence(brackets, eta)
    assert [got.count(b) for b in range(brackets)] == weights
    if sequence is not None:
        assert got == sequence


def test_bracket_of_a_trial_does_not_read_the_id() -> None:
    policy = HyperbandPolicy(1, 27, 3, 3)
    # no digits are parsed out of ids: an id's bracket is a function of the whole id
    assert policy.bracket_of("trial_0007") == policy.bracket_of("trial_0007")
    spellings = [policy.bracket_of(name) for name in ("7", "run-7", "trial_0007", "x7")]
    assert len(set(spellings)) > 1 or spellings == [spellings[0]] * 4  # any is fine, but stable
    assert ASHAPolicy().bracket_of("anything") == 0
    assert policy.bracket_of(3) == policy.bracket_of("3")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["trial_", "run-", "", "sweep/a:"])
def test_brackets_get_trials_in_proportion_to_their_weights(prefix) -> None:
    policy = HyperbandPolicy(1, 27, 3, 3)  # weights 9, 5, 3 of 17
    counts = [0, 0, 0]
    for i in range(3400):
        counts[policy.bracket_of(f"{prefix}{i}")] += 1
    for got, weight in zip(counts, bracket_weights(3, 3), strict=True):
        assert abs(got / 3400 - weight / 17) < 0.03


def _ids_in(policy: HyperbandPolicy, bracket: int, count: int) -> list[str]:
    out = [f"t{i}" for i in range(1000) if policy.bracket_of(f"t{i}") == bracket]
    return out[:count]


def test_brackets_have_their_own_rungs_and_peers() -> None:
    policy = HyperbandPolicy(1, 27, 3, 3)
    a, c = _ids_in(policy, 0, 2)
    (b,) = _ids_in(policy, 1, 1)
    d, e = _ids_in(policy, 2, 2)
    history = {a: [0.9] * 3, c: [0.8] * 3, b: [0.1]}
    # bracket 1 starts at 3: report 1 is not a rung for b
    assert not policy.should_stop(b, history, MAX)
    # at report 3 it is alone in bracket 1, so it continues although it is the worst overall
    history[b] = [0.1] * 3
    assert not policy.should_stop(b, history, MAX)
    assert "bracket 1" in policy.decide(b, history, MAX).reason
    # c is compared with a only: 1 of 2 better, k = 1 -> stops
    assert policy.should_stop(c, history, MAX)
    # d is in bracket 2 (first rung 9): not judged at 1 or 3
    history[d] = [0.0] * 3
    assert not policy.should_stop(d, history, MAX)
    history[e] = [0.5] * 9  # also bracket 2
    history[d] = [0.0] * 9
    assert policy.should_stop(d, history, MIN) is False
    assert policy.should_stop(d, history, MAX)


# -- "auto" brackets -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "count", "starts", "rungs"),
    [
        # floor(log_eta(max / min)) + 1 brackets; bracket b starts at min * eta**b
        (HyperbandPolicy(1, 27), 4, [1, 3, 9, 27], [[1, 3, 9], [3, 9], [9], []]),
        (HyperbandPolicy(1, 26), 3, [1, 3, 9], [[1, 3, 9], [3, 9], [9]]),
        (HyperbandPolicy(1, 20), 3, [1, 3, 9], [[1, 3, 9], [3, 9], [9]]),
        (HyperbandPolicy(1, 50), 4, [1, 3, 9, 27], [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27]]),
        (HyperbandPolicy(2, 15), 2, [2, 6], [[2, 6], [6]]),
        (HyperbandPolicy(1, 16, 2), 5, [1, 2, 4, 8, 16], [[1, 2, 4, 8], [2, 4, 8], [4, 8], [8], []]),
        (HyperbandPolicy(5, 5), 1, [5], [[]]),
        (HyperbandPolicy(1, 2), 1, [1], [[1]]),
        (HyperbandPolicy(1, 27, 3, 1), 1, [1], [[1, 3, 9]]),
        (ASHAPolicy(1, 27), 1, [1], [[1, 3, 9]]),
        (HyperbandPolicy(1, 27, 3, 2), 2, [1, 3], [[1, 3, 9], [3, 9]]),
    ],
)  # fmt: skip
def test_bracket_layout(policy, count, starts, rungs) -> None:
    assert policy.bracket_count == count
    assert [policy.bracket_min_resource(b) for b in range(count)] == starts
    assert [policy.rungs(b) for b in range(count)] == rungs
    assert policy.evaluation_points(100) == sorted({r for rs in rungs for r in rs})


def test_auto_is_the_default_and_exact() -> None:
    assert HyperbandPolicy().brackets == "auto"
    assert HyperbandPolicy(1, 27) == HyperbandPolicy(1, 27, 3, 4)
    assert HyperbandPolicy(1, 27, brackets="AUTO") == HyperbandPolicy(1, 27)
    assert [auto_brackets(1, m, 3) for m in (1, 2, 3, 8, 9, 26, 27, 80, 81)] == [
        1, 1, 2, 2, 3, 3, 4, 4, 5,
    ]  # fmt: skip
    # without max_resource no bracket count exists: one bracket until the sweep fills it in
    assert HyperbandPolicy().bracket_count == 1
    filled = HyperbandPolicy(2).with_max_resource(54)
    assert filled == HyperbandPolicy(2, 54, 3, 4) and filled.brackets == "auto"
    assert HyperbandPolicy(1, 9).with_max_resource(50) == HyperbandPolicy(1, 9)
    assert ASHAPolicy(2).with_max_resource(54) == ASHAPolicy(2, 54)


def test_asha_is_hyperband_with_one_bracket() -> None:
    assert ASHAPolicy(1, 20) == HyperbandPolicy(1, 20, 3, 1)
    assert hash(ASHAPolicy(1, 20)) == hash(HyperbandPolicy(1, 20, 3, 1))
    assert isinstance(ASHAPolicy(), HyperbandPolicy)
    assert ASHAPolicy(1, 20).to_dict() == {
        "type": "asha", "min_resource": 1, "max_resource": 20, "reduction_factor": 3,
    }  # fmt: skip
    assert policy_from_dict({"type": "asha", "max_resource": 20}) == ASHAPolicy(1, 20)
    assert policy_from_dict("hyperband") == HyperbandPolicy()
    assert policy_from_dict({"type": "hyperband", "brackets": "auto"}).brackets == "auto"


# the same arrivals in every bracket, both goals: each bracket ranks only its own trials, at
# its own rungs (report counts), values at that report count
@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    ("bracket", "rung", "not_rungs"), [(0, 1, [2]), (1, 3, [1, 2, 4]), (2, 9, [1, 3, 8])]
)
def test_rung_semantics_per_bracket(goal, bracket, rung, not_rungs) -> None:
    policy = HyperbandPolicy(1, 27)  # 4 brackets
    ids = _ids_in(policy, bracket, len(ARRIVALS))
    others = _ids_in(policy, (bracket + 1) % 3, 5)

    def g(v: float) -> float:
        return v if goal is MAX else 1.0 - v

    history: dict[str, list[float]] = {o: [g(0.99)] * rung for o in others}  # other bracket
    got = []
    for trial, value in zip(ids, ARRIVALS, strict=True):
        for n in not_rungs:
            assert not policy.should_stop(trial, {**history, trial: [g(0.0)] * n}, goal)
        history[trial] = [g(0.0)] * (rung - 1) + [g(value)]
        got.append(not policy.should_stop(trial, history, goal))
    assert got == CONTINUES


# -- shared rungs --------------------------------------------------------------------------------
SHARED = HyperbandPolicy(1, 27, rung_system="shared")  # 4 brackets, one rung system


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    ("bracket", "rung", "not_rungs"), [(0, 1, [2]), (1, 3, [1, 2, 4]), (2, 9, [1, 3, 8])]
)
def test_shared_rungs_rank_against_every_bracket(goal, bracket, rung, not_rungs) -> None:
    """The same arrivals as the per-bracket table, but five better trials of another bracket
    already sit at the rung: with shared rungs they count (m grows by 5, and each is better),
    while each bracket still judges its trials only at its own rungs."""
    ids = _ids_in(SHARED, bracket, len(ARRIVALS))
    others = _ids_in(SHARED, (bracket + 1) % 3, 5)

    def g(v: float) -> float:
        return v if goal is MAX else 1.0 - v

    history: dict[str, list[float]] = {o: [g(0.99)] * rung for o in others}
    got = []
    for i, (trial, value) in enumerate(zip(ids, ARRIVALS, strict=True)):
        for n in not_rungs:
            assert not SHARED.should_stop(trial, {**history, trial: [g(0.0)] * n}, goal)
        history[trial] = [g(0.0)] * (rung - 1) + [g(value)]
        decision = SHARED.decide(trial, history, goal)
        got.append(not decision.stop)
        m = 5 + i + 1  # every trial at the rung, whatever its bracket
        assert f"{m} trials at report {rung}" in decision.reason
        assert "rungs shared by all brackets" in decision.reason
        # the per-bracket policy ranks the same trial among its own bracket only
        assert f"{i + 1} trial" in HyperbandPolicy(1, 27).decide(trial, history, goal).reason
    # five better trials above: k = max(1, m // 3) only exceeds 5 once m >= 18, so all stop
    assert got == [False] * len(ARRIVALS)


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_shared_rungs_promote_across_brackets(goal) -> None:
    policy = HyperbandPolicy(1, 27, rung_system="shared", promotion=True)
    a, b = _ids_in(policy, 0, 2)
    (c,) = _ids_in(policy, 1, 1)
    sign = 1 if goal is MAX else -1
    history = {a: [sign * 0.9], b: [sign * 0.5], c: [sign * 0.1] * 3}
    # three trials reached report 1 (c of bracket 1 too): a is the top 3 // 3 = 1
    assert policy.promote([a, b], history, goal).trial_id == a
    # per bracket, only a and b reached report 1 of bracket 0: nobody yet
    per_bracket = HyperbandPolicy(1, 27, promotion=True)
    assert per_bracket.promote([a, b], history, goal) is None


def test_the_rung_system_option() -> None:
    assert HyperbandPolicy(1, 27).rung_system is RungSystem.PER_BRACKET
    shared = HyperbandPolicy(1, 27, rung_system="Shared")
    assert shared.rung_system is RungSystem.SHARED and shared != HyperbandPolicy(1, 27)
    assert shared.to_dict()["rung_system"] == "shared"
    assert "rung_system" not in HyperbandPolicy(1, 27).to_dict()  # the default: Azure's shape
    assert policy_from_dict(shared.to_dict()) == shared
    assert (
        policy_from_dict({"type": "hyperband", "rung_system": "shared"}).with_max_resource(27)
        == shared
    )
    assert eval(repr(shared)) == shared  # the repr is a constructor call
    # one bracket: both systems are the same rule, so the same policy
    assert HyperbandPolicy(1, 27, 3, 1, rung_system="shared") == ASHAPolicy(1, 27)
    with pytest.raises(ValueError, match="rung_system must be one of 'per_bracket', 'shared'"):
        HyperbandPolicy(rung_system="global")
    with pytest.raises(ValueError, match="unknown key 'rung_system' for early_termination type"):
        policy_from_dict({"type": "asha", "rung_system": "shared"})
    # the YAML and CLI forms
    from_yaml = policy_from_dict(yaml.safe_load("type: hyperband\nrung_system: shared"))
    from_cli = policy_from_dict(parse_policy("hyperband:rung_system=shared"))
    assert from_yaml == from_cli == HyperbandPolicy(rung_system=RungSystem.SHARED)
