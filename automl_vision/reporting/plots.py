"""Plots a person would look at after a sweep, saved as PNG files.

- ``learning_curves.png``: the primary metric per report for every trial; stopped trials end in
  a cross, the best trial is drawn thick.
- ``best_so_far.png``: each trial's value in start order and the best value so far.
- ``parallel_coordinates.png``: one axis per parameter plus the metric, one line per trial.
- ``parameter_importance.png``: how much of the variation of the metric each parameter explains
  on its own (correlation ratio eta² of the metric grouped by the parameter's value or quantile
  bin; one score per parameter, so they need not sum to 1), computed on comparable values
  (``comparable_values``): the final values of the trials that ran their full budget, else every
  trial's value at a common report count; the plot says which.

matplotlib is used through ``Figure`` objects only (no pyplot state), with the Agg backend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.storage import write_atomically
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["comparable_values", "parameter_importance", "save_plots"]

_COLORS = {
    TrialStatus.COMPLETED: "#1f77b4",
    TrialStatus.STOPPED: "#ff7f0e",
    TrialStatus.FAILED: "#d62728",
}


def _valued(trials: Sequence[Trial]) -> list[Trial]:
    return [
        t
        for t in trials
        if t.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        and t.value is not None
        and math.isfinite(t.value)
    ]


def _groups(values: list[Any], bins: int = 5) -> np.ndarray:
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
    completed = [t for t in _valued(trials) if t.status is TrialStatus.COMPLETED]
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


def parameter_importance(trials: Sequence[Trial], goal: PrimaryMetricGoal) -> dict[str, float]:
    """Correlation ratio (eta², 0..1) of the metric against each parameter, highest first.

    eta² = between-group variance / total variance, with trials grouped by the parameter's value
    (categories) or by quantile bin (numbers); an inactive parameter is a group of its own. Each
    parameter is scored on its own, so the scores need not sum to 1. The values are
    ``comparable_values(trials)``. Parameters that never vary are left out; fewer than 3
    comparable trials give ``{}``.
    """
    pairs, _ = comparable_values(trials)
    if len(pairs) < 3:
        return {}
    done = [t for t, _ in pairs]
    y = np.array([goal.sign * v for _, v in pairs], dtype=float)
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return {}
    names = sorted({k for t in done for k in t.params})
    scores: dict[str, float] = {}
    for name in names:
        values = [t.params.get(name) for t in done]
        groups = _groups(values)
        labels = set(groups.tolist())
        if len(labels) < 2:
            continue
        between = sum((groups == g).sum() * (y[groups == g].mean() - y.mean()) ** 2 for g in labels)
        scores[name] = float(between / total)
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


def _figure(width: float = 8, height: float = 5) -> Any:
    from matplotlib.figure import Figure  # lazy: matplotlib only when plots are drawn

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _learning_curves(trials: Sequence[Trial], metric: str, best: Trial | None, path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    for t in trials:
        if not t.reports or t.status is TrialStatus.FAILED:
            continue
        steps = [r.step for r in t.reports]
        values = t.values
        is_best = best is not None and t.trial_id == best.trial_id
        ax.plot(
            steps,
            values,
            color="#2ca02c" if is_best else _COLORS.get(t.status, "#7f7f7f"),
            lw=2.5 if is_best else 1.0,
            alpha=1.0 if is_best else 0.6,
            label=f"best: {t.trial_id}" if is_best else None,
        )
        if t.status is TrialStatus.STOPPED:
            ax.plot(steps[-1], values[-1], "x", color=_COLORS[TrialStatus.STOPPED], ms=7, mew=2)
    ax.plot([], [], color=_COLORS[TrialStatus.COMPLETED], label="completed")
    ax.plot([], [], "x-", color=_COLORS[TrialStatus.STOPPED], label="stopped early (x)")
    ax.set(xlabel="report (epoch)", ylabel=metric, title="Learning curves of all trials")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def _best_so_far(trials: Sequence[Trial], metric: str, goal: PrimaryMetricGoal, path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    best: float | None = None
    xs, ys = [], []
    for t in sorted(trials, key=lambda t: t.index):
        if t.value is not None and math.isfinite(t.value) and t.status is not TrialStatus.FAILED:
            ax.scatter(t.index, t.value, color=_COLORS[t.status], s=20, zorder=3)
            best = t.value if best is None or goal.is_better(t.value, best) else best
        if best is not None:
            xs.append(t.index)
            ys.append(best)
    failed = [t.index for t in trials if t.status is TrialStatus.FAILED]
    if failed and ys:
        ax.scatter(
            failed,
            [min(ys)] * len(failed),
            marker="v",
            color=_COLORS[TrialStatus.FAILED],
            label="failed",
        )
    ax.step(xs, ys, where="post", color="#2ca02c", lw=2, label="best so far")
    ax.scatter([], [], color=_COLORS[TrialStatus.COMPLETED], label="completed")
    ax.scatter([], [], color=_COLORS[TrialStatus.STOPPED], label="stopped early")
    ax.set(xlabel="trial", ylabel=metric, title=f"Best {metric} so far ({goal.value})")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    _save(fig, path)


def _axis_positions(values: list[Any]) -> tuple[list[float], list[tuple[float, str]]]:
    """Map a parameter's values to [0, 1] (NaN for inactive) and the ticks to draw."""
    present = [v for v in values if v is not None]
    numeric = present and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    )
    if numeric and len(set(present)) > 1:
        lo, hi = min(present), max(present)
        use_log = lo > 0 and hi / lo > 20
        f = (lambda v: math.log(v)) if use_log else (lambda v: float(v))
        span = f(hi) - f(lo)
        pos = [math.nan if v is None else (f(v) - f(lo)) / span for v in values]
        return pos, [(0.0, f"{lo:.3g}"), (1.0, f"{hi:.3g}")]
    cats = sorted({repr(v) for v in present})
    step = 1.0 / max(len(cats) - 1, 1)
    where = {c: i * step for i, c in enumerate(cats)}
    pos = [math.nan if v is None else where[repr(v)] for v in values]
    return pos, [(where[c], c.strip("'")) for c in cats]


