"""Schedule-aware judging: the judging window of a training run, where it moves a decision, and
what every policy with ``schedule_aware=True`` does with it (both goals)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from automl_vision.planning.judging import judging_window
from automl_vision.policies import (
    ASHAPolicy,
    BanditPolicy,
    HyperbandPolicy,
    JudgingWindow,
    MedianStoppingPolicy,
    PrimaryMetricGoal,
    TruncationSelectionPolicy,
    policy_from_dict,
)

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


# -- the window ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("window", "n", "target"),
    [
        (JudgingWindow(warmup=2), 1, 3),
        (JudgingWindow(warmup=2), 2, 3),
        (JudgingWindow(warmup=2), 3, None),
        (JudgingWindow(drops=(31,)), 15, None),
        (JudgingWindow(drops=(31,)), 16, 31),  # the last ceil(30 / 2) = 15 reports of the plateau
        (JudgingWindow(drops=(31,)), 30, 31),
        (JudgingWindow(drops=(31,)), 31, None),
        (JudgingWindow(drops=(31,)), 40, None),
        (JudgingWindow(drops=(6, 11, 16)), 2, None),
        (JudgingWindow(drops=(6, 11, 16)), 3, 6),  # plateau 1-5: 3, 4, 5 move
        (JudgingWindow(drops=(6, 11, 16)), 7, None),
        (JudgingWindow(drops=(6, 11, 16)), 8, 11),  # plateau 6-10: 8, 9, 10 move
        (JudgingWindow(drops=(6, 11, 16)), 15, 16),
        (JudgingWindow(drops=(6, 11, 16)), 19, None),
        (JudgingWindow(warmup=2, drops=(6,)), 1, 3),  # 3 is the plateau's first half (3-5)
        (JudgingWindow(warmup=2, drops=(4,)), 1, 4),  # 3 itself precedes the drop at 4
        (JudgingWindow(drops=(2, 3)), 1, 3),  # 2, the first drop's report, precedes the next
        (JudgingWindow(drops=(2, 3, 4)), 1, 4),
        (JudgingWindow(), 1, None),
        (JudgingWindow(drops=(30,), before_drop=1.0), 1, 30),  # nothing judged before the drop
        (JudgingWindow(drops=(30,), before_drop=1.0), 29, 30),
        (JudgingWindow(drops=(30,), before_drop=0.1), 26, None),
        (JudgingWindow(drops=(30,), before_drop=0.1), 27, 30),  # the last ceil(2.9) = 3
        (JudgingWindow(warmup=2, drops=(30,), before_drop=1.0), 1, 30),
    ],
)  # fmt: skip
def test_where_a_decision_is_taken(window, n, target) -> None:
    move = window.move(n)
    assert (move.target if move else None) == target
    if move is not None:
        assert n in window.sources(move.target)


@pytest.mark.parametrize(
    ("params", "window"),
    [
        ({}, JudgingWindow(warmup=2)),  # Azure's default: warmup_cosine, 2 warm-up epochs
        ({"warmup_cosine_lr_warmup_epochs": 0}, JudgingWindow()),
        ({"warmup_cosine_lr_warmup_epochs": 3, "evaluation_frequency": 2}, JudgingWindow(warmup=1)),
        ({"learning_rate_scheduler": "step"}, JudgingWindow(drops=(6, 11))),  # 15 epochs, size 5
        ({"learning_rate_scheduler": "step", "number_of_epochs": 50, "step_lr_step_size": 30},
         JudgingWindow(drops=(31,))),
        ({"learning_rate_scheduler": "step", "number_of_epochs": 20, "step_lr_step_size": 5,
          "evaluation_frequency": 2}, JudgingWindow(drops=(3, 6, 8))),
        ({"learning_rate_scheduler": "step", "step_lr_gamma": 1.0}, JudgingWindow()),
        ({"learning_rate_scheduler": "step", "number_of_epochs": 10, "step_lr_step_size": 5},
         JudgingWindow(drops=(6,))),
        ({"learning_rate_scheduler": "step", "number_of_epochs": 6, "step_lr_step_size": 5},
         JudgingWindow()),  # the drop's report would be the last one: nothing left to judge
    ],
)  # fmt: skip
def test_the_window_of_a_training_run(params, window) -> None:
    assert judging_window(params) == window


@pytest.mark.parametrize(
    "kwargs",
    [
        {"warmup": -1},
        {"drops": (1,)},
        {"drops": (6, 6)},
        {"drops": (11, 6)},
        {"before_drop": 0},
        {"before_drop": 1.5},
    ],
)
def test_a_bad_window_is_refused(kwargs) -> None:
    with pytest.raises(ValueError, match="JudgingWindow"):
        JudgingWindow(**kwargs)


# -- the policies -------------------------------------------------------------------------------
def sign(goal, values):
    """Values written for maximize, mirrored for minimize."""
    return [v if goal is MAX else -v for v in values]


WARMUP = JudgingWindow(warmup=2)
DROP = JudgingWindow(drops=(31,))


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_factor=0.1, schedule_aware=True),
        MedianStoppingPolicy(1, 0, schedule_aware=True),
        TruncationSelectionPolicy(50, schedule_aware=True),
        ASHAPolicy(1, 27, 3, schedule_aware=True),
    ],
    ids=repr,
)
def test_no_decision_during_warm_up(policy, goal) -> None:
    # "bad" falls far behind in warm-up and stays behind after it
    history = {
        "good": sign(goal, [0.9, 0.9, 0.9]),
        "ok": sign(goal, [0.8, 0.8, 0.8]),
        "bad": sign(goal, [0.1, 0.1, 0.1]),
    }
    for n in (1, 2):
        early = {k: v[:n] for k, v in history.items()}
        decision = policy.decide("bad", early, goal, window=WARMUP)
        assert not decision.stop
        if n == 1 or not isinstance(policy, ASHAPolicy):  # 2 is not a rung of ASHA(1, 27)
            assert f"decision moved from report {n} to report 3" in decision.reason
        assert policy.decide("bad", early, goal).stop == (
            n == 1 or not isinstance(policy, ASHAPolicy)
        )
    decision = policy.decide("bad", history, goal, window=WARMUP)
    assert decision.stop
    assert "moved from report" in decision.reason and "to report 3" in decision.reason
    assert "warm-up" in decision.reason


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize("promotion", [False, True])
def test_a_rung_just_before_a_drop_moves_to_just_after_it(goal, promotion) -> None:
    # at rung 27 "late" looks worst; after the drop (report 31) it is the best
    policy = HyperbandPolicy(1, 50, 3, brackets=1, schedule_aware=True, promotion=promotion)
    flat = [0.5] * 26
    history = {
        "late": sign(goal, [*flat, 0.40, 0.41, 0.42, 0.43, 0.90]),
        "a": sign(goal, [*flat, 0.60, 0.60, 0.60, 0.60, 0.70]),
        "b": sign(goal, [*flat, 0.55, 0.55, 0.55, 0.55, 0.65]),
    }
    at_27 = {k: v[:27] for k, v in history.items()}
    unaware = HyperbandPolicy(1, 50, 3, brackets=1, promotion=promotion)
    assert unaware.decide("late", at_27, goal).stop  # stopped or paused just before the drop
    moved = policy.decide("late", at_27, goal, window=DROP)
    assert not moved.stop
    assert moved.reason == (
        "report 27: decision moved from report 27 to report 31: reports 16-30 precede the "
        "learning-rate drop at report 31"
    )
    for n in (28, 29, 30):
        assert not policy.decide(
            "late", {k: v[:n] for k, v in history.items()}, goal, window=DROP
        ).stop
    after = policy.decide("late", history, goal, window=DROP)
    assert after.reason.startswith(
        "paused at rung 27 (at report 31)" if promotion else "rung 27 (at report 31)"
    )
    assert after.reason.endswith(
        "decision moved from report 27 to report 31: reports 16-30 precede the learning-rate "
        "drop at report 31"
    )
    assert after.stop == promotion and after.pause == promotion
    if not promotion:
        assert policy.decide("a", history, goal, window=DROP).stop  # judged at 31 too: 2nd of 3


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_factor=0.1),
        BanditPolicy(2, slack_amount=0.05, delay_evaluation=2),
        MedianStoppingPolicy(1, 1),
        TruncationSelectionPolicy(34),
        HyperbandPolicy(1, 50),
        ASHAPolicy(1, 50, promotion=True),
    ],
    ids=repr,
)
def test_no_change_when_off(policy, goal) -> None:
    history = {f"t{i}": sign(goal, [0.1 * ((i * 7 + n) % 10) for n in range(40)]) for i in range(6)}
    for window in (WARMUP, DROP, JudgingWindow(warmup=3, drops=(10, 20))):
        for n in range(1, 41):
            cut = {k: v[:n] for k, v in history.items()}
            for t in cut:
                assert policy.decide(t, cut, goal, window=window) == policy.decide(t, cut, goal)


WINDOWS = st.builds(
    lambda warmup, drops: JudgingWindow(warmup=warmup, drops=tuple(sorted(set(drops)))),
    st.integers(0, 3),
    st.lists(st.integers(2, 12), max_size=3),
)
HISTORIES = st.dictionaries(
    st.sampled_from([f"trial_{i:04d}" for i in range(8)]),
    st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.5, 0.8, 1.0]), min_size=1, max_size=12),
    min_size=1,
    max_size=6,
)
AWARE = [
    BanditPolicy(slack_factor=0.2, schedule_aware=True),
    MedianStoppingPolicy(1, 0, schedule_aware=True),
    TruncationSelectionPolicy(50, schedule_aware=True),
    HyperbandPolicy(1, 12, schedule_aware=True),
    ASHAPolicy(1, 12, 2, schedule_aware=True, promotion=True),
]


@pytest.mark.parametrize("policy", AWARE, ids=repr)
@given(history=HISTORIES, window=WINDOWS)
def test_never_decides_on_a_misleading_report_and_keeps_the_contract(policy, history, window):
    for trial_id, values in history.items():
        decision = policy.decide(trial_id, history, MAX, window=window)
        if window.move(len(values)) is not None:
            assert not decision.stop
            if policy._is_point(trial_id, len(values)):  # one of its evaluation points
                assert "decision moved" in decision.reason
        mirrored = {k: [-v for v in vs] for k, vs in history.items()}
        assert policy.decide(trial_id, mirrored, MIN, window=window).stop == decision.stop


@pytest.mark.parametrize("policy", AWARE, ids=repr)
def test_the_switch_round_trips_through_dict_and_yaml(policy) -> None:
    data = policy.to_dict()
    assert data["schedule_aware"] is True
    assert policy_from_dict(yaml.safe_load(yaml.safe_dump(data))) == policy
    off = policy.model_copy(update={"schedule_aware": False})
    assert "schedule_aware" not in off.to_dict()  # the Azure shape is unchanged while off
    assert off != policy


def test_the_switch_is_checked() -> None:
    with pytest.raises(ValueError, match="schedule_aware must be true or false"):
        policy_from_dict({"type": "bandit", "slack_factor": 0.1, "schedule_aware": "yes"})
    assert policy_from_dict({"type": "asha", "schedule_aware": True}).schedule_aware


def test_a_rung_moved_to_the_whole_budget_is_not_judged() -> None:
    policy = ASHAPolicy(1, 31, 3, schedule_aware=True)  # rung 27 moves to 31 = max_resource
    history = {"a": [0.9] * 31, "b": [0.8] * 31, "c": [0.1] * 31}
    decision = policy.decide("c", history, MAX, window=DROP)
    assert not decision.stop
    assert decision.reason.startswith("rung 27 (at report 31): report 31 uses the whole budget")
