"""ParetoBayesianSampling: the closed-form EHVI, determinism, failed trials, bad input, and a toy
problem with a known front where it beats random search."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sampling_loop import completed, run_loop

from automl_vision.pareto import hypervolume
from automl_vision.sampling.multiobjective import ParetoBayesianSampling, ehvi_2d
from automl_vision.space import uniform
from automl_vision.trial import Trial, TrialStatus

SPACE = {"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)}
OBJECTIVES = {"accuracy": "max", "cost": "min"}


def cost(params: dict[str, Any]) -> dict[str, float]:
    return {"cost": float(params["x"])}


def accuracy(params: dict[str, Any]) -> float:
    """Bigger (costlier) is better, and y should be 0.3: the front is y = 0.3, every x."""
    return math.sqrt(params["x"]) * (1.0 - 2.0 * (params["y"] - 0.3) ** 2)


@pytest.mark.parametrize(
    ("front", "mean", "cand_cost", "expected"),
    [
        ([], 0.4, 0.5, 0.5 * 0.4),  # empty front: the box to the reference
        ([(0.6, 0.3)], 0.4, 0.5, 0.0),  # dominated by the front point
        ([(0.6, 0.3)], 0.4, 0.1, (0.3 - 0.1) * 0.4),  # cheaper: the strip left of the point
        ([(0.6, 0.3)], 0.8, 0.5, (1.0 - 0.5) * (0.8 - 0.6)),  # more accurate: the strip above
        ([(0.6, 0.3)], 0.8, 0.1, 0.2 * 0.8 + 0.5 * 0.2 + 0.2 * 0.2),  # dominates it
        ([(0.6, 0.3)], 0.4, 1.2, 0.0),  # beyond the reference cost
    ],
)
def test_ehvi_with_a_certain_value_is_the_hypervolume_improvement(
    front: list[tuple[float, float]], mean: float, cand_cost: float, expected: float
) -> None:
    got = ehvi_2d(
        np.array([mean]), np.array([1e-9]), np.array([cand_cost]), np.array(front), (0, 1)
    )
    assert got[0] == pytest.approx(expected, abs=1e-7)


def test_ehvi_matches_monte_carlo_over_the_hypervolume() -> None:
    rng = np.random.default_rng(0)
    front = np.array([(0.2, 0.1), (0.5, 0.4), (0.7, 0.8), (0.4, 0.6)])  # the last is dominated
    base = hypervolume(front, OBJECTIVES, (0.0, 1.0))
    for mean, sd, c in [(0.45, 0.2, 0.3), (0.8, 0.1, 0.9), (0.1, 0.3, 0.05)]:
        ys = rng.normal(mean, sd, 4000)
        gains = [
            hypervolume(np.vstack([front, [(y, c)]]), OBJECTIVES, (0.0, 1.0)) - base for y in ys
        ]
        got = ehvi_2d(np.array([mean]), np.array([sd]), np.array([c]), front, (0.0, 1.0))[0]
        assert got == pytest.approx(float(np.mean(gains)), abs=6e-3)


@pytest.mark.parametrize("acquisition", ["ehvi", "scalarization"])
def test_the_same_seed_and_history_give_the_same_proposals(acquisition: str) -> None:
    def make(seed: int) -> ParetoBayesianSampling:
        return ParetoBayesianSampling(
            SPACE, OBJECTIVES, cost, seed=seed, n_startup_trials=4, acquisition=acquisition
        )

    a, b, c = (run_loop(make(s), accuracy, 7) for s in (1, 1, 2))
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in c]
    for t in a:
        assert 0.0 <= t.params["x"] <= 1.0 and 0.0 <= t.params["y"] <= 1.0


def test_failed_and_nan_trials_are_ignored_by_the_model_and_never_proposed_again() -> None:
    history = run_loop(ParetoBayesianSampling(SPACE, OBJECTIVES, cost, seed=3), accuracy, 8)
    failed = Trial(8, {"x": 0.9, "y": 0.3}, 0, TrialStatus.FAILED)
    nan = completed(9, {"x": 0.8, "y": 0.3}, math.nan)
    sampler = ParetoBayesianSampling(SPACE, OBJECTIVES, cost, seed=3)
    suggestion = sampler.ask([*history, failed, nan], rng=np.random.default_rng(0))
    assert suggestion is not None
    assert suggestion.params not in ({"x": 0.9, "y": 0.3}, {"x": 0.8, "y": 0.3})
    # the model ignores them: the proposal is the one made without them in the history
    alone = sampler.ask(history, rng=np.random.default_rng(0))
    assert alone is not None and suggestion.params == alone.params


def _front_volume(history: list[Trial]) -> float:
    points = [(t.value, t.params["x"]) for t in history]
    return hypervolume(points, OBJECTIVES, (0.0, 1.0))


def test_it_finds_a_better_front_than_random_search_on_a_toy_problem() -> None:
    ours, rand = [], []
    for seed in range(3):
        sampler = ParetoBayesianSampling(SPACE, OBJECTIVES, cost, seed=seed)
        ours.append(_front_volume(run_loop(sampler, accuracy, 20)))
        rng = np.random.default_rng(seed)
        points = [{"x": float(rng.random()), "y": float(rng.random())} for _ in range(20)]
        rand.append(_front_volume([completed(i, p, accuracy(p)) for i, p in enumerate(points)]))
    assert np.median(ours) > np.median(rand)
    assert min(ours) > 0.95 * max(rand)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objectives": {"accuracy": "max"}}, "at least one objective known"),
        (
            {"objectives": {"accuracy": "max", "cost": "min", "mb": "min"}},
            "exactly two objectives",
        ),
        ({"reference": {"latency": 3.0}}, "'latency' is not a known objective"),
        ({"acquisition": "nope"}, "acquisition"),
        ({"known": 3}, "known"),
    ],
)
def test_bad_input_is_one_clear_value_error(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"objectives": OBJECTIVES, "known": cost, **kwargs}
    with pytest.raises(ValueError, match=message):
        ParetoBayesianSampling(SPACE, **args)


def test_a_known_function_missing_an_objective_is_named() -> None:
    sampler = ParetoBayesianSampling(SPACE, OBJECTIVES, lambda p: {"size": 1.0}, seed=0)
    history = run_loop(ParetoBayesianSampling(SPACE, OBJECTIVES, cost, seed=0), accuracy, 8)
    with pytest.raises(ValueError, match="no value for the objective 'cost'"):
        sampler.ask(history)


def test_a_three_objective_problem_runs_with_scalarization() -> None:
    objectives = {"accuracy": "max", "cost": "min", "size": "max"}

    def known(p: dict[str, Any]) -> dict[str, float]:
        return {"cost": p["x"], "size": p["y"]}

    sampler = ParetoBayesianSampling(
        SPACE, objectives, known, seed=0, acquisition="scalarization", n_startup_trials=3
    )
    history = run_loop(sampler, accuracy, 6)
    assert len({(t.params["x"], t.params["y"]) for t in history}) == 6
