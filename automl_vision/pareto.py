"""Multi-objective mathematics of a sweep: objectives, constraints, dominance, the Pareto front
and the hypervolume. Pure numpy; no torch, no I/O, no randomness.

**Objectives.** An ``Objective`` is a metric name and a ``PrimaryMetricGoal``;
``parse_objectives({"accuracy": "max", "latency_ms": "min"})`` reads the user's form (each goal
parsed like the primary metric's goal: ``"max"``/``"min"``/``"maximize"``/``"minimize"`` in any
case). The order of the objectives is the order of a point's columns.

**Points.** Every function takes ``points`` as an N×M array (one row per point, one column per
objective, in the objectives' order) or as a sequence of mappings ``name -> value`` (a trial's
metrics; other keys are ignored, a missing objective is an error). N = 0 is allowed everywhere.

**Dominance** respects each objective's goal: ``a`` dominates ``b`` when ``a`` is at least as
good as ``b`` in every objective and strictly better in at least one. Consequences, pinned by
tests:

- identical points do not dominate each other: duplicates on the front are all on it;
- a point with NaN in any objective (a failed trial, a metric not measured) is never on the front,
  never dominates and is never dominated (``dominated_by`` answers ``None`` for it);
- infinities compare as numbers (``-inf`` latency is better than any finite one).

**The front** (``pareto_front``) is the ascending indices of the points that no other point
dominates (NaN points excluded); it costs O(N²·M), fine for the few thousand trials of a sweep.
``dominated_by(i, ...)`` names one front point that dominates point ``i`` (there is one whenever
any point does): the one best in the first objective, ties broken by the next objectives, then by
the lower index — so with ``accuracy`` first, a stopped trial's reason names the most accurate
trial that beats it.

**Constraints.** A ``Constraint`` bounds one metric, bounds included: a bare number is an upper
bound (``{"latency_ms": 10}``: ``latency_ms <= 10``; constraints are usually on costs), a pair
with ``">="`` or ``"<="`` says the direction (``{"accuracy": (">=", 0.9)}``). A constrained metric
need not be an objective. ``feasible`` says which points meet every constraint; NaN is
infeasible. Filter first, then take the front of the feasible points.

**Hypervolume** (``hypervolume(points, objectives, reference)``) is the volume of the region that
the points dominate and that is bounded by the reference point, each objective in its own
direction: for a maximized objective the reference is a lower bound, for a minimized one an upper
bound. A point that is not strictly better than the reference in every objective (or holds a NaN)
contributes nothing; with no such point the volume is 0. The result is exact: in 2-D a sort
(O(N log N)); in M-D a slicing along the last objective down to the 2-D case (HSO-style, about
O(N^(M-1) log N); fine for M <= 4 and a few hundred points). It does not depend on the points'
order, and dominated points add nothing.

*Picking the reference point for a benchmark*: fix it before any method runs, from the problem
and not from one method's results, and use the same one for every method, seed and budget, so
that hypervolumes compare. Take, per objective, a value just worse than anything worth having: a
maximized accuracy's reference at the trivial baseline (or 0), a minimized cost's at its
constraint, else slightly beyond its worst value over the whole configuration table (e.g. 1.1 ×
the largest ``num_params``) so that the cheapest-but-worst points still count. The volume is in
the objectives' units: rescale (or take the log of) a cost spanning orders of magnitude before
calling, and say so beside the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from automl_vision.enums import ChoiceEnum
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "Bound",
    "Constraint",
    "Objective",
    "dominated_by",
    "dominates",
    "feasible",
    "hypervolume",
    "pareto_front",
    "parse_constraints",
    "parse_objectives",
]


@dataclass(frozen=True)
class Objective:
    """One objective: a metric's name and whether it is maximized or minimized.

    ``goal`` may be given as text (``"max"``, ``"Minimize"``); it is stored parsed.
    """

    name: str
    goal: PrimaryMetricGoal

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"objective name={self.name!r} is not allowed; it must be a name")
        goal = PrimaryMetricGoal.parse(self.goal, field=f"objectives[{self.name!r}]")
        object.__setattr__(self, "goal", goal)


class Bound(ChoiceEnum):
    """The direction of a constraint's bound (the bound itself is allowed)."""

    AT_MOST = "<="
    AT_LEAST = ">="

    @classmethod
    def _aliases(cls) -> dict[str, Bound]:
        return {"at_most": cls.AT_MOST, "at_least": cls.AT_LEAST}

    @classmethod
    def _allowed_text(cls) -> str:
        return "'<=' or '>='"


