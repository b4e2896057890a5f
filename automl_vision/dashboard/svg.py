"""Small SVG charts drawn as text (no plotting library, nothing fetched): lines, bars, axes.

A benchmark's charts (``interval_panel``, ``heat_map``) draw
``reporting.benchmark_chart_data``'s panels and heat maps, the numbers of its PNG plots. The
parallel coordinates draw ``reporting.chart_data.ParallelData``, the numbers the PNG plot
draws, coloured by the metric on the same colour scale (viridis) with a colour bar. Long labels
are wrapped onto several lines (``chart_data.wrap_label``) and carry their full text as a
``<title>`` (the browser's tooltip); nothing is cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from automl_vision.reporting.benchmark_chart_data import HeatMap, MetricPanel, method_colour
from automl_vision.reporting.chart_data import ParallelData, ParetoData, wrap_label

__all__ = [
    "Series",
    "bar_chart",
    "colour",
    "heat_map",
    "interval_panel",
    "line_chart",
    "parallel_coordinates",
    "pareto_charts",
]

PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
WIDTH, HEIGHT, PAD = 560, 260, 44
#: viridis at 0, 1/8, ..., 1 (matplotlib's colour map of the PNG plot), interpolated between
VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2C, 0x7A),
    (0x3B, 0x51, 0x8B),
    (0x2C, 0x71, 0x8E),
    (0x21, 0x90, 0x8D),
    (0x27, 0xAD, 0x81),
    (0x5C, 0xC8, 0x63),
    (0xAA, 0xDC, 0x32),
    (0xFD, 0xE7, 0x25),
)
#: characters of a wrapped label's line (10 px text: about 6 px a character)
LABEL_CHARS = 18
LINE_PX = 11


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]
    color: str = PALETTE[0]
    marker_last: bool = False  # a cross at the last point (a stopped trial)
    bold: bool = False
    step: bool = False
    dots: list[tuple[float, float]] = field(default_factory=list)
    dot_labels: list[str] = field(default_factory=list)  # text beside each dot (trial ids)
    dashed: bool = False


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
        if not hi > lo:  # too large a number for +-0.5 to change it
            lo, hi = lo - abs(lo), hi + abs(hi)
    return lo, hi


def colour(t: float) -> str:
    """The viridis colour of ``t`` in [0, 1] (clipped; NaN is the lowest) as ``#rrggbb``."""
    t = min(max(t, 0.0), 1.0) if math.isfinite(t) else 0.0
    where = t * (len(VIRIDIS) - 1)
    i = min(int(where), len(VIRIDIS) - 2)
    frac = where - i
    rgb = (round(a + (b - a) * frac) for a, b in zip(VIRIDIS[i], VIRIDIS[i + 1], strict=True))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _label(x: float, y: float, text: str, anchor: str = "middle", chars: int = LABEL_CHARS) -> str:
    """``text`` wrapped onto lines from ``y`` down, its full text as a tooltip."""
    lines = wrap_label(text, chars)
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE_PX}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="tk">'
        f"<title>{escape(text)}</title>{spans}</text>"
    )


def _ticks(lo: float, hi: float, integer: bool) -> list[float]:
    """About five tick values from ``lo`` to ``hi``; whole numbers only when ``integer``."""
    if not integer:
        return [lo + (hi - lo) * i / 4 for i in range(5)]
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if last < first:
        return []
    step = max(1, math.ceil((last - first) / 5))
    return [float(v) for v in range(first, last + 1, step)]


def _no_data(title: str) -> str:
    return _frame(
        title, f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data yet</text>'
    )


def _frame(title: str, body: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img"><title>{escape(title)}</title>'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{width / 2}" y="16" text-anchor="middle" class="ct">{escape(title)}</text>'
        f"{body}</svg>"
    )


