"""The dashboard's charts: the same data as the PNG plots, whole-number epoch ticks, labels
wrapped (never cut) and a colour bar on the parallel coordinates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from automl_vision.dashboard.render import as_trials, render_body
from automl_vision.dashboard.snapshot import load_snapshot
from automl_vision.dashboard.svg import Series, bar_chart, line_chart, parallel_coordinates
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.reporting import chart_data
from automl_vision.space.distributions import choice, uniform
from automl_vision.store.database import SweepStore
from automl_vision.store.sweep_dir import read_sweep
from automl_vision.trial import PrimaryMetricGoal
from automl_vision.tuning.optimize import optimize

LONG = "convnextv2_nano.fcmae_ft_in22k_in1k_384"


class StopAtTwo(EarlyTerminationPolicy):
    """Every trial stopped after its second report: no trial runs its full budget."""

    def decide(self, trial_id, history, goal, finished=()):
        return Decision(len(history[trial_id]) >= 2, "two reports are enough")


def _record(run_dir: Path, policy: EarlyTerminationPolicy | None) -> Path:
    store = SweepStore(run_dir / SweepStore.FILENAME)
    store.set_meta({"primary_metric": "accuracy", "goal": "maximize"})

    def objective(params, report):
        value = 0.0
        for step in range(1, 4):
            value = params["x"] * step / 3 + (0.1 if params["model"] == LONG else 0.0)
            if report(step, value):
                break
        return value

    optimize(
        objective,
        {"x": uniform(0.1, 0.9), "model": choice(LONG, "resnet18")},
        max_trials=6,
        seed=3,
        policy=policy,
        observers=[store],
    )
    store.close()
    return run_dir


@pytest.fixture(scope="module", params=["all stopped", "all completed"])
def recorded(request, tmp_path_factory) -> Path:
    policy = StopAtTwo() if request.param == "all stopped" else None
    return _record(tmp_path_factory.mktemp("charts"), policy)


def test_dashboard_charts_have_the_png_data(recorded):
    """The PNG plots are drawn from the trials ``read_sweep`` gives; the dashboard from its
    snapshot: both give the chart functions the same numbers, so a chart the PNG draws is never
    'no data yet' on the page."""
    png = read_sweep(recorded).trials
    page = as_trials(load_snapshot(recorded))
    goal = PrimaryMetricGoal.MAXIMIZE
    best = max((t for t in png if t.value is not None), key=lambda t: t.value)
    page_best = next(t for t in page if t.trial_id == best.trial_id)
    assert chart_data.learning_curves(png, best) == chart_data.learning_curves(page, page_best)
    assert chart_data.best_so_far(png, goal) == chart_data.best_so_far(page, goal)
    assert chart_data.parallel_coordinates(png, "accuracy") == chart_data.parallel_coordinates(
        page, "accuracy"
    )
    scores = chart_data.importance(png, goal)
    assert scores == chart_data.importance(page, goal) and scores.has_data
    html = render_body([load_snapshot(recorded)])
    assert "no data yet" not in html
    for name, value in scores.scores.items():
        assert f">{value:.3g}</text>" in html, name


def _x_ticks(svg: str) -> list[str]:
    return re.findall(r'class="tk xt">([^<]*)<', svg)


@pytest.mark.parametrize("last", [2, 3, 5, 12, 40])
def test_epoch_axes_have_whole_number_ticks(last):
    svg = line_chart("c", [Series("t", [(1.0, 0.1), (float(last), 0.5)])], "epoch", "acc",
                     integer_x=True)  # fmt: skip
    ticks = _x_ticks(svg)
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert ticks[0] == "1"


def test_other_axes_keep_fractional_ticks():
    svg = line_chart("c", [Series("t", [(1.0, 0.1), (2.0, 0.5)])], "minutes", "acc")
    assert "1.75" in _x_ticks(svg)


def test_epoch_axes_on_the_page_have_whole_number_ticks(recorded):
    html = render_body([load_snapshot(recorded)])
    ticks = _x_ticks(html)
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def _visible_text(svg: str) -> str:
    """The drawn text (tspans), tooltips left out."""
    return "".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg))


def test_parallel_coordinates_wraps_long_names_and_explains_colour(recorded):
    data = chart_data.parallel_coordinates(read_sweep(recorded).trials, "accuracy")
    svg = parallel_coordinates("Parallel coordinates", data, "accuracy")
    assert f"<title>{LONG}</title>" in svg  # the full name as a tooltip
    assert LONG in _visible_text(svg)  # and drawn whole, over several lines
    bar = re.search(r'<g class="colourbar"><title>([^<]*)</title>', svg)
    lo, hi = data.metric_range
    assert bar and bar.group(1) == f"colour = accuracy, from {lo:.3g} to {hi:.3g}"
    # lines are coloured by the metric: the best at the top of the scale, the worst at its bottom
    assert 'stroke="#fde725"' in svg and 'stroke="#440154"' in svg


def test_bar_chart_labels_are_not_cut():
    name = "a_rather_long_parameter_name_from_a_custom_space"
    svg = bar_chart("imp", [(name, 0.5), ("lr", 0.2)], "basis")
    assert f"<title>{name}</title>" in svg
    assert name in _visible_text(svg)
