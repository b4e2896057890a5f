"""automl_vision.pareto: objectives and constraints parsed, dominance with each objective's goal,
the Pareto front (ties, duplicates, one point, none, NaN), feasibility, the exact hypervolume
(hand-computed shapes; against inclusion-exclusion and a Monte Carlo estimate) and the point
named as a stopped trial's dominator."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from automl_vision.pareto import (
    Bound,
    Constraint,
    Objective,
    dominated_by,
    dominates,
    feasible,
    hypervolume,
    pareto_front,
    parse_constraints,
    parse_objectives,
)
from automl_vision.trial import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
NAN = math.nan


def objs(*goals: str) -> dict[str, str]:
    """Objectives named a, b, c, ... with the given goals."""
    return {"abcd"[i]: g for i, g in enumerate(goals)}


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "goal"),
    [("max", MAX), ("MAX", MAX), ("maximize", MAX), ("Maximize", MAX), (MAX, MAX),
     ("min", MIN), ("Min", MIN), ("minimize", MIN), ("MINIMIZE", MIN), (MIN, MIN)],
)  # fmt: skip
def test_objective_goals_are_read_in_any_spelling(text, goal) -> None:
    (parsed,) = parse_objectives({"accuracy": text})
    assert parsed == Objective("accuracy", goal)
    assert parsed.goal is goal


def test_objectives_keep_their_order_and_records_pass_through() -> None:
    parsed = parse_objectives({"accuracy": "max", "latency_ms": "min"})
    assert parsed == (Objective("accuracy", MAX), Objective("latency_ms", MIN))
    assert parse_objectives(list(parsed)) == parsed


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"accuracy": "up"}, r"objectives\['accuracy'\]='up' is not allowed.*'maximize' or 'minimize'"),
     ({"latency_ms": "min", "accuracy": 1}, r"objectives\['accuracy'\]=1"),
     ({}, "objectives is empty"),
     ("accuracy", "objectives='accuracy' is not allowed"),
     (["accuracy"], "each must be an Objective"),
     ([Objective("a", MAX), Objective("a", MIN)], "name one metric twice"),
     ({"": "max"}, "objective name=''")],
)  # fmt: skip
def test_bad_objectives_are_one_error_naming_them(spec, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_objectives(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [({"latency_ms": 10}, Constraint("latency_ms", 10.0, Bound.AT_MOST)),
     ({"latency_ms": 2.5}, Constraint("latency_ms", 2.5, Bound.AT_MOST)),
     ({"latency_ms": ("<=", 10)}, Constraint("latency_ms", 10.0, Bound.AT_MOST)),
     ({"accuracy": (">=", 0.9)}, Constraint("accuracy", 0.9, Bound.AT_LEAST)),
     ({"accuracy": ["at_least", 0.9]}, Constraint("accuracy", 0.9, Bound.AT_LEAST))],
)  # fmt: skip
def test_a_bare_number_is_an_upper_bound_and_a_pair_says_its_direction(spec, expected) -> None:
    assert parse_constraints(spec) == (expected,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"latency_ms": NAN}, r"constraints\['latency_ms'\]=nan is not allowed.*finite number"),
     ({"latency_ms": math.inf}, r"constraints\['latency_ms'\]=inf"),
     ({"latency_ms": "10"}, r"constraints\['latency_ms'\]='10'"),
     ({"latency_ms": True}, r"constraints\['latency_ms'\]=True"),
     ({"accuracy": (">", 0.9)}, r"constraints\['accuracy'\]='>' is not allowed.*'<=' or '>='"),
     ({"accuracy": (0.9, ">=")}, "first item must be '<=' or '>='"),
     ({"accuracy": (">=", 0.9, 1)}, "a pair like"),
     (10, "constraints=10 is not allowed"),
     ([Constraint("a", 1), Constraint("a", 2)], "name one metric twice")],
)  # fmt: skip
def test_bad_constraints_are_one_error_naming_them(spec, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_constraints(spec)


# --- dominance and the front ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goals", "a", "b", "expected"),
    [(("max", "max"), (2, 2), (1, 1), True), (("max", "max"), (1, 1), (2, 2), False),
     (("max", "min"), (2, 1), (1, 2), True), (("max", "min"), (2, 2), (1, 1), False),
     (("min", "max"), (1, 2), (2, 1), True), (("min", "max"), (2, 2), (1, 1), False),
     (("min", "min"), (1, 1), (2, 2), True), (("min", "min"), (2, 2), (1, 1), False),
     (("max", "max"), (2, 1), (1, 2), False),  # a trade-off: neither
     (("max", "max"), (2, 1), (2, 0), True),  # a tie in one, better in the other
     (("min", "min"), (2, 0), (2, 1), True),
     (("max", "max"), (2, 1), (2, 1), False),  # identical: neither
     (("max", "max"), (NAN, 9), (1, 1), False),  # NaN never dominates
     (("max", "max"), (9, 9), (NAN, 1), False)],  # nor is dominated
)  # fmt: skip
def test_dominance_respects_each_goal(goals, a, b, expected) -> None:
    assert dominates(a, b, objs(*goals)) is expected


def test_dominance_reads_mappings_by_name() -> None:
    o = {"accuracy": "max", "latency_ms": "min"}
    fast = {"latency_ms": 5.0, "accuracy": 0.9, "epochs": 3}
    slow = {"accuracy": 0.9, "latency_ms": 8.0}
    assert dominates(fast, slow, o) and not dominates(slow, fast, o)


# 0:(1,4) 1:(2,3) 2:(3,2) 3:(4,1) 4:(2,2) 5:(3,3)
STAIRS = [(1, 4), (2, 3), (3, 2), (4, 1), (2, 2), (3, 3)]
# 0:(1,1) 1:(1,3) 2:(2,2) 3:(3,1) 4:(3,3): one corner wins per goal combination
CORNERS = [(1, 1), (1, 3), (2, 2), (3, 1), (3, 3)]


@pytest.mark.parametrize(
    ("points", "goals", "front"),
    [(STAIRS, ("max", "max"), [0, 3, 5]), (STAIRS, ("min", "min"), [0, 3, 4]),
     (STAIRS, ("max", "min"), [3]), (STAIRS, ("min", "max"), [0]),
     (CORNERS, ("max", "max"), [4]), (CORNERS, ("max", "min"), [3]),
     (CORNERS, ("min", "max"), [1]), (CORNERS, ("min", "min"), [0]),
     # ties in one objective: the better in the other wins
     ([(1, 5), (1, 3), (2, 1)], ("max", "max"), [0, 2]),
     ([(1, 5), (1, 3), (2, 1)], ("min", "min"), [1, 2]),
     ([(1, 5), (1, 3), (1, 4)], ("max", "min"), [1]),
     # identical points: all on the front, or all off it
     ([(1, 2), (1, 2), (2, 1), (0, 0)], ("max", "max"), [0, 1, 2]),
     ([(1, 1), (1, 1), (2, 2)], ("max", "max"), [2]),
     ([(1, 1), (1, 1)], ("min", "max"), [0, 1]),
     # one point, none
     ([(3, 7)], ("max", "min"), [0]), ([], ("max", "min"), []),
     # NaN: never on the front, never dominating
     ([(NAN, 100), (1, 1), (0, 0)], ("max", "max"), [1]),
     ([(5, NAN), (1, 1)], ("max", "max"), [1]),
     ([(NAN, 9), (0, 0)], ("max", "max"), [1]),
     ([(NAN, NAN)], ("max", "max"), []),
     # one objective: the best values (all of them when tied)
     ([(3,), (5,), (5,), (1,)], ("max",), [1, 2]), ([(3,), (5,), (1,)], ("min",), [2])],
)  # fmt: skip
def test_the_front_is_the_points_nothing_dominates(points, goals, front) -> None:
    got = pareto_front(points, objs(*goals))
    assert got.tolist() == front
    assert got.dtype == np.intp
    if points:  # the same from an array, and from mappings
        assert pareto_front(np.array(points, dtype=float), objs(*goals)).tolist() == front
        named = [dict(zip("abcd", p, strict=False)) for p in points]
        assert pareto_front(named, objs(*goals)).tolist() == front


def test_an_empty_array_has_an_empty_front() -> None:
    assert pareto_front(np.empty((0, 2)), objs("max", "min")).tolist() == []


@pytest.mark.parametrize(
    ("points", "message"),
    [(np.zeros((3, 3)), r"shape \(3, 3\) are not allowed.*N×2 array"),
     ([1.0, 2.0], r"shape \(2,\) are not allowed"),
     ([{"a": 1.0, "b": 2.0}, {"a": 1.0}], r"points\[1\] has no 'b'"),
     ([{"a": 1.0, "b": "fast"}], r"points\[0\]\['b'\]='fast' is not allowed"),
     ([("x", "y")], "must be an N×2 array of numbers"),
     ({"a": 1, "b": 2}, "points of type dict are not allowed")],
)  # fmt: skip
def test_bad_points_are_one_error(points, message) -> None:
    with pytest.raises(ValueError, match=message):
        pareto_front(points, objs("max", "min"))


# --- constraints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraints", "rows", "expected"),
    [({"lat": 10}, [(5,), (10,), (10.5,), (NAN,)], [True, True, False, False]),
     ({"acc": (">=", 0.9)}, [(0.95,), (0.9,), (0.8,), (NAN,)], [True, True, False, False]),
     ({"lat": 10, "acc": (">=", 0.9)}, [(5, 0.95), (5, 0.8), (20, 0.95), (10, 0.9)],
      [True, False, False, True]),
     ({"lat": 10}, [], [])],
)  # fmt: skip
def test_feasible_points_meet_every_bound_included(constraints, rows, expected) -> None:
    assert feasible(rows, constraints).tolist() == expected
    names = list(constraints)
    named = [dict(zip(names, r, strict=True)) for r in rows]
    assert feasible(named, constraints).tolist() == expected


def test_no_constraints_leave_every_point_feasible() -> None:
    assert feasible([{"a": 1}, {"a": NAN}], {}).tolist() == [True, True]
    assert feasible(np.zeros((3, 2)), []).tolist() == [True, True, True]


def test_a_constrained_metric_need_not_be_an_objective_and_filtering_comes_first() -> None:
    trials = [
        {"accuracy": 0.95, "latency_ms": 30.0, "params_m": 80.0},  # the unconstrained winner
        {"accuracy": 0.90, "latency_ms": 8.0, "params_m": 20.0},
        {"accuracy": 0.85, "latency_ms": 4.0, "params_m": 30.0},  # too big
        {"accuracy": 0.80, "latency_ms": 6.0, "params_m": 10.0},  # dominated by 2 only
        {"accuracy": 0.80, "latency_ms": 9.0, "params_m": 5.0},  # dominated by 1 and 3
    ]
    o = {"accuracy": "max", "latency_ms": "min"}
    assert pareto_front(trials, o).tolist() == [0, 1, 2]
    ok = feasible(trials, {"latency_ms": 10, "params_m": 25})
    assert ok.tolist() == [False, True, False, True, True]
    kept = np.flatnonzero(ok)
    # 3 joins the front once the too-big 2 that dominated it is filtered out
    assert kept[pareto_front([trials[i] for i in kept], o)].tolist() == [1, 3]


def test_feasible_refuses_a_point_missing_a_constrained_metric() -> None:
    with pytest.raises(ValueError, match=r"points\[0\] has no 'params_m'"):
        feasible([{"latency_ms": 3.0}], {"latency_ms": 10, "params_m": 25})


# --- hypervolume ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goals", "point", "reference"),
    [(("max", "max"), (3, 5), (1, 1)), (("max", "min"), (3, 1), (1, 5)),
     (("min", "max"), (1, 5), (3, 1)), (("min", "min"), (1, 1), (3, 5))],
)  # fmt: skip
def test_one_point_dominates_its_box(goals, point, reference) -> None:
    assert hypervolume([point], objs(*goals), reference) == 2 * 4


@pytest.mark.parametrize(
    ("goals", "points", "reference", "volume"),
    [# strips along a: [0,1]x5 + [1,3]x4 + [3,4]x1
     (("max", "max"), [(1, 5), (3, 4), (4, 1)], (0, 0), 5 + 8 + 1),
     (("min", "min"), [(-1, -5), (-3, -4), (-4, -1)], (0, 0), 14),
     (("max", "min"), [(1, -5), (3, -4), (4, -1)], (0, 0), 14),
     (("min", "max"), [(-1, 5), (-3, 4), (-4, 1)], (0, 0), 14),
     # accuracy against latency: distances (0.4, 10), (0.3, 20), (0.1, 30) from (0.5, 40ms)
     (("max", "min"), [(0.9, 30), (0.8, 20), (0.6, 10)], (0.5, 40), 0.1 * 30 + 0.2 * 20 + 0.1 * 10),
     # three 3x1x1 bars sharing the unit cube: 3*3 - 3*1 + 1
     (("max", "max", "max"), [(3, 1, 1), (1, 3, 1), (1, 1, 3)], (0, 0, 0), 7),
     # 2x1x1 and 1x2x2 overlapping in the unit cube: 2 + 4 - 1
     (("max", "max", "max"), [(2, 1, 1), (1, 2, 2)], (0, 0, 0), 5),
     (("max", "min", "max"), [(2, 9, 1), (1, 8, 2)], (0, 10, 0), 5),
     (("min", "min", "min"), [(8, 9, 9), (9, 8, 8)], (10, 10, 10), 5),
     # 4-D: two boxes 2x1x1x1 and 1x1x1x2 sharing a unit hypercube
     (("max", "max", "max", "max"), [(2, 1, 1, 1), (1, 1, 1, 2)], (0, 0, 0, 0), 3),
     # one objective: the best distance
     (("min",), [(3,), (1,), (2,)], (5,), 4)],
)  # fmt: skip
def test_hypervolume_of_shapes_computed_by_hand(goals, points, reference, volume) -> None:
    assert hypervolume(points, objs(*goals), reference) == pytest.approx(volume, rel=1e-12)


@pytest.mark.parametrize(
    ("goals", "points", "extra", "reference", "alone"),
    [(("max", "max"), [(1, 5), (3, 4), (4, 1)], (2, 3), (0, 0), 6),  # dominated
     (("max", "max"), [(1, 5), (3, 4), (4, 1)], (3, 4), (0, 0), 12),  # a duplicate
     (("max", "max", "max"), [(3, 1, 1), (1, 3, 1), (1, 1, 3)], (1, 1, 1), (0, 0, 0), 1),
     # not strictly better than the reference in every objective: nothing, even alone
     (("max", "max"), [(1, 5), (3, 4), (4, 1)], (9, -1), (0, 0), 0),
     (("max", "max"), [(1, 5), (3, 4), (4, 1)], (9, 0), (0, 0), 0),  # equal to it in one
     (("max", "min"), [(0.9, 30), (0.8, 20)], (0.99, 40), (0.5, 40), 0),
     (("min", "min"), [(1, 1)], (0, 3), (2, 2), 0),
     (("max", "max", "max"), [(3, 1, 1), (1, 3, 1), (1, 1, 3)], (5, 5, 0), (0, 0, 0), 0),
     (("max", "max"), [(1, 5), (3, 4)], (NAN, 9), (0, 0), 0)],  # NaN
)  # fmt: skip
def test_points_that_add_no_volume(goals, points, extra, reference, alone) -> None:
    before = hypervolume(points, objs(*goals), reference)
    assert hypervolume([*points, extra], objs(*goals), reference) == before
    assert hypervolume([extra], objs(*goals), reference) == alone


def test_hypervolume_does_not_depend_on_the_points_order() -> None:
    points = [(3, 1, 1), (1, 3, 1), (1, 1, 3), (2, 2, 0.5), (0.5, 2, 2)]
    o = objs("max", "max", "max")
    first = hypervolume(points, o, (0, 0, 0))
    for order in itertools.permutations(range(len(points))):
        assert hypervolume([points[i] for i in order], o, (0, 0, 0)) == first


def test_hypervolume_reads_mappings_and_a_named_reference() -> None:
    o = {"accuracy": "max", "latency_ms": "min"}
    trials = [{"latency_ms": 30.0, "accuracy": 0.9}, {"accuracy": 0.8, "latency_ms": 20.0}]
    by_name = hypervolume(trials, o, {"latency_ms": 40.0, "accuracy": 0.5})
    assert by_name == hypervolume([(0.9, 30), (0.8, 20)], o, (0.5, 40))
    assert by_name == pytest.approx(0.1 * 10 + 0.3 * 20)


@pytest.mark.parametrize(
    ("points", "reference", "message"),
    [([(1, 1)], (0, NAN), "reference=.* its values must be finite"),
     ([(1, 1)], (0, 0, 0), r"reference of shape \(3,\) is not allowed.*2 values"),
     ([(1, 1)], {"a": 0}, r"points\[0\] has no 'b'")],
)  # fmt: skip
def test_a_bad_reference_is_one_error(points, reference, message) -> None:
    with pytest.raises(ValueError, match=message):
        hypervolume(points, objs("max", "max"), reference)


def test_no_points_have_no_volume() -> None:
    assert hypervolume([], objs("max", "min"), (0, 0)) == 0.0
    assert hypervolume(np.empty((0, 3)), objs("max", "min", "min"), (0, 0, 0)) == 0.0


def test_a_few_hundred_points_in_four_objectives_stay_quick() -> None:
    """Every point on the front (a sphere), the slicing's worst case."""
    rng = np.random.default_rng(0)
    y = np.abs(rng.normal(size=(150, 4)))
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    volume = hypervolume(y, objs("max", "max", "max", "max"), (0, 0, 0, 0))
    assert len(pareto_front(y, objs("max", "max", "max", "max"))) == 150
    assert 0 < volume < math.pi**2 / 32  # below the sphere's positive orthant


