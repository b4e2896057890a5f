"""A benchmark's two plots, saved as PNG files under ``OUT/plots/``.

- ``benchmark_metrics.png``: per dataset (a band with its name), one panel per metric (the
  primary metric first, its goal in the panel's title), each method a dot at its mean with its
  confidence interval as a bar; the best mean is a larger diamond. Methods are rows (their names
  wrapped, never cut) in the same order and colour on every panel.
- ``per_class_ap.png``: per dataset, a heat map of the mean test AP of each method (rows) and
  class (columns) on a fixed 0..1 colour scale with a colour bar; the value is written in each
  cell that is wide enough, in black or white by the shade; a grey cell has no value.

The numbers come from ``benchmark_chart_data.py``, the same functions the dashboard's benchmark
charts use; this module only draws them (matplotlib ``Figure`` objects, no pyplot state).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.reporting.benchmark_chart_data import (
    HeatMap,
    MetricPanel,
    heat_maps,
    interval_panels,
    method_colour,
)
from automl_vision.reporting.chart_data import wrap_label
from automl_vision.reporting.leaderboard import Leaderboard
from automl_vision.storage import write_atomically

__all__ = ["METRICS_PNG", "PER_CLASS_PNG", "write_benchmark_plots"]

METRICS_PNG = "benchmark_metrics.png"
PER_CLASS_PNG = "per_class_ap.png"
_COLORMAP = "viridis"
_MISSING = "#d9d9d9"
DPI = 110
#: panels side by side in one row of a dataset's band
PANELS_PER_ROW = 4
#: the widest a per-class figure grows (inches); past it the cells narrow and lose their text
MAX_WIDTH = 22.0
#: inches a cell needs to hold its value at the cell font size
CELL_TEXT_WIDTH = 0.36
LABEL_CHARS = 22


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # lazy: matplotlib only when plots are drawn

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return write_atomically(path, buffer.getvalue())


def _wrapped(text: str, chars: int = LABEL_CHARS) -> str:
    return "\n".join(wrap_label(text, chars))


def _label_lines(names: list[str], chars: int = LABEL_CHARS) -> int:
    return max((len(wrap_label(n, chars)) for n in names), default=1)


# -- metrics with intervals ----------------------------------------------------------------------


def _panel(ax: Any, panel: MetricPanel, show_names: bool) -> None:
    n = len(panel.points)
    for i, p in enumerate(panel.points):
        y = n - 1 - i  # the first method on top
        colour = method_colour(i)
        if not p.has_value:
            ax.text(
                0.5,
                y,
                "no value",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                fontsize=7,
                color="#777777",
            )
            continue
        if math.isfinite(p.ci_low) and math.isfinite(p.ci_high):
            ax.plot([p.ci_low, p.ci_high], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
            ax.plot([p.ci_low, p.ci_low], [y - 0.12, y + 0.12], color=colour, lw=1.2)
            ax.plot([p.ci_high, p.ci_high], [y - 0.12, y + 0.12], color=colour, lw=1.2)
        ax.plot(
            p.mean,
            y,
            "D" if p.best else "o",
            color=colour,
            ms=8 if p.best else 5.5,
            mec="black" if p.best else colour,
            mew=0.8,
            zorder=3,
        )
        ax.annotate(
            panel.value_text(p.mean),
            (p.mean, y),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            fontweight="bold" if p.best else "normal",
        )
    ax.set_ylim(-0.6, n - 0.35)
    ax.set_xlim(*panel.value_range)
    ax.set_yticks(range(n))
    names = [_wrapped(p.method) for p in reversed(panel.points)]
    ax.set_yticklabels(names if show_names else [""] * n, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    title = f"{panel.metric} (primary)" if panel.primary else panel.metric
    ax.set_title(
        f"{title}\n{panel.goal_text}", fontsize=9, fontweight="bold" if panel.primary else "normal"
    )


def _metrics_figure(board: Leaderboard, path: Path) -> Path:
    panels = interval_panels(board)
    if not panels:
        fig = _figure(6, 2)
        fig.text(0.5, 0.5, "the leaderboard has no rows", ha="center")
        return _save(fig, path)
    methods = max(len(p[0].points) for p in panels.values())
    lines = max(_label_lines([pt.method for pt in p[0].points]) for p in panels.values())
    columns = min(PANELS_PER_ROW, max(len(p) for p in panels.values()))
    name_width = 0.3 + 0.075 * min(
        LABEL_CHARS, max(len(pt.method) for p in panels.values() for pt in p[0].points)
    )
    row_height = 0.75 + max(0.3 * methods, 0.16 * methods * lines)
    heights = [math.ceil(len(p) / columns) * row_height + 0.45 for p in panels.values()]
    fig = _figure(name_width + 3.0 * columns, sum(heights))
    subfigs = fig.subfigures(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for sub, (dataset, dataset_panels) in zip(subfigs, panels.items(), strict=True):
        rows = math.ceil(len(dataset_panels) / columns)
        axes = sub.subplots(rows, columns, squeeze=False)
        sub.suptitle(
            f"{dataset}: mean and confidence interval on the test split (◆ best mean)",
            fontsize=11,
            fontweight="bold",
            ha="left",
            x=0.01,
        )
        sub.set_facecolor("#f7f7f7")
        for k, ax in enumerate(axes.flat):
            if k < len(dataset_panels):
                _panel(ax, dataset_panels[k], show_names=k % columns == 0)
            else:
                ax.set_visible(False)
    return _save(fig, path)


# -- per-class heat map ---------------------------------------------------------------------------


def _class_rotation(cell_width: float, classes: tuple[str, ...]) -> int:
    """Class names level when the widest (wrapped at 14) fits its cell, at 45° while a cell is
    wide enough for slanted lines to clear each other, else upright."""
    widest = max(len(line) for c in classes for line in wrap_label(c, 14))
    if cell_width >= 0.075 * widest:
        return 0
    return 45 if cell_width >= 0.2 else 90


def _class_font(cell_width: float) -> float:
    """8 pt, smaller in narrow cells (a name's line height must fit a cell's width), 5 at least."""
    return max(5.0, min(8.0, cell_width * 72 * 0.85))


def _heat_map(sub: Any, data: HeatMap, cell_width: float) -> None:
    from matplotlib import colormaps  # lazy: as above

    cmap = colormaps[_COLORMAP].with_extremes(bad=_MISSING)
    grid = np.array(data.values, dtype=float)
    shown = np.ma.masked_invalid(grid)
    ax = sub.subplots()
    lo, hi = data.value_range
    image = ax.imshow(shown, cmap=cmap, vmin=lo, vmax=hi, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(data.methods)), [_wrapped(m) for m in data.methods], fontsize=8)
    rotation = _class_rotation(cell_width, data.classes)
    ax.set_xticks(
        range(len(data.classes)),
        [_wrapped(c, 14) if rotation == 0 else c for c in data.classes],
        rotation=rotation,
        ha="center" if rotation == 0 else "right",
        va="top" if rotation != 90 else "center",
        rotation_mode="anchor",
        fontsize=_class_font(cell_width),
    )
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(-0.5, len(data.classes)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(data.methods)), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if cell_width >= CELL_TEXT_WIDTH:
        for i, row in enumerate(data.values):
            for j, value in enumerate(row):
                ax.text(
                    j,
                    i,
                    data.value_text(value),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=data.text_colour(value),
                )
    bar = sub.colorbar(image, ax=ax, fraction=0.05, pad=0.01, aspect=12)
    bar.set_label(f"{data.label}\n(grey: no value)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    sub.suptitle(f"{data.dataset}: {data.label}", fontsize=11, fontweight="bold", ha="left", x=0.01)


def _per_class_figure(board: Leaderboard, path: Path) -> Path:
    maps = [m for m in heat_maps(board) if m.has_data]
    if not maps:
        fig = _figure(6, 2)
        fig.text(0.5, 0.5, "the leaderboard has no per-class AP", ha="center")
        return _save(fig, path)
    classes = max(len(m.classes) for m in maps)
    longest_method = min(LABEL_CHARS, max(len(x) for m in maps for x in m.methods))
    name_width = 0.3 + 0.075 * longest_method
    cell_width = min(0.6, (MAX_WIDTH - name_width - 1.3) / classes)
    width = name_width + 1.3 + cell_width * classes
    names = tuple(c for m in maps for c in m.classes)
    longest_class = max(len(c) for c in names)
    slant = {0: 0.0, 45: 0.71, 90: 1.0}[_class_rotation(cell_width, names)]
    if slant:
        label_height = 0.3 + 0.075 * longest_class * slant * _class_font(cell_width) / 8
    else:
        label_height = 0.3 + 0.16 * max(len(wrap_label(c, 14)) for c in names)
    heights = [
        0.6
        + label_height
        + max(1.4, max(0.4, 0.16 * _label_lines(list(m.methods))) * len(m.methods))
        for m in maps
    ]
    fig = _figure(max(width, 6.0), sum(heights))
    subfigs = fig.subfigures(len(maps), 1, height_ratios=heights, squeeze=False)[:, 0]
    for sub, data in zip(subfigs, maps, strict=True):
        _heat_map(sub, data, cell_width)
    return _save(fig, path)


def write_benchmark_plots(board: Leaderboard, out_dir: str | Path) -> list[Path]:
    """Write ``out_dir/plots/benchmark_metrics.png`` and ``out_dir/plots/per_class_ap.png``
    (each atomically; ``plots/`` made if missing); return their paths."""
    folder = Path(out_dir) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _metrics_figure(board, folder / METRICS_PNG),
        _per_class_figure(board, folder / PER_CLASS_PNG),
    ]