def line_chart(
    title: str, series: Sequence[Series], xlabel: str, ylabel: str, *, integer_x: bool = False
) -> str:
    """Lines (and dots) on shared axes; ``integer_x``: whole-number x ticks (epochs, trials)."""
    xs = [x for s in series for x, _ in s.points + s.dots]
    ys = [y for s in series for _, y in s.points + s.dots]
    if not xs:
        return _no_data(title)
    x0, x1 = _bounds(xs)
    y0, y1 = _bounds(ys)
    left, right, top, bottom = PAD + 10, WIDTH - 12, 26, HEIGHT - PAD + 8

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    def py(y: float) -> float:
        return bottom - (y - y0) / (y1 - y0) * (bottom - top)

    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="ax"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="ax"/>',
    ]
    for yv in _ticks(y0, y1, integer=False):
        parts.append(
            f'<text x="{left - 4}" y="{py(yv) + 4:.1f}" text-anchor="end" class="tk">{_fmt(yv)}</text>'
        )
    for xv in _ticks(x0, x1, integer=integer_x):
        parts.append(
            f'<text x="{px(xv):.1f}" y="{bottom + 14}" text-anchor="middle" class="tk xt">{_fmt(xv)}</text>'
        )
    parts.append(
        f'<text x="{(left + right) / 2}" y="{HEIGHT - 4}" text-anchor="middle" class="tk">{escape(xlabel)}</text>'
    )
    parts.append(
        f'<text x="12" y="{(top + bottom) / 2}" text-anchor="middle" class="tk" '
        f'transform="rotate(-90 12 {(top + bottom) / 2})">{escape(ylabel)}</text>'
    )
    for s in series:
        pts = s.points
        if s.step and pts:
            stepped = [pts[0]]
            for x, y in pts[1:]:
                stepped += [(x, stepped[-1][1]), (x, y)]
            pts = stepped
        if pts:
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
            width = 3 if s.bold else 1.4
            dash = ' stroke-dasharray="5,3"' if s.dashed else ""
            parts.append(
                f'<polyline fill="none" stroke="{s.color}" stroke-width="{width}"{dash} '
                f'points="{coords}">'
                f"<title>{escape(s.label)}</title></polyline>"
            )
        for x, y in s.dots:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{s.color}"><title>{escape(s.label)}</title></circle>'
            )
        for (x, y), text in zip(s.dots, s.dot_labels, strict=False):
            parts.append(
                f'<text x="{px(x) + 4:.1f}" y="{py(y) - 5:.1f}" class="tk dotlabel">'
                f"{escape(text)}</text>"
            )
        if s.marker_last and s.points:
            x, y = px(s.points[-1][0]), py(s.points[-1][1])
            parts.append(
                f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" '
                f'stroke="#d62728" stroke-width="2" class="stopmark"><title>{escape(s.label)} stopped</title></path>'
            )
    return _frame(title, "".join(parts))


def bar_chart(title: str, bars: Sequence[tuple[str, float]], caption: str = "") -> str:
    """Horizontal bars from 0; labels wrapped (full text as a tooltip), ``caption`` under the
    title."""
    if not bars:
        return _no_data(title)
    chars = 28
    longest = max(len(line) for name, _ in bars for line in wrap_label(name, chars))
    left, right = min(40 + 6 * longest, 200), WIDTH - 50
    top_value = max(abs(v) for _, v in bars) or 1.0
    parts = []
    if caption:
        parts.append(
            f'<text x="{WIDTH / 2}" y="30" text-anchor="middle" class="tk">{escape(caption)}</text>'
        )
    y = 40
    for label, value in bars:
        lines = len(wrap_label(label, chars))
        row = max(22, LINE_PX * lines + 8)
        w = (right - left) * abs(value) / top_value
        parts.append(_label(left - 6, y + 12, label, anchor="end", chars=chars))
        parts.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="16" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
        )
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" class="tk">{_fmt(value)}</text>')
        y += row
    return _frame(title, "".join(parts), height=y + 10)


