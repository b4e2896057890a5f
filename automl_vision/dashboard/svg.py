"""Small SVG charts drawn as text (no plotting library, nothing fetched): lines, bars, axes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

__all__ = ["Series", "bar_chart", "line_chart", "parallel_coordinates"]

PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
WIDTH, HEIGHT, PAD = 560, 260, 44


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]
    color: str = PALETTE[0]
    marker_last: bool = False  # a cross at the last point (a stopped trial)
    bold: bool = False
    step: bool = False
    dots: list[tuple[float, float]] = field(default_factory=list)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
        if not hi > lo:  # too large a number for +-0.5 to change it
            lo, hi = lo - abs(lo), hi + abs(hi)
    return lo, hi


def _frame(title: str, body: str, width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img"><title>{escape(title)}</title>'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{width / 2}" y="16" text-anchor="middle" class="ct">{escape(title)}</text>'
        f"{body}</svg>"
    )


def line_chart(title: str, series: Sequence[Series], xlabel: str, ylabel: str) -> str:
    xs = [x for s in series for x, _ in s.points + s.dots]
    ys = [y for s in series for _, y in s.points + s.dots]
    if not xs:
        return _frame(
            title, f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data yet</text>'
        )
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
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        xv = x0 + (x1 - x0) * i / 4
        parts.append(
            f'<text x="{left - 4}" y="{py(yv) + 4:.1f}" text-anchor="end" class="tk">{_fmt(yv)}</text>'
        )
        parts.append(
            f'<text x="{px(xv):.1f}" y="{bottom + 14}" text-anchor="middle" class="tk">{_fmt(xv)}</text>'
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
            parts.append(
                f'<polyline fill="none" stroke="{s.color}" stroke-width="{width}" points="{coords}">'
                f"<title>{escape(s.label)}</title></polyline>"
            )
        for x, y in s.dots:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{s.color}"><title>{escape(s.label)}</title></circle>'
            )
        if s.marker_last and s.points:
            x, y = px(s.points[-1][0]), py(s.points[-1][1])
            parts.append(
                f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" '
                f'stroke="#d62728" stroke-width="2" class="stopmark"><title>{escape(s.label)} stopped</title></path>'
            )
    return _frame(title, "".join(parts))


def bar_chart(title: str, bars: Sequence[tuple[str, float]]) -> str:
    if not bars:
        return _frame(
            title, f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data yet</text>'
        )
    height = max(HEIGHT, 40 + 22 * len(bars))
    left, right = 190, WIDTH - 50
    top = max(abs(v) for _, v in bars) or 1.0
    parts = []
    for i, (label, value) in enumerate(bars):
        y = 30 + 22 * i
        w = (right - left) * abs(value) / top
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" class="tk">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="16" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" class="tk">{_fmt(value)}</text>')
    return _frame(title, "".join(parts), height=height)


def parallel_coordinates(
    title: str, axes: Sequence[str], lines: Sequence[tuple[str, Sequence[object], str]]
) -> str:
    """One vertical axis per name; each line is (label, one value per axis, colour). Numbers are
    scaled to the axis's range, other values are placed by their sorted category."""
    if not axes or not lines:
        return _frame(
            title, f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data yet</text>'
        )
    width = max(WIDTH, 120 * len(axes))
    left, right, top, bottom = 50, width - 50, 34, HEIGHT - 34
    scales = []
    for i in range(len(axes)):
        col = [ln[1][i] for ln in lines]
        nums = [
            float(v)
            for v in col
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
        ]
        if len(nums) == len([v for v in col if v is not None]) and nums:
            lo, hi = _bounds(nums)
            scales.append(("num", lo, hi, []))
        else:
            cats = sorted({repr(v) for v in col})
            scales.append(("cat", 0.0, max(len(cats) - 1, 1), cats))

    def pos(i: int, v: object) -> float | None:
        kind, lo, hi, cats = scales[i]
        if kind == "num":
            if v is None:
                return None
            t = (float(v) - lo) / (hi - lo)  # type: ignore[arg-type]
        else:
            t = cats.index(repr(v)) / hi
        return bottom - t * (bottom - top)

    step = (right - left) / max(len(axes) - 1, 1)
    parts = []
    for i, name in enumerate(axes):
        x = left + i * step
        kind, lo, hi, cats = scales[i]
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="ax"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 24}" text-anchor="middle" class="tk">{escape(name[:22])}</text>'
        )
        top_label = _fmt(hi) if kind == "num" else (cats[-1] if cats else "")
        low_label = _fmt(lo) if kind == "num" else (cats[0] if cats else "")
        parts.append(
            f'<text x="{x:.1f}" y="{top - 4}" text-anchor="middle" class="tk">{escape(str(top_label)[:16])}</text>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 12}" text-anchor="middle" class="tk">{escape(str(low_label)[:16])}</text>'
        )
    for label, values, color in lines:
        coords = [(left + i * step, pos(i, v)) for i, v in enumerate(values)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords if y is not None)
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-opacity="0.75" stroke-width="1.5" points="{pts}">'
            f"<title>{escape(label)}</title></polyline>"
        )
    return _frame(title, "".join(parts), width=width)