def _parallel_coordinates(trials: Sequence[Trial], metric: str, path: Path) -> None:
    done = _valued(trials)
    names = sorted(
        {k for t in done for k in t.params if len({repr(u.params.get(k)) for u in done}) > 1}
    )
    fig = _figure(max(6, 1.6 * (len(names) + 1)), 5)
    ax = fig.subplots()
    if not done:
        ax.text(0.5, 0.5, "no trial with a value yet", ha="center")
        _save(fig, path)
        return
    columns = [*names, metric]
    grid, ticks = [], []
    for name in names:
        pos, tk = _axis_positions([t.params.get(name) for t in done])
        grid.append(pos)
        ticks.append(tk)
    pos, tk = _axis_positions([t.value for t in done])
    grid.append(pos)
    ticks.append(tk)
    data = np.array(grid, dtype=float).T  # trials x axes
    from matplotlib import colormaps  # lazy: as above

    cmap = colormaps["viridis"]
    order = np.argsort(data[:, -1])
    for i in order:
        ax.plot(
            range(len(columns)),
            data[i],
            color=cmap(data[i, -1] if math.isfinite(data[i, -1]) else 0),
            alpha=0.7,
        )
    for x, tk in enumerate(ticks):
        ax.axvline(x, color="black", lw=0.8)
        for y, label in tk:
            ax.text(x + 0.03, y, label[:18], fontsize=7, va="center")
    ax.set_xticks(range(len(columns)), columns, rotation=20, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"Parallel coordinates (colour = {metric})")
    _save(fig, path)


def _importance(trials: Sequence[Trial], goal: PrimaryMetricGoal, metric: str, path: Path) -> None:
    scores = parameter_importance(trials, goal)
    fig = _figure(7, max(2.5, 0.45 * len(scores) + 1.2))
    ax = fig.subplots()
    if scores:
        names = list(scores)[::-1]
        ax.barh(names, [scores[n] for n in names], color="#1f77b4")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"eta² of {metric} (correlation ratio, per parameter; need not sum to 1)")
    else:
        ax.text(0.5, 0.5, "needs 3+ comparable trials and a varying parameter", ha="center")
        ax.set_yticks([])
    ax.set_title(f"Parameter importance\n{comparable_values(trials)[1]}", fontsize=10)
    _save(fig, path)


def save_plots(
    trials: Sequence[Trial],
    goal: PrimaryMetricGoal,
    metric: str,
    directory: str | Path,
    best: Trial | None,
) -> list[Path]:
    """Write the four PNG plots into ``directory``; return their paths."""
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
    return list(paths.values())


def _save(fig: Any, path: Path) -> None:
    """The figure as PNG, written atomically (a kill never leaves a 0-byte plot)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_atomically(path, buffer.getvalue())