def parallel_coordinates(title: str, data: ParallelData, metric: str) -> str:
    """One vertical axis per ``data.axes`` (the metric last), a line per trial coloured by the
    metric, and a colour bar saying what the colour means (the metric, its range)."""
    if not data.has_data or not data.axes:
        return _no_data(title)
    n = len(data.axes)
    name_lines = max(len(wrap_label(a.name)) for a in data.axes)
    legend = 90  # the colour bar and its labels, right of the last axis's tick labels
    width = max(WIDTH, 130 * n + legend + 40)
    left, right = 40, width - legend - 110
    top, bottom = 34, HEIGHT - 30
    height = HEIGHT + LINE_PX * (name_lines - 1)
    step = (right - left) / max(n - 1, 1)

    def py(t: float) -> float:
        return bottom - t * (bottom - top)

    parts = []
    for i, axis in enumerate(data.axes):
        x = left + i * step
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="ax"/>')
        parts.append(_label(x, bottom + 16, axis.name))
        for t, text in axis.ticks:
            # a label of several lines hangs down from the top, stands on the bottom, and is
            # centred on its value between them: it never runs past the axis's ends
            extra = LINE_PX * (len(wrap_label(text)) - 1)
            y = py(t) + 3 - extra * (1 - t)
            parts.append(_label(x + 4, y, text, anchor="start"))
    order = sorted(range(len(data.trial_ids)), key=lambda k: data.colors[k])
    for k in order:
        coords = [
            (left + i * step, py(axis.positions[k]))
            for i, axis in enumerate(data.axes)
            if math.isfinite(axis.positions[k])
        ]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<polyline class="pl" fill="none" stroke="{colour(data.colors[k])}" '
            f'stroke-opacity="0.8" stroke-width="1.5" points="{pts}">'
            f"<title>{escape(data.trial_ids[k])}</title></polyline>"
        )
    parts.append(_colour_bar(width - legend + 10, top, bottom, data.metric_range, metric))
    return _frame(title, "".join(parts), width=width, height=height)


def _colour_bar(x: float, top: float, bottom: float, span: tuple[float, float], metric: str) -> str:
    """A vertical bar of the colour scale, the metric's highest value at its top."""
    steps = 16
    h = (bottom - top) / steps
    lo, hi = span
    parts = [
        f'<rect x="{x:.1f}" y="{bottom - (i + 1) * h:.1f}" width="14" height="{h + 0.5:.1f}" '
        f'fill="{colour((i + 0.5) / steps)}"/>'
        for i in range(steps)
    ]
    parts.append(f'<text x="{x + 18:.1f}" y="{top + 8:.1f}" class="tk">{_fmt(hi)}</text>')
    parts.append(f'<text x="{x + 18:.1f}" y="{bottom:.1f}" class="tk">{_fmt(lo)}</text>')
    parts.append(_label(x + 7, bottom + 16, f"colour = {metric}", chars=14))
    return (
        f'<g class="colourbar"><title>colour = {escape(metric)}, from {_fmt(lo)} '
        f"to {_fmt(hi)}</title>{''.join(parts)}</g>"
    )


# -- a benchmark's charts ------------------------------------------------------------------------


