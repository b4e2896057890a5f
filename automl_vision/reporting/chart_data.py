"""The numbers behind every chart of a sweep, computed once for the PNG plots and the dashboard.

``plots.py`` (matplotlib) and ``dashboard/svg.py`` (SVG text) only draw what these functions
return, so the two never disagree about whether a chart has data or what it shows:

- ``learning_curves``: one ``Curve`` per trial with reports (failed trials left out).
- ``best_so_far``: each trial's value in start order, the best so far, the failed trials.
- ``parallel_coordinates``: one ``Axis`` per varying parameter plus the metric, every trial's
  position on each in [0, 1], and its colour value (the metric scaled to [0, 1] over its range).
- ``importance``: parameter importance (correlation ratio eta²) on ``comparable_values``.

Pure Python and numpy; nothing here draws.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = [
    "Axis",
    "BestSoFar",
    "Curve",
    "Importance",
    "ParallelData",
    "best_so_far",
    "comparable_values",
    "importance",
    "learning_curves",
    "parallel_coordinates",
    "parameter_importance",
    "wrap_label",
]

#: quantile bins a numeric parameter is grouped into for its importance
IMPORTANCE_BINS = 5
#: a positive numeric axis spanning more than this ratio is drawn on a log scale
LOG_RATIO = 20


def has_value(trial: Trial) -> bool:
    """A finite value that counts (the trial is COMPLETED or STOPPED)."""
    return (
        trial.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and trial.value is not None
        and math.isfinite(trial.value)
    )


def valued(trials: Sequence[Trial]) -> list[Trial]:
    """The trials with a value that counts."""
    return [t for t in trials if has_value(t)]


def wrap_label(text: str, width: int = 18) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken after ``_ . - /`` or a space
    where one is near, else inside a word: a long model name is wrapped, never cut."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    rest = text
    while len(rest) > width:
        cut = max(rest.rfind(c, 0, width) for c in "_.-/ ")
        cut = cut + 1 if cut >= width // 2 else width
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(rest)
    return lines or textwrap.wrap(text, width)


# -- learning curves ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One trial's primary metric per report (epoch)."""

    trial_id: str
    status: TrialStatus
    steps: tuple[int, ...]
    values: tuple[float, ...]
    is_best: bool

    @property
    def stopped(self) -> bool:
        return self.status is TrialStatus.STOPPED


def learning_curves(trials: Sequence[Trial], best: Trial | None) -> list[Curve]:
    """A curve per trial that reported (failed trials and non-finite reports left out)."""
    curves = []
    for t in trials:
        if t.status is TrialStatus.FAILED:
            continue
        points = [(r.step, float(r.value)) for r in t.reports if math.isfinite(r.value)]
        if not points:
            continue
        curves.append(
            Curve(
                trial_id=t.trial_id,
                status=t.status,
                steps=tuple(s for s, _ in points),
                values=tuple(v for _, v in points),
                is_best=best is not None and t.trial_id == best.trial_id,
            )
        )
    return curves


# -- best so far -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BestSoFar:
    """Trial values by trial index (start order), the running best, and the failed trials."""

    points: tuple[tuple[int, float, TrialStatus], ...]
    best: tuple[tuple[int, float], ...]
    failed: tuple[int, ...]

    @property
    def has_data(self) -> bool:
        return bool(self.points)


def best_so_far(trials: Sequence[Trial], goal: PrimaryMetricGoal) -> BestSoFar:
    points: list[tuple[int, float, TrialStatus]] = []
    line: list[tuple[int, float]] = []
    best: float | None = None
    for t in sorted(trials, key=lambda t: t.index):
        if has_value(t):
            value = float(t.value)  # type: ignore[arg-type]
            points.append((t.index, value, t.status))
            best = value if best is None or goal.is_better(value, best) else best
        if best is not None:
            line.append((t.index, best))
    failed = tuple(t.index for t in trials if t.status is TrialStatus.FAILED)
    return BestSoFar(tuple(points), tuple(line), failed)


# -- parallel coordinates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One vertical axis: each trial's position in [0, 1] (NaN: inactive) and labelled ticks."""

    name: str
    positions: tuple[float, ...]
    ticks: tuple[tuple[float, str], ...]
    log: bool = False


@dataclass(frozen=True)
class ParallelData:
    """The parameters that vary, then the metric (the last axis); a line per valued trial,
    coloured by ``colors`` (the metric scaled to [0, 1] over ``metric_range``)."""

    axes: tuple[Axis, ...]
    trial_ids: tuple[str, ...]
    colors: tuple[float, ...]
    metric_range: tuple[float, float]

    @property
    def has_data(self) -> bool:
        return bool(self.trial_ids)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _axis(name: str, values: list[Any]) -> Axis:
    present = [v for v in values if v is not None]
    numeric = bool(present) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    )
    if numeric and len(set(present)) > 1:
        lo, hi = min(present), max(present)
        use_log = lo > 0 and hi / lo > LOG_RATIO

        def f(v: float) -> float:
            return math.log(v) if use_log else float(v)

        span = f(hi) - f(lo)
        pos = tuple(math.nan if v is None else (f(v) - f(lo)) / span for v in values)
        return Axis(name, pos, ((0.0, _fmt(lo)), (1.0, _fmt(hi))), use_log)
    cats = sorted({repr(v) for v in present})
    step = 1.0 / max(len(cats) - 1, 1)
    where = {c: i * step for i, c in enumerate(cats)}
    pos = tuple(math.nan if v is None else where[repr(v)] for v in values)
    return Axis(name, pos, tuple((where[c], c.strip("'")) for c in cats))


