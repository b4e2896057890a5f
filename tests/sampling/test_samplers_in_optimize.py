"""The samplers behind ``optimize(sampling=...)``: names, grid size, concurrency, seeds."""

from __future__ import annotations

import math
from typing import Any

import pytest

from automl_vision.space import ImageClassificationSearchSpace, choice, loguniform, uniform
from automl_vision.tuning.optimize import optimize

SPACE = {"x": uniform(-2, 2), "y": uniform(-2, 2)}


def neg_sphere(params: dict[str, Any]) -> float:
    return -(params["x"] ** 2 + (params["y"] - 0.5) ** 2)


@pytest.mark.parametrize("sampling", ["random", "sobol", "bayesian", "Bayesian"])
def test_optimize_accepts_sampler_names(sampling: str) -> None:
    result = optimize(neg_sphere, SPACE, sampling=sampling, max_trials=12, seed=3)
    assert len(result.trials) == 12
    again = optimize(neg_sphere, SPACE, sampling=sampling, max_trials=12, seed=3)
    assert [t.params for t in again.trials] == [t.params for t in result.trials]


def test_grid_runs_every_combination_by_default() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"),
        momentum=choice(0.8, 0.9),
        learning_rate=choice(0.01, 0.001),
    )
    result = optimize(lambda p: p["learning_rate"], space, sampling="grid")
    assert len(result.trials) == 6  # (sgd x 2 momenta + adam) x 2 learning rates
    assert len({tuple(sorted(t.params.items())) for t in result.trials}) == 6


def test_bayesian_with_concurrent_trials_proposes_distinct_points_and_improves() -> None:
    result = optimize(
        neg_sphere, SPACE, sampling="bayesian", max_trials=24, max_concurrent_trials=3, seed=0
    )
    points = [(t.params["x"], t.params["y"]) for t in result.trials]
    assert len(set(points)) == len(points)
    assert result.best_value > -1e-3


def test_bayesian_minimizes_an_image_space_with_conditions() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"),
        momentum=uniform(0.8, 0.99),
        learning_rate=loguniform(-9, -2),
    )

    def loss(p: dict[str, Any]) -> float:
        base = 0.0 if p["optimizer"] == "adam" else 0.2
        return base + (math.log(p["learning_rate"]) + 6.9) ** 2 / 10

    result = optimize(loss, space, sampling="bayesian", max_trials=20, goal="minimize", seed=1)
    assert result.best_params["optimizer"] == "adam"
    assert result.best_value < 0.05
    for trial in result.trials:
        assert ("momentum" in trial.params) is (trial.params["optimizer"] == "sgd")