def _round_ticks(lo: float, hi: float, most: int = 5) -> list[tuple[float, str]]:
    """At most ``most`` ticks inside [lo, hi] at a round step (1, 2 or 5 times a power of ten),
    each with as many decimals as the step needs (0.60 0.65 0.70, not 0.553 0.625)."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return []
    power = 10.0 ** math.floor(math.log10(span / most))
    step = next(k * power for k in (1, 2, 5, 10) if span / (k * power) <= most)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    first = math.ceil(lo / step - 1e-9)
    out = []
    k = first
    while k * step <= hi + 1e-9 * step:
        out.append((k * step, f"{k * step:.{decimals}f}"))
        k += 1
    return out


def interval_panel(panel: MetricPanel) -> str:
    """One metric of a benchmark: a row per method (its name wrapped on the left), a dot at the
    mean and a bar over the confidence interval, the best mean a larger diamond with its value
    in bold; the goal is in the title ("higher is better")."""
    names = [p.method for p in panel.points]
    lines = [len(wrap_label(n)) for n in names]
    longest = max((len(line) for n in names for line in wrap_label(n)), default=4)
    left = 16 + 6 * min(longest, LABEL_CHARS)
    width = left + 230
    right = width - 16
    top = 44
    rows = [max(30, LINE_PX * k + 14) for k in lines]
    bottom = top + sum(rows)
    height = bottom + 30
    lo, hi = panel.value_range

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    title = f"{panel.metric} (primary)" if panel.primary else panel.metric
    parts = [
        f'<text x="{width / 2}" y="32" text-anchor="middle" class="tk">'
        f"{escape(panel.goal_text)}</text>",
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="ax"/>',
    ]
    for v, text in _round_ticks(lo, hi):
        x = px(v)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" class="tk">{text}</text>'
        )
    y0 = top
    for i, (p, row) in enumerate(zip(panel.points, rows, strict=True)):
        y = y0 + row / 2 + 4
        parts.append(_label(left - 6, y - LINE_PX * (lines[i] - 1) / 2 + 3, p.method, "end"))
        colour_ = method_colour(i)
        if not p.has_value:
            parts.append(
                f'<text x="{(left + right) / 2}" y="{y + 3:.1f}" text-anchor="middle" '
                f'class="tk">no value</text>'
            )
        else:
            tip = escape(
                f"{p.method}: {panel.value_text(p.mean)} [{panel.value_text(p.ci_low)}, "
                f"{panel.value_text(p.ci_high)}], {p.n_seeds} seeds"
            )
            if math.isfinite(p.ci_low) and math.isfinite(p.ci_high):
                a, b = px(p.ci_low), px(p.ci_high)
                parts.append(
                    f'<path d="M{a:.1f},{y:.1f}H{b:.1f}M{a:.1f},{y - 4:.1f}V{y + 4:.1f}'
                    f'M{b:.1f},{y - 4:.1f}V{y + 4:.1f}" stroke="{colour_}" stroke-width="2" '
                    f'fill="none"><title>{tip}</title></path>'
                )
            x = px(p.mean)
            if p.best:
                parts.append(
                    f'<path d="M{x:.1f},{y - 6:.1f}L{x + 6:.1f},{y:.1f}L{x:.1f},{y + 6:.1f}'
                    f'L{x - 6:.1f},{y:.1f}Z" fill="{colour_}" stroke="#000" class="best">'
                    f"<title>{tip} (best)</title></path>"
                )
            else:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour_}">'
                    f"<title>{tip}</title></circle>"
                )
            weight = ' font-weight="bold"' if p.best else ""
            parts.append(
                f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" class="tk"{weight}>'
                f"{panel.value_text(p.mean)}</text>"
            )
        y0 += row
    return _frame(title, "".join(parts), width=width, height=height)


#: widest and narrowest heat-map cell (px); a cell this wide or wider holds its value as text
CELL_MAX, CELL_MIN, CELL_TEXT = 46, 13, 30
#: narrowest cell whose class name may be slanted (45°) without running into its neighbour's;
#: narrower cells get upright names (a 10 px line needs about 12 px side by side)
CELL_SLANT = 20
HEAT_WIDTH = 960


def heat_map(data: HeatMap) -> str:
    """Methods (rows) × classes (columns), each cell shaded by its value on the viridis scale
    of ``data.value_range`` (grey: no value), its value written in it when the cell is wide
    enough (black or white by the shade), every cell's value and interval as a tooltip; class
    names under the columns (slanted when the cells are narrow), a colour bar on the right."""
    if not data.has_data:
        return _no_data(f"{data.dataset}: {data.label}")
    longest = max(len(line) for m in data.methods for line in wrap_label(m))
    left = 16 + 6 * min(longest, LABEL_CHARS)
    legend = 110
    n = len(data.classes)
    cell = max(CELL_MIN, min(CELL_MAX, (HEAT_WIDTH - left - legend) / n))
    row_px = max(26, LINE_PX * max(len(wrap_label(m)) for m in data.methods) + 10)
    rows = [row_px] * len(data.methods)  # one height for every row: a grid of equal cells
    top = 30
    bottom = top + sum(rows)
    longest_class = max(len(c) for c in data.classes)
    angle = 0 if cell >= 6 * longest_class + 4 else (45 if cell >= CELL_SLANT else 90)
    label_px = {0: 16, 45: 8 + 6 * longest_class * 0.72, 90: 8 + 6 * longest_class}[angle]
    width = int(left + cell * n + legend)
    height = int(max(bottom + label_px + 20, top + 80 + 16 + LINE_PX * 4 + 6))
    parts = []
    y = top
    for i, (method, row) in enumerate(zip(data.methods, rows, strict=True)):
        lines = len(wrap_label(method))
        parts.append(_label(left - 6, y + row / 2 + 4 - LINE_PX * (lines - 1) / 2, method, "end"))
        for j, name in enumerate(data.classes):
            value = data.values[i][j]
            low, high = data.intervals[i][j]
            x = left + j * cell
            fill = colour(data.shade(value)) if math.isfinite(value) else "#d9d9d9"
            tip = f"{method} · {name}: " + (
                f"{data.value_text(value)} [{data.value_text(low)}, {data.value_text(high)}]"
                if math.isfinite(value)
                else "no value"
            )
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell - 1.5:.1f}" height="{row - 1.5}" '
                f'fill="{fill}"><title>{escape(tip)}</title></rect>'
            )
            if cell >= CELL_TEXT:
                parts.append(
                    f'<text x="{x + (cell - 1.5) / 2:.1f}" y="{y + row / 2 + 3:.1f}" '
                    f'text-anchor="middle" class="hv" fill="{data.text_colour(value)}">'
                    f"{escape(data.value_text(value))}</text>"
                )
        y += row
    for j, name in enumerate(data.classes):
        x = left + j * cell + (cell - 1.5) / 2
        if angle == 0:
            parts.append(_label(x, bottom + 14, name, chars=max(4, int(cell // 6))))
            continue
        y = bottom + 10 if angle == 45 else bottom + 6
        x = x if angle == 45 else x + 3  # an upright line's middle on the column's
        parts.append(
            f'<text x="{x:.1f}" y="{y}" text-anchor="end" class="tk" '
            f'transform="rotate(-{angle} {x:.1f} {y})"><title>{escape(name)}</title>'
            f"{escape(name)}</text>"
        )
    bar_x = left + cell * n + 44  # its label (centred under it) clears the last column
    parts.append(_colour_bar(bar_x, top, max(bottom, top + 80), data.value_range, data.label))
    return _frame(f"{data.dataset}: {data.label}", "".join(parts), width=width, height=height)


DOMINATED = "#9a9a9a"
FRONT = "#2ca02c"
LIMIT = "#d62728"


def pareto_charts(data: ParetoData) -> str:
    """The Pareto chart (the front a green step line, its trials labelled; dominated trials
    grey; constraints dashed red) and the hypervolume against completed trials."""
    ys = [p.y for p in data.points] or [0.0, 1.0]
    xs = [p.x for p in data.points] or [0.0, 1.0]
    series = [
        Series(f"{p.trial_id} dominated" if p.feasible else f"{p.trial_id} breaks a constraint",
               [], DOMINATED, dots=[(p.x, p.y)])
        for p in data.points
        if not p.on_front
    ]  # fmt: skip
    for line in data.constraints:
        ends = (
            [(line.value, min(ys)), (line.value, max(ys))]
            if line.axis == "x"
            else [(min(xs), line.value), (max(xs), line.value)]
        )
        series.append(Series(line.label, ends, LIMIT, dashed=True))
    if data.front:
        series.append(
            Series(
                "Pareto front",
                [(p.x, p.y) for p in data.front],
                FRONT,
                bold=True,
                step=True,
                dots=[(p.x, p.y) for p in data.front],
                dot_labels=[p.trial_id for p in data.front],
            )
        )
    front = line_chart(
        f"Pareto front: {data.y_name} against {data.x_name} (grey: dominated)",
        series if data.points else [],
        data.xlabel,
        data.ylabel,
    )
    volume = line_chart(
        "Hypervolume against completed trials",
        [
            Series(data.reference_text or "hypervolume",
                   [(float(n), v) for n, v in data.hypervolume], FRONT, bold=True, step=True,
                   dots=[(float(n), v) for n, v in data.hypervolume])
        ] if data.hypervolume else [],
        "completed trials (in order of completion)",
        "hypervolume",
        integer_x=True,
    )  # fmt: skip
    caption = (
        f'<p class="muted pareto-reference">{escape(data.reference_text)}</p>'
        if data.reference_text
        else ""
    )
    return f'<div class="pareto">{front}{volume}{caption}</div>'
