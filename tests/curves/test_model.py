"""``CurveModel``: predictions from partial curves on the schedule's axis, their intervals
calibrated on held-out real curves, both goals, and the edge cases."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from automl_vision.curves import Curve, CurveModel, Prediction

DATA = Path(__file__).parent / "data"


def _subset(name: str) -> list[Curve]:
    with (DATA / f"{name}_subset.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = [c for c in rows[0] if c.startswith("acc_")]
    n = len(columns)
    progress = np.arange(1, n + 1) / n
    return [Curve.of(progress, [float(r[c]) for c in columns]) for r in rows]


def _deberta(name: str) -> list[Curve]:
    curves = []
    for line in (DATA / f"{name}_subset.jsonl").read_text().splitlines():
        row = json.loads(line)
        points = np.array(row["matched"], dtype=float)
        curves.append(Curve.of(points[:, 0] / row["total_model_steps"], points[:, 1]))
    return curves


def _coverage(curves: list[Curve], finished: int, repeats: int, seed: int) -> tuple[float, float]:
    """The share of held-out finals inside the 80% interval, predicted at a random report
    from ``finished`` other curves, and the median interval width."""
    rng = np.random.default_rng(seed)
    inside, widths = [], []
    for _ in range(repeats):
        order = rng.permutation(len(curves))
        model = CurveModel([curves[i] for i in order[:finished]], "maximize", level=0.8)
        held = curves[order[finished]]
        k = int(rng.integers(1, len(held))) if len(held) > 1 else 1
        partial = Curve(held.progress[:k], held.values[:k])
        prediction = model.predict(partial)
        assert prediction is not None
        inside.append(prediction.low <= held.final <= prediction.high)
        widths.append(prediction.high - prediction.low)
    return float(np.mean(inside)), float(np.median(widths))


@pytest.mark.parametrize("name", ["metaqnn_cifar10", "deep_resnets_cifar10"])
def test_80_percent_intervals_cover_70_to_90_percent_of_held_out_finals(name) -> None:
    coverage, width = _coverage(_subset(name), finished=30, repeats=400, seed=0)
    assert 0.70 <= coverage <= 0.90, coverage
    assert width < 0.1  # informative: a few points of accuracy, not the whole range


@pytest.mark.parametrize("name", ["deberta-base_mnli", "deberta-v3-base_mnli"])
def test_calibrated_on_schedules_that_differ_per_configuration(name) -> None:
    coverage, width = _coverage(_deberta(name), finished=30, repeats=300, seed=0)
    assert 0.70 <= coverage <= 0.90, coverage
    assert width < 0.1


def _family(n: int, finals: np.ndarray) -> list[Curve]:
    """Curves rising to ``finals`` along one shape: value(p) = final * (0.5 + 0.5 p)."""
    p = np.arange(1, n + 1) / n
    return [Curve.of(p, f * (0.5 + 0.5 * p)) for f in finals]


@pytest.mark.parametrize("goal", ["maximize", "minimize"])
def test_one_shape_is_predicted_exactly_with_a_narrow_interval(goal) -> None:
    sign = 1.0 if goal == "maximize" else -1.0
    finished = _family(10, np.linspace(0.5, 0.9, 12))
    finished = [Curve(c.progress, sign * c.values) for c in finished]
    model = CurveModel(finished, goal)
    own = _family(10, np.array([0.7]))[0]
    partial = Curve(own.progress[:3], sign * own.values[:3])
    prediction = model.predict(partial)
    assert prediction is not None
    assert prediction.mean == pytest.approx(sign * 0.7, abs=1e-3)
    assert prediction.low <= prediction.mean <= prediction.high
    assert prediction.high - prediction.low < 1e-2


def test_negating_the_values_and_flipping_the_goal_mirrors_the_prediction() -> None:
    curves = _subset("metaqnn_cifar10")[:40]
    held = curves[-1]
    partial = Curve(held.progress[:5], held.values[:5])
    up = CurveModel(curves[:-1], "maximize").predict(partial)
    down = CurveModel([Curve(c.progress, -c.values) for c in curves[:-1]], "minimize").predict(
        Curve(partial.progress, -partial.values)
    )
    assert up is not None and down is not None
    assert (down.mean, down.low, down.high) == pytest.approx((-up.mean, -up.high, -up.low))


def test_comparing_at_the_same_progress_not_the_same_report() -> None:
    """Finished trials of 10 reports, all rising linearly to 0.8; a trial of 40 reports at its
    report 10 (progress 0.25) is a quarter of the way, not done."""
    p10 = np.arange(1, 11) / 10
    finished = [Curve.of(p10, 0.2 + (f - 0.2) * p10) for f in np.linspace(0.7, 0.9, 10)]
    p40 = np.arange(1, 41) / 40
    slow = Curve.of(p40[:10], (0.2 + 0.6 * p40)[:10])  # at 0.35 after 10 reports
    prediction = CurveModel(finished, "maximize").predict(slow)
    assert prediction is not None and prediction.mean == pytest.approx(0.8, abs=0.02)


def test_too_few_finished_curves_predict_nothing() -> None:
    curves = _family(5, np.array([0.5, 0.6]))
    model = CurveModel(curves, "maximize", min_finished=3)
    assert not model.ready
    assert model.predict(curves[0]) is None
    assert CurveModel(curves, "maximize", min_finished=2).predict(curves[0]) is not None


def test_nan_reports_are_left_out_and_empty_curves_are_not_used() -> None:
    curve = Curve.of([0.25, 0.5, 0.75, 1.0], [0.3, math.nan, 0.5, 0.6])
    assert curve.progress.tolist() == [0.25, 0.75, 1.0]
    assert curve.final == 0.6
    empty = Curve.of([0.5], [math.nan])
    model = CurveModel([*_family(4, np.array([0.5, 0.6, 0.7])), empty], "maximize")
    assert len(model.curves) == 3
    assert model.predict(empty) is None


def test_a_repeated_report_of_a_resumed_trial_keeps_progress_increasing() -> None:
    curve = Curve.of([0.2, 0.4, 0.3, 0.6], [0.1, 0.2, 0.2, 0.3])
    assert np.all(np.diff(curve.progress) >= 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"level": 1.0}, "level"), ({"level": 0.0}, "level"), ({"min_finished": 1}, "min_finished"),
     ({"ridge": 0.0}, "ridge"), ({"goal": "sideways"}, "sideways")],
)  # fmt: skip
def test_bad_settings_are_one_clear_error(kwargs, message) -> None:
    arguments = {"goal": "maximize", **kwargs}
    with pytest.raises(ValueError, match=message):
        CurveModel([], **arguments)


def test_a_curve_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="as many progress values as values"):
        Curve.of([0.5, 1.0], [0.3])


def test_the_description_names_the_interval() -> None:
    text = Prediction(0.7123, 0.69, 0.731, 0.8, 12).describe()
    assert text == "0.7123 [0.69, 0.731] (80%, 12 finished)"


@pytest.mark.parametrize(("finished", "bounded"), [(8, False), (9, True)])
def test_an_80_percent_interval_needs_9_finished_curves_to_be_bounded(finished, bounded) -> None:
    curves = _family(10, np.linspace(0.5, 0.9, finished))
    prediction = CurveModel(curves, "maximize", min_finished=2).predict(curves[0])
    assert prediction is not None
    assert math.isfinite(prediction.high) is bounded
    assert math.isfinite(prediction.low) is bounded