# --- the dominator named in a stopping reason ----------------------------------------------------

# accuracy (max), latency (min): 0 is the trial judged
JUDGED = [(0.70, 30), (0.80, 20), (0.90, 25), (0.90, 25), (0.95, 40), (0.85, 10)]


@pytest.mark.parametrize(
    ("points", "goals", "index", "expected"),
    [(JUDGED, ("max", "min"), 0, 2),  # 2, 3, 5 dominate it; 2 and 3 most accurate; 2 first
     (JUDGED, ("max", "min"), 1, 5),  # only 5 dominates it
     (JUDGED, ("max", "min"), 4, None),  # on the front
     (JUDGED, ("max", "min"), 3, None),  # a duplicate on the front
     # a tie in the first objective goes to the better second: 2 (latency 20)
     ([(0.5, 50, 50), (0.9, 30, 10), (0.9, 20, 20)], ("max", "min", "min"), 0, 2),
     # only front points are named: 1 dominates 0 but 2 dominates 1
     ([(1, 1), (2, 2), (3, 3)], ("max", "max"), 0, 2),
     ([(1, 1), (NAN, 5)], ("max", "max"), 0, None),  # NaN never dominates
     ([(NAN, 1), (5, 5)], ("max", "max"), 0, None),  # nor is dominated
     ([(1, 1)], ("min", "min"), 0, None)],
)  # fmt: skip
def test_dominated_by_names_the_most_accurate_front_point_that_beats_it(
    points, goals, index, expected
) -> None:
    assert dominated_by(index, points, objs(*goals)) == expected


