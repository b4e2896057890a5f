"""The numbers behind a benchmark's two charts, computed once for the PNG plots and the dashboard.

``benchmark_plots.py`` (matplotlib) and ``dashboard/svg.py`` (SVG text) only draw what these
functions return, so the PNG and the page never disagree:

- ``interval_panels``: per dataset, one ``MetricPanel`` per metric (the primary metric first),
  each method a point at its mean with its confidence interval, the methods in the same order
  on every panel, the best mean (by the metric's goal) marked, and the value range to draw.
- ``heat_maps``: per dataset, methods (rows) × classes (columns) of the mean per-class AP
  (or F1), each cell's shade on a fixed 0..1 scale (both metrics lie in [0, 1], so a colour means
  the same on every dataset) and the text colour that stays readable on it.

Pure Python; nothing here draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from automl_vision.reporting.leaderboard import ClassMetric, Leaderboard, goal_text
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "METHOD_COLOURS",
    "HeatMap",
    "IntervalPoint",
    "MetricPanel",
    "heat_maps",
    "interval_panels",
    "method_colour",
]

#: one colour per method (in the board's method order), the same in the PNG and the page
METHOD_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)
#: part of the drawn value range added on each side, so a point never sits on the frame
MARGIN = 0.08
#: shades at or above this are light (viridis turns yellow-green): their text is dark
LIGHT_SHADE = 0.6


def method_colour(index: int) -> str:
    return METHOD_COLOURS[index % len(METHOD_COLOURS)]


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass(frozen=True)
class IntervalPoint:
    """One method on one panel: its mean and interval (NaN: no value), and whether its mean is
    the best by the metric's goal (ties: each)."""

    method: str
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    best: bool

    @property
    def has_value(self) -> bool:
        return math.isfinite(self.mean)


@dataclass(frozen=True)
class MetricPanel:
    """One metric of one dataset: a point per method (the board's method order) and the value
    range to draw (every finite mean and bound, widened by ``MARGIN`` on each side)."""

    dataset: str
    metric: str
    goal: PrimaryMetricGoal
    primary: bool
    points: tuple[IntervalPoint, ...]
    value_range: tuple[float, float]

    @property
    def goal_text(self) -> str:
        return goal_text(self.goal)

    @property
    def title(self) -> str:
        """``metric (primary) — higher is better``: the axis title; the goal is always in it."""
        name = f"{self.metric} (primary)" if self.primary else self.metric
        return f"{name} — {self.goal_text}"

    @property
    def has_data(self) -> bool:
        return any(p.has_value for p in self.points)

    @property
    def decimals(self) -> int:
        """Decimals that tell the panel's points apart: about three significant digits of the
        drawn range (0.601 on a 0.55..0.85 panel, 3.004 on a 2.2..3.0 one)."""
        lo, hi = self.value_range
        span = hi - lo
        if not (math.isfinite(span) and span > 0):
            return 3
        return max(0, min(6, 2 - math.floor(math.log10(span))))

    def value_text(self, value: float) -> str:
        """``value`` with the panel's ``decimals`` (``-`` for none)."""
        return f"{value:.{self.decimals}f}" if math.isfinite(value) else "-"


def _value_range(points: list[IntervalPoint]) -> tuple[float, float]:
    values = [v for p in points for v in (p.mean, p.ci_low, p.ci_high) if math.isfinite(v)]
    if not values:
        return (0.0, 1.0)
    lo, hi = min(values), max(values)
    span = hi - lo
    if span <= 1e-12 * max(1.0, abs(hi)):
        pad = 0.05 * abs(hi) if hi else 0.5
        return (lo - pad, hi + pad)
    return (lo - MARGIN * span, hi + MARGIN * span)


def interval_panels(board: Leaderboard) -> dict[str, list[MetricPanel]]:
    """``{dataset: [panel per metric, the primary first]}`` in the board's dataset order."""
    out: dict[str, list[MetricPanel]] = {}
    for dataset in board.datasets():
        table = board.table(dataset)
        panels = []
        for i, metric in enumerate(board.metrics(dataset)):
            best = board.best_methods(dataset, metric)
            points = []
            for method, cells in table.items():
                row = cells.get(metric)
                if row is None:
                    points.append(IntervalPoint(method, math.nan, math.nan, math.nan, 0, False))
                else:
                    points.append(
                        IntervalPoint(
                            method, row.mean, row.ci_low, row.ci_high, row.n_seeds, method in best
                        )
                    )
            panels.append(
                MetricPanel(
                    dataset=dataset,
                    metric=metric,
                    goal=board.goal(dataset, metric),
                    primary=i == 0,
                    points=tuple(points),
                    value_range=_value_range(points),
                )
            )
        out[dataset] = panels
    return out


@dataclass(frozen=True)
class HeatMap:
    """Methods (rows) × classes (columns) of one dataset's mean per-class ``metric``; NaN where
    a cell has no value (a class without a positive test image, or no row)."""

    dataset: str
    metric: ClassMetric
    methods: tuple[str, ...]
    classes: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    intervals: tuple[tuple[tuple[float, float], ...], ...]
    value_range: tuple[float, float] = (0.0, 1.0)

    @property
    def has_data(self) -> bool:
        return any(math.isfinite(v) for row in self.values for v in row)

    @property
    def label(self) -> str:
        """What the colour means, for the colour bar: ``mean AP (test)``."""
        return f"mean {self.metric.value.upper()} per class (test)"

    def shade(self, value: float) -> float:
        """``value`` on the colour scale: 0..1 over ``value_range`` (clipped); NaN stays NaN."""
        if not math.isfinite(value):
            return math.nan
        lo, hi = self.value_range
        return min(max((value - lo) / (hi - lo), 0.0), 1.0)

    def value_text(self, value: float) -> str:
        """A cell's text: two decimals (``0.40``), ``–`` for no value."""
        return f"{value:.2f}" if math.isfinite(value) else "–"

    def text_colour(self, value: float) -> str:
        """Black on a light shade, white on a dark one (and black on the grey of no value)."""
        t = self.shade(value)
        return "#000000" if not math.isfinite(t) or t >= LIGHT_SHADE else "#ffffff"


def heat_maps(board: Leaderboard, metric: ClassMetric = ClassMetric.AP) -> list[HeatMap]:
    """One ``HeatMap`` per dataset with per-class rows of ``metric``, in the board's dataset
    order; methods in the board's order (then any that have per-class rows only)."""
    out = []
    for dataset in dict.fromkeys([*board.datasets(), *(r.dataset for r in board.per_class)]):
        rows = [r for r in board.per_class if r.dataset == dataset and r.metric == metric]
        if not rows:
            continue
        classes = tuple(board.classes(dataset, metric))
        methods = tuple(dict.fromkeys([*board.methods(dataset), *(r.method for r in rows)]))
        cell = {(r.method, r.class_name): r for r in rows}
        methods = tuple(m for m in methods if any((m, c) in cell for c in classes))
        values = []
        intervals = []
        for m in methods:
            found = [cell.get((m, c)) for c in classes]
            values.append(tuple(r.mean if r else math.nan for r in found))
            intervals.append(
                tuple((r.ci_low, r.ci_high) if r else (math.nan, math.nan) for r in found)
            )
        out.append(HeatMap(dataset, metric, methods, classes, tuple(values), tuple(intervals)))
    return out
