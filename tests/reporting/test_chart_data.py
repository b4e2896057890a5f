"""The numbers behind the charts (``reporting/chart_data.py``) and how the PNG plots draw them."""

from __future__ import annotations

import math

import pytest
from matplotlib.ticker import MaxNLocator

from automl_vision.reporting import chart_data, plots
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus

LONG = "vit_base_patch16_224.augreg2_in21k_ft_in1k"


def _trial(i: int, model: str, status: TrialStatus, values: list[float]) -> Trial:
    return Trial(
        index=i,
        params={"model": model, "lr": 0.001 * (i + 1)},
        status=status,
        value=values[-1] if status is not TrialStatus.FAILED else None,
        reports=[Report(s, v) for s, v in enumerate(values, start=1)],
        trial_id=f"trial_{i:04d}",
    )


def _sweep() -> list[Trial]:
    return [
        _trial(0, LONG, TrialStatus.COMPLETED, [0.5, 0.7, 0.8]),
        _trial(1, "resnet18", TrialStatus.STOPPED, [0.2, 0.25]),
        _trial(2, LONG, TrialStatus.COMPLETED, [0.4, 0.6, 0.9]),
        _trial(3, "resnet18", TrialStatus.FAILED, [0.1]),
        _trial(4, "resnet18", TrialStatus.COMPLETED, [0.3, 0.5, 0.6]),
    ]


@pytest.mark.parametrize(
    "text", [LONG, "convnextv2_nano.fcmae_ft_in22k_in1k_384", "x" * 50, "short", "a b c " * 9]
)
def test_wrap_label_keeps_every_character(text):
    lines = chart_data.wrap_label(text, 18)
    assert all(len(line) <= 18 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_label_breaks_after_separators():
    assert chart_data.wrap_label(LONG, 18)[0] == "vit_base_patch16_"


def test_learning_curves_leave_out_failed_and_mark_the_best():
    trials = _sweep()
    curves = chart_data.learning_curves(trials, trials[2])
    assert [c.trial_id for c in curves] == ["trial_0000", "trial_0001", "trial_0002", "trial_0004"]
    assert [c.is_best for c in curves] == [False, False, True, False]
    assert curves[1].stopped and curves[1].steps == (1, 2) and curves[1].values == (0.2, 0.25)


def test_best_so_far_in_start_order():
    data = chart_data.best_so_far(_sweep(), PrimaryMetricGoal.MAXIMIZE)
    assert [(i, v) for i, v, _ in data.points] == [(0, 0.8), (1, 0.25), (2, 0.9), (4, 0.6)]
    assert data.best == ((0, 0.8), (1, 0.8), (2, 0.9), (3, 0.9), (4, 0.9))
    assert data.failed == (3,)


def test_parallel_coordinates_colour_is_the_metric_over_its_range():
    data = chart_data.parallel_coordinates(_sweep(), "accuracy")
    assert [a.name for a in data.axes] == ["lr", "model", "accuracy"]
    assert data.trial_ids == ("trial_0000", "trial_0001", "trial_0002", "trial_0004")
    assert data.metric_range == (0.25, 0.9)
    assert data.colors == pytest.approx([(0.8 - 0.25) / 0.65, 0.0, 1.0, (0.6 - 0.25) / 0.65])
    model = data.axes[1]
    assert {label for _, label in model.ticks} == {LONG, "resnet18"}  # full names, not cut


def test_importance_falls_back_on_report_counts():
    stopped = [_trial(i, ["a", "b"][i % 2], TrialStatus.STOPPED, [0.1 * i, 0.2 * i]) for i in
               range(5)]  # fmt: skip
    data = chart_data.importance(stopped, PrimaryMetricGoal.MAXIMIZE)
    assert data.has_data and "at report 2" in data.basis


@pytest.fixture
def drawn(monkeypatch, tmp_path) -> dict[str, object]:
    """The matplotlib figures ``save_plots`` draws, by file name."""
    figures: dict[str, object] = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.__setitem__(path.stem, fig))
    trials = _sweep()
    plots.save_plots(trials, PrimaryMetricGoal.MAXIMIZE, "accuracy", tmp_path, trials[2])
    return figures


@pytest.mark.parametrize("name", ["learning_curves", "best_so_far"])
def test_png_x_axes_have_whole_number_ticks(drawn, name):
    ax = drawn[name].axes[0]
    locator = ax.xaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)
    ticks = locator.tick_values(1, 3)
    assert all(float(t).is_integer() for t in ticks)


def test_png_parallel_coordinates_has_a_colour_bar_and_whole_labels(drawn):
    fig = drawn["parallel_coordinates"]
    assert len(fig.axes) == 2  # the plot and its colour bar
    bar = fig.axes[1]
    assert "accuracy" in bar.get_ylabel() and "0.25" in bar.get_ylabel()
    assert bar.get_ylim() == pytest.approx((0.25, 0.9))
    texts = [t.get_text().replace("\n", "") for t in fig.axes[0].texts]
    assert LONG in texts


def test_png_importance_draws_the_shared_scores(drawn):
    ax = drawn["parameter_importance"].axes[0]
    widths = sorted(p.get_width() for p in ax.patches)
    scores = chart_data.parameter_importance(_sweep(), PrimaryMetricGoal.MAXIMIZE)
    assert widths == pytest.approx(sorted(scores.values()))
    assert not math.isnan(sum(widths))