@pytest.mark.parametrize(
    ("index", "points", "message"),
    [(3, [(1, 1)], "point_index=3 is not allowed; it must be an index from 0 to 0"),
     (-1, [(1, 1)], "point_index=-1"), (True, [(1, 1)], "point_index=True"),
     (0, [], "there are no points")],
)  # fmt: skip
def test_dominated_by_refuses_an_index_outside_the_points(index, points, message) -> None:
    with pytest.raises(ValueError, match=message):
        dominated_by(index, points, objs("max", "max"))


# --- properties ----------------------------------------------------------------------------------

GOALS = st.sampled_from(["max", "min"])


@st.composite
def point_sets(draw, max_points: int = 8, nan: bool = True):
    """A few points on a small grid (ties and duplicates likely), sometimes with NaN."""
    m = draw(st.integers(1, 3))
    goals = draw(st.lists(GOALS, min_size=m, max_size=m))
    values = st.sampled_from([0.0, 1.0, 2.0, 3.0, NAN] if nan else [0.0, 1.0, 2.0, 3.0])
    rows = draw(st.lists(st.lists(values, min_size=m, max_size=m), max_size=max_points))
    return np.array(rows, dtype=float).reshape(len(rows), m), objs(*goals)


@given(point_sets())
def test_the_front_is_exactly_the_points_no_other_dominates(case) -> None:
    points, o = case
    brute = [
        i
        for i, p in enumerate(points)
        if not np.isnan(p).any()
        and not any(dominates(q, p, o) for j, q in enumerate(points) if j != i)
    ]
    front = pareto_front(points, o).tolist()
    assert front == brute
    for i in range(len(points)):
        j = dominated_by(i, points, o)
        if i in front or np.isnan(points[i]).any():
            assert j is None
        else:
            assert j in front and dominates(points[j], points[i], o)