@dataclass(frozen=True)
class Constraint:
    """``name <= limit`` (``Bound.AT_MOST``, the default) or ``name >= limit``, a finite limit."""

    name: str
    limit: float
    bound: Bound = Bound.AT_MOST

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"constraint name={self.name!r} is not allowed; it must be a name")
        field = f"constraints[{self.name!r}]"
        object.__setattr__(self, "bound", Bound.parse(self.bound, field=field))
        limit = self.limit
        if (
            isinstance(limit, bool)
            or not isinstance(limit, (int, float, np.integer, np.floating))
            or not math.isfinite(limit)
        ):
            raise ValueError(
                f"{field}={limit!r} is not allowed; a constraint's limit must be a finite number"
            )
        object.__setattr__(self, "limit", float(limit))

    def satisfied(self, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each value meets the bound (NaN never does)."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return v <= self.limit if self.bound is Bound.AT_MOST else v >= self.limit


#: what the functions take as objectives: ``{"accuracy": "max", ...}`` or ``Objective`` records
Objectives = Mapping[str, PrimaryMetricGoal | str] | Sequence[Objective]
#: what they take as constraints: ``{"latency_ms": 10, "accuracy": (">=", 0.9)}`` or records
Constraints = Mapping[str, object] | Sequence[Constraint]
#: what they take as points: an N×M array or one mapping ``name -> value`` per point
Points = npt.ArrayLike | Sequence[Mapping[str, float]]


def parse_objectives(objectives: Objectives) -> tuple[Objective, ...]:
    """The objectives, in order, from ``{"accuracy": "max", "latency_ms": "min"}`` or from
    ``Objective`` records; one ``ValueError`` naming the objective and what is allowed."""
    if isinstance(objectives, Mapping):
        out = tuple(Objective(name, goal) for name, goal in objectives.items())
    elif isinstance(objectives, (str, bytes)) or not isinstance(objectives, Sequence):
        raise ValueError(
            f"objectives={objectives!r} is not allowed; objectives must be a mapping like "
            "{'accuracy': 'max', 'latency_ms': 'min'} or a list of Objective"
        )
    else:
        for item in objectives:
            if not isinstance(item, Objective):
                raise ValueError(f"objectives: {item!r} is not allowed; each must be an Objective")
        out = tuple(objectives)
    if not out:
        raise ValueError("objectives is empty; give at least one, e.g. {'accuracy': 'max'}")
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ValueError(f"objectives={names} name one metric twice; each name must be unique")
    return out


def parse_constraints(constraints: Constraints) -> tuple[Constraint, ...]:
    """The constraints from ``{"latency_ms": 10, "accuracy": (">=", 0.9)}`` (a bare number is an
    upper bound) or from ``Constraint`` records; one ``ValueError`` naming the constraint."""
    if isinstance(constraints, Mapping):
        out = []
        for name, spec in constraints.items():
            if isinstance(spec, (tuple, list)):
                if len(spec) != 2:
                    raise ValueError(
                        f"constraints[{name!r}]={spec!r} is not allowed; a constraint must be a "
                        "number (an upper bound) or a pair like ('>=', 0.9)"
                    )
                bound, limit = spec
                if not isinstance(bound, str):
                    raise ValueError(
                        f"constraints[{name!r}]={spec!r} is not allowed; the pair's first item "
                        "must be '<=' or '>='"
                    )
                out.append(Constraint(name, limit, Bound.parse(bound, f"constraints[{name!r}]")))
            else:
                out.append(Constraint(name, spec))  # type: ignore[arg-type]
        result = tuple(out)
    elif isinstance(constraints, (str, bytes)) or not isinstance(constraints, Sequence):
        raise ValueError(
            f"constraints={constraints!r} is not allowed; constraints must be a mapping like "
            "{'latency_ms': 10} or a list of Constraint"
        )
    else:
        for item in constraints:
            if not isinstance(item, Constraint):
                raise ValueError(f"constraints: {item!r} is not allowed; each must be a Constraint")
        result = tuple(constraints)
    names = [c.name for c in result]
    if len(set(names)) != len(names):
        raise ValueError(f"constraints={names} name one metric twice; each name must be unique")
    return result


def _matrix(points: Points, names: Sequence[str]) -> npt.NDArray[np.float64]:
    """The points as an N×len(names) float array (see the module docstring for the forms)."""
    m = len(names)
    if isinstance(points, np.ndarray):
        rows: object = points
    elif isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Sequence):
        raise ValueError(
            f"points of type {type(points).__name__} are not allowed; points must be an N×{m} "
            "array or a sequence of mappings name -> value"
        )
    elif len(points) and isinstance(points[0], Mapping):
        out = np.empty((len(points), m))
        for i, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise ValueError(f"points[{i}]={point!r} is not allowed; it must be a mapping")
            for k, name in enumerate(names):
                if name not in point:
                    raise ValueError(
                        f"points[{i}] has no {name!r}; every point must give "
                        f"{', '.join(map(repr, names))} (NaN where not known)"
                    )
                out[i, k] = _number(point[name], f"points[{i}][{name!r}]")
        return out
    else:
        rows = points
    try:
        array = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"points are not allowed; points must be an N×{m} array of numbers "
            f"(columns {', '.join(map(repr, names))})"
        ) from None
    if array.size == 0 and array.ndim <= 2:
        return np.empty((0, m))
    if array.ndim != 2 or array.shape[1] != m:
        raise ValueError(
            f"points of shape {array.shape} are not allowed; points must be an N×{m} array "
            f"(columns {', '.join(map(repr, names))})"
        )
    return array


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{field}={value!r} is not allowed; it must be a number")
    return float(value)


