"""Plots a person would look at after a sweep, saved as PNG files.

- ``learning_curves.png``: the primary metric per report for every trial; stopped trials end in
  a cross, the best trial is drawn thick; whole epochs on the x axis.
- ``best_so_far.png``: each trial's value in start order and the best value so far.
- ``parallel_coordinates.png``: one axis per parameter plus the metric, one line per trial,
  coloured by the metric (a colour bar gives its range); long values are wrapped, never cut.
- ``parameter_importance.png``: how much of the variation of the metric each parameter explains
  on its own (correlation ratio eta² on comparable values; the plot says which).
- ``pareto.png`` and ``hypervolume.png``, only for a sweep with two or more objectives: each
  completed trial's first cost against its trained metric, the front joined as a step line and
  its trials labelled, dominated trials grey, trials breaking a constraint hollow, constraints
  as dashed red lines; the hypervolume after each completed trial, its reference point stated.

The numbers come from ``chart_data.py``, the same functions the dashboard's charts use; this
module only draws them. matplotlib is used through ``Figure`` objects only (no pyplot state),
with the Agg backend.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.reporting.chart_data import (
    ParetoData,
    best_so_far,
    importance,
    learning_curves,
    parallel_coordinates,
    pareto_chart,
    wrap_label,
)
from automl_vision.storage import write_atomically
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["save_plots"]

_COLORS = {
    TrialStatus.COMPLETED: "#1f77b4",
    TrialStatus.STOPPED: "#ff7f0e",
    TrialStatus.FAILED: "#d62728",
}
_BEST_COLOR = "#2ca02c"
_DOMINATED_COLOR = "#9a9a9a"
_FAILED_COLOR = "#d62728"
_COLORMAP = "viridis"


def _figure(width: float = 8, height: float = 5) -> Any:
    from matplotlib.figure import Figure  # lazy: matplotlib only when plots are drawn

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _integer_x(ax: Any) -> None:
    """Whole-number ticks only on the x axis (epochs, trial numbers: never 1.75)."""
    from matplotlib.ticker import MaxNLocator  # lazy: as above

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _learning_curves(trials: Sequence[Trial], metric: str, best: Trial | None, path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    for curve in learning_curves(trials, best):
        ax.plot(
            curve.steps,
            curve.values,
            color=_BEST_COLOR if curve.is_best else _COLORS.get(curve.status, "#7f7f7f"),
            lw=2.5 if curve.is_best else 1.0,
            alpha=1.0 if curve.is_best else 0.6,
            label=f"best: {curve.trial_id}" if curve.is_best else None,
        )
        if curve.stopped:
            ax.plot(
                curve.steps[-1],
                curve.values[-1],
                "x",
                color=_COLORS[TrialStatus.STOPPED],
                ms=7,
                mew=2,
            )
    ax.plot([], [], color=_COLORS[TrialStatus.COMPLETED], label="completed")
    ax.plot([], [], "x-", color=_COLORS[TrialStatus.STOPPED], label="stopped early (x)")
    ax.set(xlabel="report (epoch)", ylabel=metric, title="Learning curves of all trials")
    _integer_x(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def _best_so_far(trials: Sequence[Trial], metric: str, goal: PrimaryMetricGoal, path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    data = best_so_far(trials, goal)
    for index, value, status in data.points:
        ax.scatter(index, value, color=_COLORS[status], s=20, zorder=3)
    if data.failed and data.best:
        ax.scatter(
            data.failed,
            [min(v for _, v in data.best)] * len(data.failed),
            marker="v",
            color=_COLORS[TrialStatus.FAILED],
            label="failed",
        )
    ax.step(
        [i for i, _ in data.best],
        [v for _, v in data.best],
        where="post",
        color=_BEST_COLOR,
        lw=2,
        label="best so far",
    )
    ax.scatter([], [], color=_COLORS[TrialStatus.COMPLETED], label="completed")
    ax.scatter([], [], color=_COLORS[TrialStatus.STOPPED], label="stopped early")
    ax.set(xlabel="trial", ylabel=metric, title=f"Best {metric} so far ({goal.value})")
    _integer_x(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def _parallel_coordinates(trials: Sequence[Trial], metric: str, path: Path) -> None:
    data = parallel_coordinates(trials, metric)
    fig = _figure(max(6, 1.8 * (len(data.axes) + 1)), 5)
    ax = fig.subplots()
    if not data.has_data:
        ax.text(0.5, 0.5, "no trial with a value yet", ha="center")
        _save(fig, path)
        return
    from matplotlib import colormaps  # lazy: as above
    from matplotlib.cm import ScalarMappable  # lazy: as above
    from matplotlib.colors import Normalize  # lazy: as above

    cmap = colormaps[_COLORMAP]
    grid = np.array([axis.positions for axis in data.axes], dtype=float).T  # trials x axes
    for i in np.argsort(data.colors):
        ax.plot(range(len(data.axes)), grid[i], color=cmap(data.colors[i]), alpha=0.7)
    for x, axis in enumerate(data.axes):
        ax.axvline(x, color="black", lw=0.8)
        for y, label in axis.ticks:
            ax.text(x + 0.03, y, "\n".join(wrap_label(label)), fontsize=7, va="center")
    ax.set_xticks(
        range(len(data.axes)),
        ["\n".join(wrap_label(a.name)) for a in data.axes],
        rotation=20,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    lo, hi = data.metric_range
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    bar = fig.colorbar(ScalarMappable(norm=Normalize(lo, hi), cmap=cmap), ax=ax, pad=0.02)
    bar.set_label(f"colour = {metric} ({lo:.3g} to {hi:.3g})")
    ax.set_title(f"Parallel coordinates (colour = {metric})")
    _save(fig, path)


def _importance(trials: Sequence[Trial], goal: PrimaryMetricGoal, metric: str, path: Path) -> None:
    data = importance(trials, goal)
    fig = _figure(7, max(2.5, 0.45 * len(data.scores) + 1.2))
    ax = fig.subplots()
    if data.has_data:
        names = list(data.scores)[::-1]
        ax.barh(
            ["\n".join(wrap_label(n, 24)) for n in names],
            [data.scores[n] for n in names],
            color="#1f77b4",
        )
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"eta² of {metric} (correlation ratio, per parameter; need not sum to 1)")
    else:
        ax.text(0.5, 0.5, "needs 3+ comparable trials and a varying parameter", ha="center")
        ax.set_yticks([])
    ax.set_title(f"Parameter importance\n{data.basis}", fontsize=10)
    _save(fig, path)


def _pareto(data: ParetoData, path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    grey = [p for p in data.points if not p.on_front and p.feasible]
    if grey:
        ax.scatter(
            [p.x for p in grey],
            [p.y for p in grey],
            color=_DOMINATED_COLOR,
            s=28,
            label="dominated",
            zorder=2,
        )
    broken = [p for p in data.points if not p.feasible]
    if broken:
        ax.scatter(
            [p.x for p in broken],
            [p.y for p in broken],
            facecolors="none",
            edgecolors=_DOMINATED_COLOR,
            s=28,
            label="breaks a constraint",
            zorder=2,
        )
    if data.front:
        xs, ys = [p.x for p in data.front], [p.y for p in data.front]
        ax.step(xs, ys, where="post", color=_BEST_COLOR, lw=1.8, zorder=3)
        ax.scatter(
            xs,
            ys,
            color=_BEST_COLOR,
            s=46,
            edgecolors="black",
            linewidths=0.6,
            label="Pareto front",
            zorder=4,
        )
        for p in data.front:
            ax.annotate(
                p.trial_id,
                (p.x, p.y),
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=7,
                zorder=5,
            )
    for line in data.constraints:
        draw = ax.axvline if line.axis == "x" else ax.axhline
        draw(line.value, color=_FAILED_COLOR, ls="--", lw=1.2, label=line.label)
    if not data.has_data:
        ax.text(0.5, 0.5, "no completed trial yet", ha="center", transform=ax.transAxes)
    ax.set(
        xlabel=data.xlabel,
        ylabel=data.ylabel,
        title=f"Pareto front: {data.y_name} against {data.x_name}",
    )
    ax.grid(alpha=0.3)
    if data.has_data or data.constraints:
        ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def _hypervolume(data: ParetoData, path: Path) -> None:
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    if data.hypervolume:
        ax.step(
            [n for n, _ in data.hypervolume],
            [v for _, v in data.hypervolume],
            where="post",
            color=_BEST_COLOR,
            lw=2,
            marker="o",
            ms=4,
        )
    else:
        ax.text(0.5, 0.5, "no completed trial yet", ha="center", transform=ax.transAxes)
    ax.set(xlabel="completed trials (in order of completion)", ylabel="hypervolume")
    ax.set_title("Hypervolume against trials\n" + data.reference_text, fontsize=9)
    _integer_x(ax)
    ax.grid(alpha=0.3)
    _save(fig, path)


def save_plots(
    trials: Sequence[Trial],
    goal: PrimaryMetricGoal,
    metric: str,
    directory: str | Path,
    best: Trial | None,
    settings: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the PNG plots into ``directory``; return their paths. ``settings``: the sweep's
    recorded settings; with two or more ``objectives`` there, ``pareto.png`` and
    ``hypervolume.png`` are written too (never for a single-objective sweep)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "learning_curves": directory / "learning_curves.png",
        "best_so_far": directory / "best_so_far.png",
        "parallel_coordinates": directory / "parallel_coordinates.png",
        "parameter_importance": directory / "parameter_importance.png",
    }
    _learning_curves(trials, metric, best, paths["learning_curves"])
    _best_so_far(trials, metric, goal, paths["best_so_far"])
    _parallel_coordinates(trials, metric, paths["parallel_coordinates"])
    _importance(trials, goal, metric, paths["parameter_importance"])
    front = pareto_chart(trials, settings or {}, metric, goal)
    if front is not None:
        paths["pareto"] = directory / "pareto.png"
        paths["hypervolume"] = directory / "hypervolume.png"
        _pareto(front, paths["pareto"])
        _hypervolume(front, paths["hypervolume"])
    return list(paths.values())


def _save(fig: Any, path: Path) -> None:
    """The figure as PNG, written atomically (a kill never leaves a 0-byte plot)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_atomically(path, buffer.getvalue())