@st.composite
def hypervolume_cases(draw, max_m: int = 4, max_points: int = 7):
    """Points with integer coordinates in 0..6 (ties likely), mixed goals, and a reference near
    the worse end of each objective's range (most points better than it, some not)."""
    m = draw(st.integers(2, max_m))
    goals = draw(st.lists(GOALS, min_size=m, max_size=m))
    coords = st.lists(st.integers(0, 6), min_size=m, max_size=m)
    points = np.array(draw(st.lists(coords, max_size=max_points)), dtype=float).reshape(-1, m)
    reference = [draw(st.integers(0, 1) if g == "max" else st.integers(5, 6)) for g in goals]
    return points, objs(*goals), np.array(reference, dtype=float)


def _oriented(points, o, reference):
    signs = np.array([1.0 if g == "max" else -1.0 for g in o.values()])
    return np.clip((points - reference) * signs, 0, None)


def _inclusion_exclusion(y) -> float:
    """The union of the boxes [0, y_i] by inclusion-exclusion (2^N terms)."""
    total = 0.0
    for size in range(1, len(y) + 1):
        for subset in itertools.combinations(range(len(y)), size):
            total += (-1) ** (size + 1) * float(np.prod(y[list(subset)].min(axis=0)))
    return total


@given(hypervolume_cases())
def test_hypervolume_equals_inclusion_exclusion(case) -> None:
    points, o, reference = case
    expected = _inclusion_exclusion(_oriented(points, o, reference))
    assert hypervolume(points, o, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(hypervolume_cases(max_m=3, max_points=6), st.integers(0, 2**32 - 1))
def test_hypervolume_matches_a_monte_carlo_estimate(case, seed) -> None:
    points, o, reference = case
    y = _oriented(points, o, reference)
    exact = hypervolume(points, o, reference)
    if not len(y) or not (upper := y.max(axis=0)).all():
        assert exact == 0.0
        return
    box = float(np.prod(upper))
    samples = np.random.default_rng(seed).uniform(0, upper, size=(20_000, len(upper)))
    covered = (samples[:, None, :] <= y[None, :, :]).all(axis=2).any(axis=1)
    # the estimate's standard deviation is at most box / (2 * sqrt(20_000)) = 0.0035 * box
    assert abs(covered.mean() * box - exact) <= 0.025 * box


@given(hypervolume_cases(), st.randoms(use_true_random=False))
def test_hypervolume_ignores_order_and_dominated_points(case, random) -> None:
    points, o, reference = case
    exact = hypervolume(points, o, reference)
    shuffled = points[random.sample(range(len(points)), len(points))]
    assert hypervolume(shuffled, o, reference) == exact
    front = pareto_front(points, o)
    assert hypervolume(points[front], o, reference) == pytest.approx(exact, rel=1e-12)
