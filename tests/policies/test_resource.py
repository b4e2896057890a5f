"""Hyperband/ASHA with rungs in a chosen resource (``policies/resource.py``): the schedule
fraction (``Report.progress``) and seconds (``Report.cost``), both goals; epochs unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl_vision.policies import (
    ASHAPolicy,
    HyperbandPolicy,
    PolicyConfigError,
    PolicyContext,
    PrimaryMetricGoal,
    Resource,
    ResourceError,
    RungSystem,
    parse_policy,
    policy_from_dict,
)
from automl_vision.policies.resource import first_reaching, resource_at, unit_rungs
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Report

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
GOALS = [MAX, MIN]
FRACTION, SECONDS, EPOCHS = Resource.FRACTION, Resource.SECONDS, Resource.EPOCHS


def signed(goal: PrimaryMetricGoal, value: float) -> float:
    """The value written for maximize, mirrored for minimize (same decisions both ways)."""
    return value if goal is MAX else -value


def context(
    trials: dict[str, list[tuple[float, float]]],
    trial_id: str,
    goal: PrimaryMetricGoal,
    unit: Resource,
) -> PolicyContext:
    """``trials``: id -> [(value as if maximizing, amount of ``unit``)] in report order."""
    key = PROGRESS_KEY if unit is FRACTION else COST_KEY
    history = {t: [signed(goal, v) for v, _ in points] for t, points in trials.items()}
    reports = {
        t: [Report(i + 1, signed(goal, v), {key: a}) for i, (v, a) in enumerate(points)]
        for t, points in trials.items()
    }
    return PolicyContext(history=history, goal=goal, trial_id=trial_id, reports=reports)


# -- rungs in the unit -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "bracket", "rungs"),
    [
        (ASHAPolicy(1 / 9, resource="fraction"), 0, [1 / 9, 1 / 3]),  # max_resource 1.0
        (ASHAPolicy(0.25, 1.0, 2, resource="fraction"), 0, [0.25, 0.5]),
        (ASHAPolicy(10, 270, resource="seconds"), 0, [10, 30, 90]),  # 270 is the budget
        (ASHAPolicy(10, 271, resource="seconds"), 0, [10, 30, 90, 270]),
        (ASHAPolicy(2.5, 100, 4, resource="seconds"), 0, [2.5, 10, 40]),
        (HyperbandPolicy(10, 270, resource="seconds"), 1, [30, 90]),
        (HyperbandPolicy(10, 270, resource="seconds"), 3, []),  # starts at the budget
        (HyperbandPolicy(1 / 27, resource="fraction"), 2, [1 / 3]),
    ],
)
def test_rungs_in_the_unit(policy, bracket, rungs) -> None:
    assert policy.rungs(bracket) == pytest.approx(rungs)


@pytest.mark.parametrize(
    ("policy", "brackets"),
    [
        (HyperbandPolicy(10, 270, resource="seconds"), 4),  # floor(log3(27)) + 1
        (HyperbandPolicy(1 / 9, resource="fraction"), 3),  # (1/9) * 9 reaches 1.0
        (HyperbandPolicy(0.1, resource="fraction"), 3),
        (HyperbandPolicy(10, 270, 3, 2, resource="seconds"), 2),
    ],
)
def test_bracket_counts_in_the_unit(policy, brackets) -> None:
    assert policy.bracket_count == brackets


# -- judged at the first report reaching a rung ------------------------------------------------
# ASHA(10 s, 270 s): rungs at 10, 30, 90 seconds; the trial judged is "x"
SECONDS_ASHA = ASHAPolicy(10, 270, resource="seconds")
OTHERS = {"a": [(0.9, 12.0)], "b": [(0.8, 11.0)], "c": [(0.7, 10.0)]}
CASES = [
    # (trials, stop, pause-free reason fragment)
    ({**OTHERS, "x": [(0.1, 9.0)]}, False, "reaches no new rung"),  # not there yet
    ({**OTHERS, "x": [(0.1, 9.0), (0.5, 10.5)]}, True, "stopped at rung 10 s"),  # 4 there, top 1
    ({**OTHERS, "x": [(0.1, 9.0), (0.95, 10.5)]}, False, "rung 10 s"),  # the best goes on
    # its second report past 10 s: judged once, at the first report there, never again
    ({**OTHERS, "x": [(0.95, 10.5), (0.1, 20.0)]}, False, "reaches no new rung"),
    # a (1 other) ranked at its FIRST report reaching 10 s (0.2), not its latest (0.99)
    (
        {"a": [(0.1, 9.0), (0.2, 12.0), (0.99, 40.0)], "x": [(0.5, 11.0)]},
        False,
        "not worse than 0.5",
    ),
    ({"a": [(0.1, 9.0), (0.6, 12.0), (0.01, 40.0)], "x": [(0.5, 11.0)]}, True, "worse than 0.6"),
    # one report passing two rungs (10 s and 30 s) is judged at both, the lower first
    ({**OTHERS, "x": [(0.5, 35.0)]}, True, "stopped at rung 10 s"),
    ({"a": [(0.4, 12.0), (0.9, 31.0)], "x": [(0.5, 35.0)]}, True, "stopped at rung 30 s"),
    ({**OTHERS, "x": [(math.nan, 12.0)]}, True, "NaN"),
    ({**OTHERS, "x": [(0.1, 9.0), (0.1, 270.0)]}, False, "whole budget"),  # nothing to save
]


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize(("trials", "stop", "fragment"), CASES)
def test_judged_at_the_first_report_reaching_a_rung_in_seconds(
    goal, trials, stop, fragment
) -> None:
    decision = SECONDS_ASHA.judge(context(trials, "x", goal, SECONDS))
    assert decision.stop is stop, decision.reason
    assert fragment.lstrip("-") in decision.reason.replace("-", "")
    assert not decision.pause


def _linear(length: int, value_at) -> list[tuple[float, float]]:
    """A trial with ``length`` reports, progress n/length, value ``value_at(n)``."""
    return [(value_at(n), n / length) for n in range(1, length + 1)]


# a 100-report trial (progress n/100) and a 20-report one (n/20) reach 1/9 at reports 12 and 3
LONG = _linear(100, lambda n: 0.5 + n / 200)  # 0.56 at report 12 (0.515 at report 3)
FRACTION_ASHA = ASHAPolicy(1 / 9, resource="fraction")


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize(
    ("short_value", "reports", "stop"),
    [
        (0.54, 2, False),  # progress 0.1: before the rung, not judged
        (0.54, 3, True),  # worse than LONG at ITS report 12 (0.56), though better than 0.515
        (0.57, 3, False),  # better than 0.56
        (0.30, 4, False),  # report 4 is past the rung: judged once only
    ],
)
def test_schedules_of_different_lengths_are_compared_at_the_same_fraction(
    goal, short_value, reports, stop
) -> None:
    short = _linear(20, lambda n: short_value)[:reports]
    decision = FRACTION_ASHA.judge(context({"long": LONG, "short": short}, "short", goal, FRACTION))
    assert decision.stop is stop, decision.reason
    if reports == 3:
        assert "fraction 0.1111" in decision.reason and "report 3" in decision.reason


@pytest.mark.parametrize("goal", GOALS)
def test_the_long_trial_is_judged_at_its_own_report_reaching_the_rung(goal) -> None:
    short = _linear(20, lambda n: 0.9)  # 0.9 at its report 3
    for n, stop in [(11, False), (12, True), (13, False)]:
        trials = {"short": short, "long": LONG[:n]}
        decision = FRACTION_ASHA.judge(context(trials, "long", goal, FRACTION))
        assert decision.stop is stop, (n, decision.reason)


@pytest.mark.parametrize("goal", GOALS)
def test_shared_rungs_rank_against_every_bracket_in_the_unit(goal) -> None:
    policy = HyperbandPolicy(10, 270, resource="seconds", rung_system="shared")
    ids = [f"t{i}" for i in range(60)]
    at_30 = [t for t in ids if policy.bracket_of(t) == 1][:1]
    others = [t for t in ids if policy.bracket_of(t) == 0][:3]
    trials = {t: [(0.9, 31.0)] for t in others}  # bracket 0, all better, at 30 s
    trials[at_30[0]] = [(0.5, 32.0)]
    decision = policy.judge(context(trials, at_30[0], goal, SECONDS))
    assert decision.stop, decision.reason  # per bracket it would be alone there and continue
    alone = HyperbandPolicy(10, 270, resource="seconds")
    assert not alone.judge(context(trials, at_30[0], goal, SECONDS)).stop


# -- promotion in the unit ---------------------------------------------------------------------
@pytest.mark.parametrize("goal", GOALS)
def test_promotion_pauses_and_promotes_in_the_unit(goal) -> None:
    policy = ASHAPolicy(10, 270, resource="seconds", promotion=True)
    trials = {"a": [(0.9, 11.0)], "b": [(0.5, 12.0)], "c": [(0.7, 10.5)]}
    decision = policy.judge(context(trials, "c", goal, SECONDS))
    assert decision.stop and decision.pause and "rung 10 s" in decision.reason
    promotion = policy.judge_paused({"a", "b", "c"}, context(trials, "", goal, SECONDS))
    assert promotion is not None and promotion.trial_id == "a"  # top 3 // 3 = 1
    trials["a"] = [(0.9, 11.0), (0.8, 31.0)]  # promoted, now paused at 30 s (alone there)
    assert policy.judge_paused({"b", "c"}, context(trials, "", goal, SECONDS)) is None
    closing = policy.judge_paused({"a", "b"}, context(trials, "", goal, SECONDS), closing=True)
    assert closing is not None and closing.trial_id == "a"  # the furthest rung goes first


# -- what reports must carry -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "metrics", "fragment"),
    [
        (SECONDS_ASHA, {PROGRESS_KEY: 0.5}, "resource='seconds' needs reports with cost"),
        (SECONDS_ASHA, {}, "report(step, value, cost=...)"),
        (FRACTION_ASHA, {COST_KEY: 3.0}, "resource='fraction' needs reports with progress"),
        (FRACTION_ASHA, {}, "report(step, value, progress=...)"),
    ],
)
def test_reports_without_the_field_the_unit_needs(policy, metrics, fragment) -> None:
    ctx = PolicyContext(
        history={"x": [0.5]}, goal=MAX, trial_id="x", reports={"x": [Report(1, 0.5, metrics)]}
    )
    with pytest.raises(ResourceError, match="trial 'x'") as err:
        policy.judge(ctx)
    assert fragment in str(err.value)


def test_a_context_without_reports_names_what_is_missing() -> None:
    ctx = PolicyContext(history={"x": [0.5]}, goal=MAX, trial_id="x")
    with pytest.raises(ResourceError, match=r"PolicyContext\.reports"):
        SECONDS_ASHA.judge(ctx)


@pytest.mark.parametrize(
    ("report", "n", "unit", "amount"),
    [
        (None, 4, EPOCHS, 4.0),
        (Report(4, 0.1, {PROGRESS_KEY: 0.25}), 4, FRACTION, 0.25),
        (Report(4, 0.1, {COST_KEY: 12.5}), 4, SECONDS, 12.5),
    ],
)
def test_resource_at(report, n, unit, amount) -> None:
    assert resource_at(report, n, unit) == amount


def test_reaching_allows_float_rounding() -> None:
    assert first_reaching([0.1, 0.3333333333333333, 0.5], 1 / 9 * 3) == 1
    assert first_reaching([0.1], 0.2) is None
    assert unit_rungs(1 / 9, 3, 1.0) == pytest.approx([1 / 9, 1 / 3])


# -- configuration -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "unit"),
    [("epochs", EPOCHS), ("Fraction", FRACTION), ("SECONDS", SECONDS), ("progress", FRACTION),
     ("cost", SECONDS), (" epoch ", EPOCHS)],
)  # fmt: skip
def test_units_and_aliases(text, unit) -> None:
    assert Resource(text) is unit


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ASHAPolicy(resource="minutes"),
         "resource must be one of 'epochs', 'fraction', 'seconds', got 'minutes'"),
        (lambda: ASHAPolicy(0, resource="fraction"), "min_resource must be an integer >= 1"),
        (lambda: ASHAPolicy(1.5, resource="fraction"), "min_resource must be in (0, 1]"),
        (lambda: ASHAPolicy(0.1, 2.0, resource="fraction"), "max_resource must be in (0, 1]"),
        (lambda: ASHAPolicy(-0.1, resource="fraction"), "min_resource must be > 0"),
        (lambda: ASHAPolicy(10, resource="seconds"),
         "resource='seconds' needs max_resource: the most seconds one trial may train"),
        (lambda: ASHAPolicy(0.5, 10), "min_resource must be an integer >= 1, got 0.5"),
        (lambda: ASHAPolicy(1, 9.5), "max_resource must be an integer >= 1, got 9.5"),
        (lambda: ASHAPolicy(0.1, resource="fraction", schedule_aware=True),
         "schedule_aware=True needs resource='epochs'"),
        (lambda: ASHAPolicy(100, 10.0, resource="seconds"), "min_resource must be <= max_resource"),
        (lambda: HyperbandPolicy(10, 100, 3, 4, resource="seconds"), "brackets=4 is too many"),
    ],
)  # fmt: skip
def test_validation(build, message) -> None:
    with pytest.raises(PolicyConfigError) as err:
        build()
    assert message in str(err.value)


def test_fraction_budget_is_the_whole_schedule() -> None:
    assert ASHAPolicy(0.1, resource="fraction").max_resource == 1.0
    assert ASHAPolicy(0.1, 0.5, resource="fraction").max_resource == 0.5
    assert ASHAPolicy(0.1, resource="fraction").with_max_resource(20).max_resource == 1.0
    assert ASHAPolicy(1).with_max_resource(20).max_resource == 20  # epochs as before


@pytest.mark.parametrize(
    "policy",
    [
        ASHAPolicy(1 / 9, resource="fraction"),
        ASHAPolicy(10, 270, resource="seconds", promotion=True),
        HyperbandPolicy(0.05, 0.9, 2, resource="fraction", rung_system="shared"),
        HyperbandPolicy(30, 3000.5, 3, 2, resource="seconds"),
    ],
    ids=repr,
)
def test_dict_and_repr_round_trip(policy) -> None:
    data = policy.to_dict()
    assert data["resource"] == policy.resource.value
    assert policy_from_dict(data) == policy
    assert (
        eval(repr(policy), {"ASHAPolicy": ASHAPolicy, "HyperbandPolicy": HyperbandPolicy}) == policy
    )


def test_epochs_stays_out_of_the_dict_and_units_differ() -> None:
    assert "resource" not in HyperbandPolicy(1, 27).to_dict()
    assert HyperbandPolicy(1, 27, resource="epochs") == HyperbandPolicy(1, 27)
    assert HyperbandPolicy(1, 27, resource="seconds") != HyperbandPolicy(1, 27)
    policy = policy_from_dict(parse_policy("asha:resource=fraction,min_resource=0.1"))
    assert policy == ASHAPolicy(0.1, 1.0, resource="fraction")


# -- epochs: decisions as before ---------------------------------------------------------------
def _random_sweep(rng: np.random.Generator) -> dict[str, list[float]]:
    trials = {}
    for i in range(int(rng.integers(2, 12))):
        values = rng.normal(size=int(rng.integers(1, 30))).round(1).tolist()  # ties happen
        if rng.random() < 0.1:
            values[-1] = math.nan
        trials[f"trial_{i}"] = values
    return trials


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"brackets": 1}, {"rung_system": RungSystem.SHARED}, {"promotion": True}],
    ids=["hyperband", "asha", "shared", "promotion"],
)
def test_epochs_decide_as_before_and_as_seconds_counting_reports(seed, goal, kwargs) -> None:
    """The default, ``resource='epochs'`` spelled out, seconds with cost = the report count and
    fraction with progress = n / 27 make the same decisions and promotions on random sweeps."""
    rng = np.random.default_rng(seed)
    default = HyperbandPolicy(1, 27, **kwargs)
    explicit = HyperbandPolicy(1, 27, resource=EPOCHS, **kwargs)
    seconds = HyperbandPolicy(1, 27, resource=SECONDS, **kwargs)
    fraction = HyperbandPolicy(1 / 27, 1.0, resource=FRACTION, **kwargs)  # progress = n / 27
    history = _random_sweep(rng)
    reports = {
        t: [
            Report(n + 1, v, {COST_KEY: float(n + 1), PROGRESS_KEY: (n + 1) / 27})
            for n, v in enumerate(values)
        ]
        for t, values in history.items()
    }
    base = PolicyContext(history=history, goal=goal, reports=reports)
    for trial_id in history:
        ctx = base.about(trial_id)
        expected = default.judge(ctx)
        assert explicit.judge(ctx) == expected
        for other in (seconds, fraction):
            got = other.judge(ctx)
            assert (got.stop, got.pause) == (expected.stop, expected.pause), (trial_id, got)
    if kwargs.get("promotion"):
        # paused where a trial pauses: at a rung of its bracket
        paused = {
            t
            for t, values in history.items()
            if default._is_rung(len(values), default.bracket_of(t)) and rng.random() < 0.7
        }
        for closing in (False, True):
            expected = default.judge_paused(paused, base, closing=closing)
            assert explicit.judge_paused(paused, base, closing=closing) == expected
            for other in (seconds, fraction):
                got = other.judge_paused(paused, base, closing=closing)
                assert (got and got.trial_id) == (expected and expected.trial_id)