def parallel_coordinates(trials: Sequence[Trial], metric: str) -> ParallelData:
    done = valued(trials)
    names = sorted(
        {k for t in done for k in t.params if len({repr(u.params.get(k)) for u in done}) > 1}
    )
    if not done:
        return ParallelData((), (), (), (0.0, 0.0))
    axes = [_axis(name, [t.params.get(name) for t in done]) for name in names]
    values = [float(t.value) for t in done]  # type: ignore[arg-type]
    axes.append(_axis(metric, values))
    lo, hi = min(values), max(values)
    colors = tuple((v - lo) / (hi - lo) if hi > lo else 0.5 for v in values)
    return ParallelData(tuple(axes), tuple(t.trial_id for t in done), colors, (lo, hi))


# -- parameter importance ----------------------------------------------------------------------


def _groups(values: list[Any], bins: int = IMPORTANCE_BINS) -> np.ndarray:
    """Group labels: categories as they are, numbers by quantile bin, missing as its own group."""
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numeric) == len([v for v in values if v is not None]) and len(set(numeric)) > bins:
        ranks = np.argsort(np.argsort([v if v is not None else -np.inf for v in values]))
        labels = (ranks * bins // len(values)).astype(object)
        return np.array(
            [lab if v is not None else "inactive" for lab, v in zip(labels, values, strict=True)],
            dtype=object,
        )
    return np.array([repr(v) if v is not None else "inactive" for v in values], dtype=object)


def comparable_values(trials: Sequence[Trial]) -> tuple[list[tuple[Trial, float]], str]:
    """(trial, value) pairs measured at the same budget, and a sentence saying which.

    The final values of COMPLETED trials (they ran their full budget) when there are 3 or more;
    else every trial's value at the largest report count that 3 or more trials reached (a
    stopped trial's early value is never compared with a finished trial's final one).
    """
    completed = [t for t in valued(trials) if t.status is TrialStatus.COMPLETED]
    if len(completed) >= 3:
        return (
            [(t, float(t.value)) for t in completed],  # type: ignore[arg-type]
            f"final values of the {len(completed)} trials that ran their full budget",
        )
    for count in sorted({len(t.reports) for t in trials}, reverse=True):
        if count < 1:
            break
        pairs = [
            (t, float(t.reports[count - 1].value))
            for t in trials
            if len(t.reports) >= count and math.isfinite(t.reports[count - 1].value)
        ]
        if len(pairs) >= 3:
            return pairs, f"every trial's value at report {count} ({len(pairs)} trials)"
    return [], "fewer than 3 comparable trials"


@dataclass(frozen=True)
class Importance:
    """eta² per parameter, highest first, and the sentence saying which values were compared."""

    scores: dict[str, float]
    basis: str

    @property
    def has_data(self) -> bool:
        return bool(self.scores)


def importance(trials: Sequence[Trial], goal: PrimaryMetricGoal) -> Importance:
    """Correlation ratio (eta², 0..1) of the metric against each parameter, highest first.

    eta² = between-group variance / total variance, with trials grouped by the parameter's value
    (categories) or by quantile bin (numbers); an inactive parameter is a group of its own. Each
    parameter is scored on its own, so the scores need not sum to 1. The values are
    ``comparable_values(trials)``. Parameters that never vary are left out; fewer than 3
    comparable trials give no scores.
    """
    pairs, basis = comparable_values(trials)
    if len(pairs) < 3:
        return Importance({}, basis)
    done = [t for t, _ in pairs]
    y = np.array([goal.sign * v for _, v in pairs], dtype=float)
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return Importance({}, basis)
    scores: dict[str, float] = {}
    for name in sorted({k for t in done for k in t.params}):
        groups = _groups([t.params.get(name) for t in done])
        labels = set(groups.tolist())
        if len(labels) < 2:
            continue
        between = sum((groups == g).sum() * (y[groups == g].mean() - y.mean()) ** 2 for g in labels)
        scores[name] = float(between / total)
    return Importance(dict(sorted(scores.items(), key=lambda kv: -kv[1])), basis)


def parameter_importance(trials: Sequence[Trial], goal: PrimaryMetricGoal) -> dict[str, float]:
    """``importance(trials, goal).scores``."""
    return importance(trials, goal).scores