def _oriented(points: Points, objectives: Objectives) -> npt.NDArray[np.float64]:
    """The points with every objective turned to 'higher is better' (minimized ones negated)."""
    objs = parse_objectives(objectives)
    x = _matrix(points, [o.name for o in objs])
    return x * np.array([o.goal.sign for o in objs])


def _vector(
    point: Sequence[float] | Mapping[str, float], objs: Sequence[Objective], field: str
) -> npt.NDArray[np.float64]:
    if isinstance(point, Mapping):
        return _matrix([point], [o.name for o in objs])[0]
    row = np.asarray(point, dtype=float)
    if row.shape != (len(objs),):
        raise ValueError(
            f"{field} of shape {row.shape} is not allowed; it must hold {len(objs)} values "
            f"({', '.join(repr(o.name) for o in objs)})"
        )
    return row


def _dominates_rows(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> bool:
    """``a`` dominates ``b``, both oriented (higher is better); NaN compares false."""
    return bool(np.all(a >= b) and np.any(a > b))


def dominates(
    a: Sequence[float] | Mapping[str, float],
    b: Sequence[float] | Mapping[str, float],
    objectives: Objectives,
) -> bool:
    """Whether ``a`` is at least as good as ``b`` in every objective and strictly better in one
    (each objective's goal respected). False when either holds a NaN, and for identical points."""
    objs = parse_objectives(objectives)
    signs = np.array([o.goal.sign for o in objs])
    return _dominates_rows(_vector(a, objs, "a") * signs, _vector(b, objs, "b") * signs)


def _front_mask(y: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which oriented points no other point dominates (NaN rows: never)."""
    valid = ~np.isnan(y).any(axis=1)
    mask = valid.copy()
    others = y[valid]
    for i in np.flatnonzero(valid):
        at_least = (others >= y[i]).all(axis=1)
        better = (others > y[i]).any(axis=1)
        if np.any(at_least & better):
            mask[i] = False
    return mask


def pareto_front(points: Points, objectives: Objectives) -> npt.NDArray[np.intp]:
    """The indices (ascending) of the points no other point dominates. Identical points are all
    on the front; a point holding a NaN never is. Empty for N = 0."""
    return np.flatnonzero(_front_mask(_oriented(points, objectives)))


def feasible(points: Points, constraints: Constraints) -> npt.NDArray[np.bool_]:
    """Whether each point meets every constraint (bounds included; NaN is infeasible).

    ``points``: an N×K array with one column per constraint, in the constraints' order, or
    mappings ``name -> value``. With no constraints every point is feasible."""
    cons = parse_constraints(constraints)
    if not cons:
        n = len(points) if not isinstance(points, np.ndarray) else points.shape[0]
        return np.ones(n, dtype=bool)
    x = _matrix(points, [c.name for c in cons])
    ok = np.ones(len(x), dtype=bool)
    for k, constraint in enumerate(cons):
        ok &= constraint.satisfied(x[:, k])
    return ok


def dominated_by(point_index: int, points: Points, objectives: Objectives) -> int | None:
    """The index of a front point that dominates point ``point_index``, or ``None`` when none
    does (it is on the front, or holds a NaN). Of several, the one best in the first objective,
    ties broken by the next objectives in order, then by the lower index."""
    y = _oriented(points, objectives)
    n = len(y)
    if (
        isinstance(point_index, bool)
        or not isinstance(point_index, (int, np.integer))
        or not 0 <= point_index < n
    ):
        raise ValueError(
            f"point_index={point_index!r} is not allowed; it must be an index from 0 to {n - 1}"
            if n
            else f"point_index={point_index!r} is not allowed; there are no points"
        )
    target = y[point_index]
    front = np.flatnonzero(_front_mask(y))
    beating = np.array([j for j in front if _dominates_rows(y[j], target)], dtype=np.intp)
    if not len(beating):
        return None
    # np.lexsort: the last key is the primary one (best first: negated values, then the index)
    keys = (beating, *(-y[beating, k] for k in reversed(range(y.shape[1]))))
    return int(beating[np.lexsort(keys)[0]])


def hypervolume(
    points: Points,
    objectives: Objectives,
    reference: Sequence[float] | Mapping[str, float],
) -> float:
    """The volume the points dominate, bounded by ``reference`` (a lower bound for a maximized
    objective, an upper bound for a minimized one; finite). Points not strictly better than the
    reference in every objective, and points holding a NaN, contribute nothing."""
    objs = parse_objectives(objectives)
    signs = np.array([o.goal.sign for o in objs])
    ref = _vector(reference, objs, "reference")
    if not np.all(np.isfinite(ref)):
        raise ValueError(f"reference={reference!r} is not allowed; its values must be finite")
    # distances from the reference, 'higher is better' in every objective
    with np.errstate(invalid="ignore"):
        y = (_matrix(points, [o.name for o in objs]) - ref) * signs
        y = y[(y > 0).all(axis=1)]  # NaN rows fail the comparison and go too
    if len(y) and y.shape[1] >= 3:
        y = y[_front_mask(y)]
    return _volume(y)


def _sorted_desc(y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rows by the last column descending, ties by the earlier columns (from the one before the
    last down to the first): the same order whatever order the rows came in."""
    return y[np.lexsort(tuple(-y[:, k] for k in range(y.shape[1])))]


def _volume(y: npt.NDArray[np.float64]) -> float:
    """The volume of the union of the boxes [0, y_i] (every y_i > 0)."""
    if not len(y):
        return 0.0
    if y.shape[1] == 1:
        return float(y[:, 0].max())
    ys = _sorted_desc(y)
    if y.shape[1] == 2:
        # by the 2nd value descending: each point adds the strip its 1st value reaches beyond
        # every point before it (they all reach at least as high in the 2nd)
        reach = np.maximum.accumulate(ys[:, 0])
        gain = np.diff(reach, prepend=0.0)
        return float(np.dot(gain, ys[:, 1]))
    # slices along the last objective: between the k-th and the (k+1)-th highest last values,
    # the cross-section is the union of the first k+1 points' boxes in the other objectives
    last = ys[:, -1]
    thickness = last - np.append(last[1:], 0.0)
    total = 0.0
    for k in np.flatnonzero(thickness > 0):
        total += float(thickness[k]) * _volume(ys[: k + 1, :-1])
    return total
