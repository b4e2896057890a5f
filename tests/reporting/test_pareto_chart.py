"""The Pareto chart's numbers, the hypervolume series and the PNG files (multi-objective only)."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from automl_vision.reporting.chart_data import pareto_chart
from automl_vision.reporting.plots import save_plots
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

MAX = PrimaryMetricGoal.MAXIMIZE


def _trial(i: int, acc: float, latency: float, status=TrialStatus.COMPLETED, done=None) -> Trial:
    return Trial(
        index=i,
        params={"lr": 0.1 * (i + 1)},
        status=status,
        value=acc,
        trial_id=f"t{i}",
        finished_at=float(i if done is None else done),
        artifacts={"metrics": {"accuracy": acc}, "deployment": {"latency_ms": latency}},
    )


def _settings(objectives, constraints=(), baseline=None) -> dict:
    return {
        "objectives": objectives,
        "constraints": [[n, b, v] for n, b, v in constraints],
        "baseline": baseline,
    }


TWO = {"accuracy": "max", "latency_ms": "min"}

CASES = [
    # (name, points (accuracy, latency), objectives, constraints, front ids in x order)
    ("both goals", [(0.9, 10), (0.8, 5), (0.7, 8), (0.95, 20)], TWO, (), ["t1", "t0", "t3"]),
    ("latency maximized", [(0.9, 10), (0.8, 5), (0.7, 8)], {"accuracy": "max", "latency_ms": "max"},
     (), ["t0"]),
    ("accuracy minimized", [(0.9, 10), (0.8, 5), (0.7, 8)], {"accuracy": "min", "latency_ms": "min"},
     (), ["t1", "t2"]),
    ("a constraint", [(0.9, 10), (0.8, 5), (0.95, 20)], TWO, [("latency_ms", "<=", 12)],
     ["t1", "t0"]),
    ("ties are all on the front", [(0.9, 10), (0.9, 10), (0.8, 12)], TWO, (), ["t0", "t1"]),
    ("one trial", [(0.5, 3)], TWO, (), ["t0"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "points", "objectives", "constraints", "front"), CASES)
def test_front_membership_and_order(name, points, objectives, constraints, front):
    trials = [_trial(i, a, lat) for i, (a, lat) in enumerate(points)]
    goal = PrimaryMetricGoal.parse(objectives["accuracy"], "goal")
    data = pareto_chart(trials, _settings(objectives, constraints), "accuracy", goal)
    assert data is not None
    assert [p.trial_id for p in data.front] == front
    assert [p.x for p in data.front] == sorted(p.x for p in data.front)
    assert {p.trial_id for p in data.points if p.on_front} == set(front)
    assert (data.x_name, data.y_name) == ("latency_ms", "accuracy")
    assert data.xlabel.startswith("latency_ms (") and "accuracy" in data.ylabel


def test_constraint_is_a_vertical_line_and_breaking_trials_are_marked():
    trials = [_trial(0, 0.9, 10), _trial(1, 0.95, 20)]
    data = pareto_chart(trials, _settings(TWO, [("latency_ms", "<=", 12)]), "accuracy", MAX)
    assert [(c.axis, c.value, c.label) for c in data.constraints] == [
        ("x", 12.0, "latency_ms <= 12")
    ]
    assert [p.feasible for p in data.points] == [True, False]
    assert data.reference["latency_ms"] == 12.0  # the constraint is the cost's reference


def test_single_objective_has_no_chart():
    trials = [_trial(0, 0.9, 10)]
    assert pareto_chart(trials, {}, "accuracy", MAX) is None
    assert pareto_chart(trials, _settings({"accuracy": "max"}), "accuracy", MAX) is None


def test_hypervolume_series_in_completion_order_never_decreases_with_documented_reference():
    # finished out of index order: t2 finishes first
    trials = [
        _trial(0, 0.7, 8, done=2),
        _trial(1, 0.9, 10, done=3),
        _trial(2, 0.6, 4, done=1),
        _trial(3, 0.5, 9, done=4),  # dominated: adds nothing
        _trial(4, 0.95, 30, status=TrialStatus.FAILED, done=5),  # not completed: left out
        _trial(5, 0.99, 2, done=6),
    ]
    baseline = {"metric": "accuracy", "value": 0.1, "rule": "majority", "goal": "maximize"}
    data = pareto_chart(trials, _settings(TWO, baseline=baseline), "accuracy", MAX)
    volumes = [v for _, v in data.hypervolume]
    assert [n for n, _ in data.hypervolume] == [1, 2, 3, 4, 5]
    assert all(b >= a for a, b in pairwise(volumes))
    assert volumes[3] == volumes[2] and volumes[4] > volumes[3]
    assert data.reference == {"accuracy": 0.1, "latency_ms": pytest.approx(11.0)}
    assert "trivial baseline" in data.reference_text and "10 %" in data.reference_text
    # the first: t2 alone, (0.6 - 0.1) * (11 - 4)
    assert volumes[0] == pytest.approx(0.5 * 7)


def test_without_baseline_the_reference_is_the_worst_accuracy():
    trials = [_trial(0, 0.7, 8), _trial(1, 0.9, 10)]
    data = pareto_chart(trials, _settings(TWO), "accuracy", MAX)
    assert data.reference["accuracy"] == 0.7
    assert "worst completed trial" in data.reference_text
    assert not any(math.isnan(v) for _, v in data.hypervolume)


def test_png_files_only_for_a_multi_objective_sweep(tmp_path):
    trials = [_trial(0, 0.9, 10), _trial(1, 0.8, 5), _trial(2, 0.7, 8), _trial(3, 0.95, 20)]
    single = save_plots(trials, MAX, "accuracy", tmp_path / "one", trials[3])
    assert {p.name for p in single} == {
        "learning_curves.png", "best_so_far.png", "parallel_coordinates.png",
        "parameter_importance.png",
    }  # fmt: skip
    assert not (tmp_path / "one" / "pareto.png").exists()
    settings = _settings(TWO, [("latency_ms", "<=", 15)])
    multi = save_plots(trials, MAX, "accuracy", tmp_path / "two", trials[3], settings=settings)
    names = {p.name for p in multi}
    assert {"pareto.png", "hypervolume.png"} <= names
    for name in ("pareto.png", "hypervolume.png"):
        assert (tmp_path / "two" / name).read_bytes()[:4] == b"\x89PNG"
