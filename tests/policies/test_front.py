"""``FrontAwarePolicy``: the wrapped policy's stops kept only for trials that another trial
dominates at the same report (its value there and its known objectives), table-driven over both
goals of the trained metric and of the known objectives."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from automl_vision.pareto import Objective
from automl_vision.policies import (
    BanditPolicy,
    Decision,
    EarlyTerminationPolicy,
    FrontAwarePolicy,
    HyperbandPolicy,
    PolicyContext,
    PrimaryMetricGoal,
    Promotion,
)

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
NAN = math.nan


class Always(EarlyTerminationPolicy):
    """Answers every report with the same decision (the wrapped policy of the table)."""

    def __init__(self, stop: bool = True, pause: bool = False) -> None:
        self.stop, self.pause = stop, pause

    def rule(self, context: PolicyContext) -> Decision:
        verdict = "stopped" if self.stop else "continues"
        return Decision(self.stop, f"{verdict} at report {context.n}: inner", pause=self.pause)


ACC_LAT = [Objective("accuracy", MAX), Objective("latency_ms", MIN)]
LOSS_PARAMS = [Objective("loss", MIN), Objective("params_m", MIN)]
ACC_THROUGHPUT = [Objective("accuracy", MAX), Objective("throughput_ips", MAX)]


@dataclass(frozen=True)
class Case:
    name: str
    objectives: list[Objective]
    history: dict[str, list[float]]
    known: dict[str, dict[str, float]]
    stop: bool
    dominator: str | None = None  # named in the reason of a stop by the front
    inner_stop: bool = True
    unchanged: bool = False  # the inner decision comes back as it is

    @property
    def goal(self) -> PrimaryMetricGoal:
        return self.objectives[0].goal


def lat(**trials: float) -> dict[str, dict[str, float]]:
    return {t: {"latency_ms": v} for t, v in trials.items()}


CASES = [
    Case("slower and less accurate: stopped, the dominating trial named", ACC_LAT,
         {"a": [0.9, 0.95], "j": [0.5]}, lat(a=10.0, j=20.0), True, "a"),
    Case("faster and less accurate: kept (it may end on the front)", ACC_LAT,
         {"a": [0.9], "j": [0.5]}, lat(a=10.0, j=2.0), False),
    Case("equally accurate and slower: stopped (equal in one, worse in the other)", ACC_LAT,
         {"a": [0.7], "j": [0.7]}, lat(a=5.0, j=9.0), True, "a"),
    Case("identical in both: kept (duplicates do not dominate)", ACC_LAT,
         {"a": [0.7], "j": [0.7]}, lat(a=5.0, j=5.0), False),
    Case("of several dominating trials the most accurate is named", ACC_LAT,
         {"a": [0.8], "b": [0.9], "c": [0.85], "j": [0.5]}, lat(a=1.0, b=8.0, c=3.0, j=9.0),
         True, "b"),
    Case("values compared at the judged report, not at the other's latest", ACC_LAT,
         {"a": [0.3, 0.99], "j": [0.5]}, lat(a=1.0, j=9.0), False),
    Case("a trial behind in reports counts with its best so far", ACC_LAT,
         {"a": [0.9], "j": [0.4, 0.5]}, lat(a=1.0, j=9.0), True, "a"),
    Case("another trial's best by the report, not its value there", ACC_LAT,
         {"a": [0.6, 0.55], "j": [0.4, 0.58]}, lat(a=1.0, j=9.0), True, "a"),
    Case("another trial's NaN reports are left out of its best", ACC_LAT,
         {"a": [0.6, NAN], "j": [0.4, 0.58]}, lat(a=1.0, j=9.0), True, "a"),
    Case("a NaN at the report never dominates", ACC_LAT,
         {"a": [NAN], "j": [0.5]}, lat(a=1.0, j=9.0), False),
    Case("a trial without known objectives never dominates", ACC_LAT,
         {"a": [0.9], "j": [0.5]}, lat(j=9.0), False),
    Case("a judged NaN (diverged): the inner stop as it is", ACC_LAT,
         {"a": [0.9], "j": [NAN]}, lat(a=20.0, j=1.0), True, unchanged=True),
    Case("judged objectives unknown: the inner stop as it is", ACC_LAT,
         {"a": [0.9], "j": [0.1]}, lat(a=20.0), True, unchanged=True),
    Case("judged objective NaN: the inner stop as it is", ACC_LAT,
         {"a": [0.9], "j": [0.1]}, lat(a=20.0, j=NAN), True, unchanged=True),
    Case("inner continues: continues, dominated or not", ACC_LAT,
         {"a": [0.9], "j": [0.5]}, lat(a=1.0, j=9.0), False, inner_stop=False, unchanged=True),
    Case("alone at the report: kept", ACC_LAT, {"j": [0.5]}, lat(j=9.0), False),
    # the trained metric minimized (a loss), the known one minimized (size)
    Case("min/min: higher loss and bigger: stopped", LOSS_PARAMS,
         {"a": [0.4], "j": [0.9]}, {"a": {"params_m": 1.0}, "j": {"params_m": 5.0}}, True, "a"),
    Case("min/min: higher loss but smaller: kept", LOSS_PARAMS,
         {"a": [0.4], "j": [0.9]}, {"a": {"params_m": 9.0}, "j": {"params_m": 5.0}}, False),
    # the known objective maximized (throughput)
    Case("max/max: less accurate, lower throughput: stopped", ACC_THROUGHPUT,
         {"a": [0.8], "j": [0.6]}, {"a": {"throughput_ips": 900.0}, "j": {"throughput_ips": 100.0}},
         True, "a"),
    Case("max/max: less accurate, higher throughput: kept", ACC_THROUGHPUT,
         {"a": [0.8], "j": [0.6]}, {"a": {"throughput_ips": 90.0}, "j": {"throughput_ips": 100.0}},
         False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_front_aware_decisions(case: Case) -> None:
    inner = Always(stop=case.inner_stop)
    policy = FrontAwarePolicy(inner, case.objectives)
    context = PolicyContext(history=case.history, goal=case.goal, trial_id="j", known=case.known)
    decision = policy.judge(context)
    own = inner.judge(context)
    assert decision.stop is case.stop
    if case.unchanged:
        assert decision == own
    elif case.stop:
        assert decision.reason.startswith(own.reason)
        assert f"dominated by {case.dominator!r} (by report {context.n}: " in decision.reason
    else:
        assert decision.reason.startswith(f"report {context.n}: kept, no trial dominates it by")
        assert f"{case.objectives[0].name} alone would stop it: {own.reason}" in decision.reason


def _flipped(case: Case) -> Case:
    """The same case with the trained metric negated and its goal flipped."""
    first, *rest = case.objectives
    flipped = Objective(first.name, MIN if first.goal is MAX else MAX)
    history = {t: [-v for v in values] for t, values in case.history.items()}
    return Case(case.name, [flipped, *rest], history, case.known, case.stop, case.dominator,
                case.inner_stop, case.unchanged)  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_negating_the_trained_metric_and_flipping_its_goal_decides_the_same(case: Case) -> None:
    flipped = _flipped(case)
    for c in (case, flipped):
        policy = FrontAwarePolicy(Always(stop=c.inner_stop), c.objectives)
        context = PolicyContext(history=c.history, goal=c.goal, trial_id="j", known=c.known)
        assert policy.judge(context).stop is case.stop


@pytest.mark.parametrize(
    ("own_latency", "reason"),
    [
        (4.0, "stopped at report 1: inner; dominated by 'trial_0001' (by report 1: accuracy 0.91, "
              "latency_ms 1.25; this trial: accuracy 0.5, latency_ms 4)"),
        (0.5, "report 1: kept, no trial dominates it by report 1 (accuracy 0.5, latency_ms 0.5): "
              "it may end on the Pareto front; accuracy alone would stop it: stopped at report 1: "
              "inner"),
    ],
)  # fmt: skip
def test_the_reason_gives_both_trials_numbers(own_latency, reason) -> None:
    context = PolicyContext(
        history={"trial_0001": [0.91], "trial_0002": [0.5]},
        goal=MAX,
        trial_id="trial_0002",
        known=lat(trial_0001=1.25, trial_0002=own_latency),
    )
    assert FrontAwarePolicy(Always(), ACC_LAT).judge(context).reason == reason


def test_a_pause_stays_a_pause_and_promotions_are_the_inner_policys() -> None:
    class Pausing(Always):
        def promotion_rule(self, paused, context, *, closing=False):
            return Promotion(sorted(paused)[0], f"closing={closing}")

    policy = FrontAwarePolicy(Pausing(pause=True), ACC_LAT)
    context = PolicyContext(
        history={"a": [0.9], "j": [0.5]}, goal=MAX, trial_id="j", known=lat(a=1.0, j=2.0)
    )
    decision = policy.judge(context)
    assert decision.stop and decision.pause
    promotion = policy.judge_paused(["j", "k"], PolicyContext(history={}, goal=MAX), closing=True)
    assert promotion == Promotion("j", "closing=True")


def test_with_a_real_policy_the_faster_laggard_survives_the_bandit() -> None:
    bandit = BanditPolicy(slack_factor=0.1)
    policy = FrontAwarePolicy(bandit, ACC_LAT)
    history = {"big": [0.9, 0.95], "fast": [0.6], "slow": [0.6]}
    known = lat(big=10.0, fast=1.0, slow=30.0)
    for trial, stop in (("fast", False), ("slow", True)):
        context = PolicyContext(history=history, goal=MAX, trial_id=trial, known=known)
        assert bandit.judge(context).stop  # the bandit alone stops both
        assert policy.judge(context).stop is stop


def test_the_inner_schedule_is_kept() -> None:
    hyperband = HyperbandPolicy(1, 9, 3)
    policy = FrontAwarePolicy(hyperband, ACC_LAT)
    assert policy.evaluation_points(9) == hyperband.evaluation_points(9)
    assert policy.schedule_aware is False
    aware = FrontAwarePolicy(BanditPolicy(slack_factor=0.1, schedule_aware=True), ACC_LAT)
    assert aware.schedule_aware is True
    assert policy.to_dict() == {**hyperband.to_dict(), "front_aware": ["accuracy", "latency_ms"]}


@pytest.mark.parametrize(
    ("inner", "objectives", "message"),
    [
        (Always(), [Objective("accuracy", MAX)], "needs the trained metric and at least one"),
        (FrontAwarePolicy(Always(), ACC_LAT), ACC_LAT, "already front-aware"),
        (Always(), {"accuracy": "sideways", "latency_ms": "min"}, "sideways"),
    ],
)
def test_bad_construction_is_one_clear_error(inner, objectives, message) -> None:
    with pytest.raises(ValueError, match=message):
        FrontAwarePolicy(inner, objectives)
