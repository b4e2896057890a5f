"""The numbers behind every chart of a sweep, computed once for the PNG plots and the dashboard.

``plots.py`` (matplotlib) and ``dashboard/svg.py`` (SVG text) only draw what these functions
return, so the two never disagree about whether a chart has data or what it shows:

- ``learning_curves``: one ``Curve`` per trial with reports (failed trials left out).
- ``best_so_far``: each trial's value in start order, the best so far, the failed trials.
- ``parallel_coordinates``: one ``Axis`` per varying parameter plus the metric, every trial's
  position on each in [0, 1], and its colour value (the metric scaled to [0, 1] over its range).
- ``importance``: parameter importance (correlation ratio eta²) on ``comparable_values``.
- ``pareto_chart``: for a sweep with two or more objectives only, each completed trial's first
  cost against its trained metric, the front (a step line), the constraints, and the hypervolume
  after each completed trial (the reference point is documented on ``ParetoData``).

Pure Python and numpy; nothing here draws.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_vision.metric_catalog import DEPLOYMENT_METRICS
from automl_vision.pareto import Bound, Constraint, Objective, hypervolume
from automl_vision.reporting.front import (
    front_trials,
    sweep_constraints,
    sweep_objectives,
    trial_point,
)
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = [
    "Axis",
    "BestSoFar",
    "ConstraintLine",
    "Curve",
    "Importance",
    "ParallelData",
    "ParetoData",
    "ParetoPoint",
    "best_so_far",
    "comparable_values",
    "importance",
    "learning_curves",
    "parallel_coordinates",
    "parameter_importance",
    "pareto_chart",
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


# -- the Pareto front and the hypervolume (two or more objectives) ----------------------------


@dataclass(frozen=True)
class ParetoPoint:
    """A completed trial on the Pareto chart: ``x`` its first cost objective, ``y`` its trained
    metric; ``on_front``: on the sweep's front (``reporting.front.front_trials``); ``feasible``:
    meets every constraint (an infeasible trial is never on the front)."""

    trial_id: str
    x: float
    y: float
    on_front: bool
    feasible: bool


@dataclass(frozen=True)
class ConstraintLine:
    """A constraint drawn on the chart: ``axis`` ``"x"`` (a vertical line) or ``"y"``."""

    axis: str
    value: float
    label: str


@dataclass(frozen=True)
class ParetoData:
    """The Pareto chart and the hypervolume against completed trials of a sweep with two or more
    objectives.

    ``points``: every completed trial with both values known, in trial order. ``front``: the
    front's points sorted by ``x`` (then ``y``), to be joined as a step line. ``hypervolume``:
    ``(n, volume)`` after the n-th completed trial in order of completion (finish time, then
    trial index), over all the sweep's objectives and only trials meeting the constraints; the
    reference point is fixed for the whole series (so it never decreases) and described in
    ``reference_text``: per objective, a maximized trained metric's reference is the recorded
    trivial baseline when it is the baseline's metric, else its worst value among the completed
    trials; any other objective's is its constraint when one bounds it in its bad direction, else
    its worst value widened by 10 % (1.1 × the worst for a positive cost), so that the worst
    trials still count."""

    x_name: str
    y_name: str
    xlabel: str
    ylabel: str
    points: tuple[ParetoPoint, ...]
    front: tuple[ParetoPoint, ...]
    constraints: tuple[ConstraintLine, ...]
    hypervolume: tuple[tuple[int, float], ...]
    reference: dict[str, float]
    reference_text: str

    @property
    def has_data(self) -> bool:
        return bool(self.points)


def _finite(value: float) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _axes(objectives: Sequence[Objective]) -> tuple[Objective, Objective]:
    """(the x objective: the first cost; the y objective: the trained metric)."""
    trained = [o for o in objectives if o.name not in DEPLOYMENT_METRICS]
    y_obj = trained[0] if trained else objectives[0]
    x_obj = next(o for o in objectives if o is not y_obj)
    return x_obj, y_obj


def _reference(
    objective: Objective,
    values: Sequence[float],
    constraints: Sequence[Constraint],
    baseline: Mapping[str, Any] | None,
    trained: bool,
) -> tuple[float, str]:
    maximize = objective.goal is PrimaryMetricGoal.MAXIMIZE
    bad_bound = Bound.AT_LEAST if maximize else Bound.AT_MOST
    for c in constraints:
        if c.name == objective.name and c.bound is bad_bound:
            return c.limit, f"{objective.name} {c.limit:.4g} (its constraint)"
    if (
        trained
        and maximize
        and isinstance(baseline, Mapping)
        and baseline.get("metric") == objective.name
        and isinstance(baseline.get("value"), (int, float))
        and math.isfinite(float(baseline["value"]))
    ):
        value = float(baseline["value"])
        return value, f"{objective.name} {value:.4g} (the trivial baseline)"
    worst = min(values) if maximize else max(values)
    if trained and maximize:
        return worst, f"{objective.name} {worst:.4g} (the worst completed trial)"
    widened = worst + (-0.1 if maximize else 0.1) * abs(worst)
    if widened == worst:
        widened = worst + (-1.0 if maximize else 1.0)
    return widened, f"{objective.name} {widened:.4g} (the worst trial's, widened by 10 %)"


def _completion_order(trial: Trial) -> tuple[float, int]:
    done = trial.finished_at
    return (done if done is not None and math.isfinite(done) else math.inf, trial.index)


def pareto_chart(
    trials: Sequence[Trial],
    settings: Mapping[str, Any],
    primary_metric: str,
    goal: PrimaryMetricGoal,
) -> ParetoData | None:
    """The Pareto chart's numbers, or ``None`` for a sweep with fewer than two objectives
    (``settings["objectives"]``): such a sweep has no Pareto chart."""
    objectives = sweep_objectives(settings, primary_metric, goal)
    if len(objectives) < 2:
        return None
    constraints = sweep_constraints(settings)
    x_obj, y_obj = _axes(objectives)
    done = [t for t in trials if t.status is TrialStatus.COMPLETED and t.value is not None]
    front_ids = {t.trial_id for t in front_trials(trials, settings, primary_metric, goal)}
    values = {t.trial_id: trial_point(t, primary_metric) for t in done}

    def meets(point: Mapping[str, float]) -> bool:
        return all(bool(c.satisfied(point.get(c.name, math.nan))) for c in constraints)

    points = []
    for t in done:
        p = values[t.trial_id]
        x, y = p.get(x_obj.name, math.nan), p.get(y_obj.name, math.nan)
        if _finite(x) and _finite(y):
            points.append(ParetoPoint(t.trial_id, x, y, t.trial_id in front_ids, meets(p)))
    front = tuple(sorted((p for p in points if p.on_front), key=lambda p: (p.x, p.y)))
    lines = tuple(
        ConstraintLine(
            "x" if c.name == x_obj.name else "y", c.limit, f"{c.name} {c.bound.value} {c.limit:g}"
        )
        for c in constraints
        if c.name in (x_obj.name, y_obj.name)
    )

    # the hypervolume series over all objectives, the feasible trials in order of completion
    names = [o.name for o in objectives]
    rows = [
        (t, [values[t.trial_id].get(n, math.nan) for n in names])
        for t in sorted(done, key=_completion_order)
    ]
    usable = [r for _, r in rows if all(_finite(v) for v in r)]
    reference: dict[str, float] = {}
    said: list[str] = []
    baseline = settings.get("baseline")
    if usable:
        for k, o in enumerate(objectives):
            ref, text = _reference(
                o, [r[k] for r in usable], constraints, baseline, trained=o is y_obj
            )
            reference[o.name] = ref
            said.append(text)
    series: list[tuple[int, float]] = []
    kept: list[list[float]] = []
    for n, (t, row) in enumerate(rows, start=1):
        if meets(values[t.trial_id]) and all(_finite(v) for v in row):
            kept.append(row)
        volume = (
            hypervolume(kept, objectives, [reference[o.name] for o in objectives]) if kept else 0.0
        )
        series.append((n, volume))

    def label(o: Objective) -> str:
        better = "higher" if o.goal is PrimaryMetricGoal.MAXIMIZE else "lower"
        return f"{o.name} ({o.goal.value}: {better} is better)"

    return ParetoData(
        x_name=x_obj.name,
        y_name=y_obj.name,
        xlabel=label(x_obj),
        ylabel=label(y_obj),
        points=tuple(points),
        front=front,
        constraints=lines,
        hypervolume=tuple(series),
        reference=reference,
        reference_text="reference point: " + ", ".join(said) if said else "",
    )
