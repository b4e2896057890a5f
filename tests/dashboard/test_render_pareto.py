"""The Pareto chart and the hypervolume on the page and in report.html: present for a sweep with
two objectives, absent for a single-objective one, every text escaped."""

from __future__ import annotations

from pathlib import Path

from automl_vision.dashboard.render import render_page
from automl_vision.dashboard.snapshot import RunSnapshot, TrialView

POINTS = [("t0", 0.9, 10.0), ("t1", 0.8, 5.0), ("t2", 0.7, 8.0), ("<b>x</b>", 0.95, 20.0)]


def _run(settings: dict) -> RunSnapshot:
    trials = [
        TrialView(
            index=i, trial_id=tid, status="COMPLETED", params={"lr": i}, value=acc, attempt=0,
            started_at=float(i), finished_at=float(i + 1), error=None, stop_reason=None,
            artifacts={"metrics": {"accuracy": acc}, "deployment": {"latency_ms": lat}},
            steps=[1], values=[acc], metrics=[{"accuracy": acc}], decisions=["continue"],
        )
        for i, (tid, acc, lat) in enumerate(POINTS)
    ]  # fmt: skip
    meta = {"primary_metric": "accuracy", "goal": "maximize", "settings": settings}
    return RunSnapshot(Path("run"), meta, trials, [])


def test_two_objectives_show_the_front_the_constraint_and_the_hypervolume():
    settings = {
        "objectives": {"accuracy": "max", "latency_ms": "min"},
        "constraints": [["latency_ms", "<=", 15]],
    }
    page = render_page([_run(settings)], "report")
    assert '<div class="pareto">' in page
    assert "Pareto front: accuracy against latency_ms" in page
    assert "Hypervolume against completed trials" in page
    assert "latency_ms &lt;= 15" in page and "stroke-dasharray" in page
    assert ">t1</text>" in page and ">t0</text>" in page  # front trials labelled
    assert "reference point: accuracy 0.7 (the worst completed trial)" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_single_objective_sweep_has_no_pareto_chart():
    page = render_page([_run({})], "report")
    assert "pareto" not in page.lower() and "Hypervolume" not in page


def test_garbled_objectives_in_a_store_are_said_not_raised():
    page = render_page([_run({"objectives": {"accuracy": "sideways", "x": "min"}})], "report")
    assert "Pareto chart unreadable" in page
