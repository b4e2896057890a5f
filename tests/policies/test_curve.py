"""``CurvePolicy``: a trial stops only when its predicted final (the interval's better end)
cannot reach the best finished trial's; table-driven over both goals, with the reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl_vision.policies import CurvePolicy, PolicyContext, PrimaryMetricGoal, policy_from_dict
from automl_vision.policies.config import PolicyConfigError
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Report

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def rising(final: float, n: int, k: int | None = None) -> list[float]:
    """A curve of ``n`` reports rising linearly from 0.2 to ``final`` (its first ``k``)."""
    p = np.arange(1, n + 1) / n
    return (0.2 + (final - 0.2) * p)[: k or n].tolist()


def warming(final: float, n: int, k: int) -> list[float]:
    """Flat at 0.1 during the first third (warm-up), then rising to ``final``."""
    p = np.arange(1, n + 1) / n
    values = np.where(p <= 1 / 3, 0.1, 0.1 + (final - 0.1) * (p - 1 / 3) / (2 / 3))
    return values[:k].tolist()


FINALS = np.linspace(0.6, 0.85, 10).tolist()  # ten finished: enough for an 80% interval's ends
FINISHED = {f"f{i}": rising(f, 10) for i, f in enumerate(FINALS)}
WARM = {f"w{i}": warming(f, 9, 9) for i, f in enumerate(np.linspace(0.6, 0.9, 10).tolist())}

CASES = [
    # (name, finished histories, judged values, stop?, reason starts with)
    ("far below every finished curve at the same point: stopped", FINISHED,
     rising(0.3, 10, 5), True, "stopped at report 5: predicted final"),
    ("heading for the best: goes on", FINISHED, rising(0.86, 10, 5), False, "report 5: predicted"),
    ("too few finished trials: goes on, saying how many", dict(list(FINISHED.items())[:2]),
     rising(0.3, 10, 5), False, "report 5: 2 of the 3 finished trials"),
    ("a NaN stops", FINISHED, [0.3, math.nan], True, "stopped at report 2: the value is NaN"),
    ("in warm-up like the finished ones were: goes on", WARM, warming(0.85, 9, 2), False,
     "report 2: predicted"),
    ("after warm-up, rising slower than all: stopped", WARM, warming(0.3, 9, 6), True,
     "stopped at report 6"),
]  # fmt: skip


def _flip(values: list[float]) -> list[float]:
    return [-v for v in values]


@pytest.mark.parametrize("goal", [MAX, MIN])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0] if isinstance(c, tuple) else "")
def test_curve_decisions(case, goal) -> None:
    _, finished, judged, stop, start = case
    flip = (lambda v: v) if goal is MAX else _flip
    history = {t: flip(v) for t, v in finished.items()} | {"j": flip(judged)}
    decision = CurvePolicy().decide("j", history, goal, list(finished))
    assert decision.stop is stop
    assert decision.reason.startswith(start), decision.reason
    if "predicted final" in decision.reason:
        assert "(80%, " in decision.reason and "at progress" in decision.reason


def _reports(values: list[float], total: int) -> list[Report]:
    return [
        Report(i + 1, v, {PROGRESS_KEY: (i + 1) / total, COST_KEY: float(i + 1)})
        for i, v in enumerate(values)
    ]


def test_reported_progress_puts_a_long_schedule_where_it_is() -> None:
    """Finished trials of 10 reports; the judged one runs 40 and is at its report 10. By report
    count it looks finished at 0.37 (stopped); by its reported progress it is a quarter done, as
    far as the finished trials were at their report 2.5, and on course to beat them (goes on)."""
    history = {**FINISHED, "j": rising(0.9, 40, 10)}
    finished = list(FINISHED)
    without = PolicyContext(history=history, goal=MAX, trial_id="j", finished=finished)
    assert CurvePolicy().judge(without).stop
    reports = {t: _reports(v, 10) for t, v in FINISHED.items()} | {"j": _reports(history["j"], 40)}
    with_progress = PolicyContext(
        history=history, goal=MAX, trial_id="j", finished=finished, reports=reports
    )
    decision = CurvePolicy().judge(with_progress)
    assert not decision.stop
    assert "at progress 0.25" in decision.reason


def test_max_resource_sets_the_progress_of_reports_without_it() -> None:
    history = {**FINISHED, "j": rising(0.8, 40, 10)}
    decision = CurvePolicy(max_resource=10).decide("j", history, MAX, list(FINISHED))
    assert "at progress 1 " in decision.reason  # 10 of 10 reports
    decision = CurvePolicy(max_resource=40).decide("j", history, MAX, list(FINISHED))
    assert "at progress 0.25" in decision.reason


@pytest.mark.parametrize("goal", [MAX, MIN])
def test_a_trial_on_the_best_course_is_not_stopped_at_any_report(goal) -> None:
    flip = (lambda v: v) if goal is MAX else _flip
    history = {t: flip(v) for t, v in FINISHED.items()}
    others = [t for t in FINISHED if t != "f9"]
    best = flip(FINISHED["f9"])
    for k in range(1, len(best) + 1):
        history["f9"] = best[:k]
        assert not CurvePolicy().decide("f9", history, goal, others).stop


def test_too_few_finished_curves_to_bound_the_interval_stop_nothing() -> None:
    """Eight finished curves cannot bound an 80% interval's upper end (rank 9 of 8): even a
    trial far below all of them goes on; a 60% interval (rank 8 of 8) can stop it."""
    finished = dict(list(FINISHED.items())[:8])
    history = {**finished, "j": rising(0.3, 10, 5)}
    decision = CurvePolicy().decide("j", history, MAX, list(finished))
    assert not decision.stop and "inf" in decision.reason
    assert CurvePolicy(level=0.6).decide("j", history, MAX, list(finished)).stop


def test_dict_form_round_trip_and_validation() -> None:
    policy = CurvePolicy(level=0.9, min_finished=5, max_resource=20)
    assert policy_from_dict(policy.to_dict()) == policy
    assert policy_from_dict({"type": "curve"}) == CurvePolicy()
    for bad in ({"level": 1.5}, {"min_finished": 1}, {"max_resource": 0}, {"level": "high"}):
        with pytest.raises(PolicyConfigError, match=next(iter(bad))):
            CurvePolicy(**bad)
