"""Contract suite run over every sampler: reproducibility, supports, conditions, unions,
both goals, pickling, and the factory."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from sampling_loop import run_loop

from automl_vision.sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    RandomParameterSampling,
    Sampler,
    SamplingAlgorithm,
    Suggestion,
    create_sampler,
)
from automl_vision.sampling.multiobjective import ParetoBayesianSampling
from automl_vision.space import (
    ImageClassificationSearchSpace,
    ParameterSpace,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from automl_vision.trial import PrimaryMetricGoal

Factory = Callable[[Any, int], Sampler]


def toy_cost(params: Mapping[str, Any]) -> dict[str, float]:
    """A cheap objective known before training, for any configuration (module level: picklable)."""
    total = sum(abs(float(v)) for v in params.values() if isinstance(v, (int, float)))
    return {"cost": total + len(params)}


# every sampler that accepts any distribution; few startup trials so the model is exercised
CONTINUOUS: dict[str, Factory] = {
    "random": lambda space, seed: RandomParameterSampling(space, seed=seed),
    "sobol": lambda space, seed: RandomParameterSampling(space, seed=seed, rule="sobol"),
    "bayesian": lambda space, seed: BayesianParameterSampling(space, seed=seed, n_startup_trials=3),
    # the multi-objective sampler, adapted: a second objective known from the parameters alone
    "pareto-bayesian": lambda space, seed: ParetoBayesianSampling(
        space, {"accuracy": "max", "cost": "min"}, toy_cost, seed=seed, n_startup_trials=3
    ),
    "pareto-scalarization": lambda space, seed: ParetoBayesianSampling(
        space,
        {"accuracy": "max", "cost": "min"},
        toy_cost,
        seed=seed,
        n_startup_trials=3,
        acquisition="scalarization",
    ),
}
ALL: dict[str, Factory] = {**CONTINUOUS, "grid": lambda space, seed: GridParameterSampling(space)}

EVERY_KIND = {
    "c": choice("a", "b", "c"),
    "ri": randint(7),
    "u": uniform(-2.0, 3.0),
    "qu": quniform(16, 128, 16),
    "qu_real": quniform(0.1, 0.9, 0.05),
    "lu": loguniform(-9.2, -2.3),
    "qlu": qloguniform(0, 6, 2),
    "n": normal(1.0, 2.0),
    "qn": qnormal(0.0, 3.0, 0.5),
    "ln": lognormal(0.0, 0.5),
    "qln": qlognormal(1.0, 0.7, 1),
    "fixed": 42,
}
DISCRETE = {"a": choice(1, 2, 3), "b": choice("x", "y"), "flag": choice(True, False)}


def smooth(params: dict[str, Any]) -> float:
    """Some deterministic objective over EVERY_KIND / DISCRETE style parameters."""
    total = 0.0
    for name, value in sorted(params.items()):
        if isinstance(value, (bool, str)):
            total += 0.05 * (sum(map(ord, f"{name}={value}")) % 7)
        elif isinstance(value, (int, float)):
            total -= (math.tanh(float(value) / 10.0) - 0.2) ** 2
    return total


def space_for(kind: str) -> dict[str, Any]:
    return DISCRETE if kind == "grid" else EVERY_KIND


# -- reproducibility ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(ALL))
def test_same_seed_and_history_give_the_same_proposal(kind: str) -> None:
    space = space_for(kind)
    history = run_loop(ALL[kind](space, 3), smooth, 6)
    for n in (0, 3, 6):
        a = ALL[kind](space, 3).ask(history[:n])
        b = ALL[kind](space, 3).ask(history[:n])
        assert a == b


@pytest.mark.parametrize("kind", sorted(CONTINUOUS))
def test_a_whole_run_is_reproducible_and_seeds_matter(kind: str) -> None:
    runs = [run_loop(CONTINUOUS[kind](EVERY_KIND, seed), smooth, 6) for seed in (5, 5, 6)]
    params = [[t.params for t in run] for run in runs]
    assert params[0] == params[1]
    assert params[0] != params[2]


@pytest.mark.parametrize("kind", sorted(ALL))
def test_ask_does_not_depend_on_earlier_calls(kind: str) -> None:
    """Proposal i is a function of the seed and the history only (so resume works)."""
    space = space_for(kind)
    history = run_loop(ALL[kind](space, 11), smooth, 5)
    fresh = ALL[kind](space, 11)
    used = ALL[kind](space, 11)
    for n in range(5):
        used.ask(history[:n])
    assert fresh.ask(history) == used.ask(history)


@pytest.mark.parametrize("kind", sorted(CONTINUOUS))
def test_seed_none_draws_one_and_keeps_it(kind: str) -> None:
    sampler = CONTINUOUS[kind](EVERY_KIND, None)
    assert isinstance(sampler.seed, int)
    again = CONTINUOUS[kind](EVERY_KIND, sampler.seed)
    assert sampler.ask([]) == again.ask([])


# -- supports -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(ALL))
def test_proposals_lie_in_the_support_of_every_distribution(kind: str) -> None:
    space = space_for(kind)
    param_space = ParameterSpace(space)
    history = run_loop(ALL[kind](space, 0), smooth, 12)
    assert history
    for trial in history:
        assert param_space.contains(trial.params), trial.params
        assert set(trial.params) == set(space)
        for name, value in trial.params.items():
            spec = space[name]
            if isinstance(spec, (randint, quniform, qloguniform)) and spec.support.q in (None, 1):
                assert isinstance(value, int), (name, value)
        assert trial.params.get("fixed", 42) == 42


@pytest.mark.parametrize("kind", sorted(ALL))
def test_suggestions_are_suggestion_records(kind: str) -> None:
    suggestion = ALL[kind](space_for(kind), 0).ask([])
    assert isinstance(suggestion, Suggestion)
    assert suggestion.space_index == 0


# -- conditional parameters -------------------------------------------------------------------
def conditional_space(kind: str) -> ImageClassificationSearchSpace:
    if kind == "grid":
        return ImageClassificationSearchSpace(
            optimizer=choice("sgd", "adam", "adamw"),
            momentum=choice(0.8, 0.9),
            beta1=choice(0.85, 0.9),
            learning_rate=choice(0.01, 0.001),
        )
    return ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam", "adamw"),
        momentum=uniform(0.8, 0.99),
        nesterov=choice(True, False),
        beta1=uniform(0.8, 0.95),
        ams_gradient=choice(True, False),
        learning_rate=loguniform(-9, -2),
        learning_rate_scheduler=choice("warmup_cosine", "step"),
        step_lr_gamma=uniform(0.1, 0.9),
        warmup_cosine_lr_cycles=uniform(0.3, 0.6),
    )


def lr_objective(params: dict[str, Any]) -> float:
    return -abs(math.log(params["learning_rate"]) + 5) + (params["optimizer"] == "adam")


@pytest.mark.parametrize("kind", sorted(ALL))
def test_inactive_conditional_fields_are_not_sampled(kind: str) -> None:
    space = conditional_space(kind)
    history = run_loop(ALL[kind](space, 1), lr_objective, 16)
    optimizers = set()
    for trial in history:
        p = trial.params
        optimizers.add(p["optimizer"])
        sgd = p["optimizer"] == "sgd"
        assert ("momentum" in p) is sgd
        assert ("beta1" in p) is (not sgd)
        if kind != "grid":
            assert ("nesterov" in p) is sgd
            step = p["learning_rate_scheduler"] == "step"
            assert ("step_lr_gamma" in p) is step
            assert ("warmup_cosine_lr_cycles" in p) is (not step)
        assert space.to_parameter_space().contains(p)
    assert optimizers == {"sgd", "adam", "adamw"}


# -- unions of spaces ---------------------------------------------------------------------------
def union_spaces(kind: str) -> list[Any]:
    lr = choice(0.01, 0.001) if kind == "grid" else loguniform(-9, -2)
    return [
        ImageClassificationSearchSpace(model_name="resnet18", learning_rate=lr),
        ImageClassificationSearchSpace(
            model_name="vits16r224",
            learning_rate=lr,
            training_batch_size=choice(16, 32) if kind == "grid" else quniform(16, 64, 16),
        ),
    ]


@pytest.mark.parametrize("kind", sorted(ALL))
def test_a_list_of_spaces_is_sampled_as_a_union(kind: str) -> None:
    spaces = union_spaces(kind)
    history = run_loop(ALL[kind](spaces, 2), lr_like, 12)
    used = {t.space_index for t in history}
    assert used == {0, 1}
    for trial in history:
        space = spaces[trial.space_index].to_parameter_space()
        assert space.contains(trial.params), (trial.space_index, trial.params)
        has_batch = "training_batch_size" in trial.params
        assert has_batch is (trial.space_index == 1)


def lr_like(params: dict[str, Any]) -> float:
    return -abs(math.log(params["learning_rate"]) + 5) + 0.1 * (params["model_name"] == "resnet18")


@pytest.mark.parametrize("kind", sorted(ALL))
def test_a_plain_dict_space_works(kind: str) -> None:
    space = {"x": choice(1, 2)} if kind == "grid" else {"x": uniform(0, 1), "tag": "fixed"}
    suggestion = ALL[kind](space, 0).ask([])
    assert suggestion is not None
    assert ParameterSpace(space).contains(suggestion.params)


# -- goals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("goal", ["maximize", "minimize", PrimaryMetricGoal.MAXIMIZE, "MIN"])
@pytest.mark.parametrize("kind", sorted(ALL))
def test_both_goals_are_accepted(kind: str, goal: Any) -> None:
    history = run_loop(ALL[kind](space_for(kind), 0), smooth, 6, goal=goal)
    assert len(history) == 6


@pytest.mark.parametrize("kind", sorted(ALL))
def test_an_unknown_goal_is_an_error(kind: str) -> None:
    with pytest.raises(ValueError, match="goal"):
        ALL[kind](space_for(kind), 0).ask([], "sideways")


@pytest.mark.parametrize(
    ("goal", "good"),
    [
        (PrimaryMetricGoal.MAXIMIZE, lambda x: x > 0.9),
        (PrimaryMetricGoal.MINIMIZE, lambda x: x < 0.1),
    ],
)
def test_bayesian_follows_the_goal(goal: PrimaryMetricGoal, good: Callable[[float], bool]) -> None:
    sampler = BayesianParameterSampling({"x": uniform(0, 1)}, seed=0, n_startup_trials=4)
    history = run_loop(sampler, lambda p: p["x"], 14, goal=goal)
    late = [t.params["x"] for t in history[8:]]
    assert sum(good(x) for x in late) >= 4, late


# -- pickling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(ALL))
def test_samplers_pickle_and_continue_identically(kind: str) -> None:
    space = conditional_space(kind)
    sampler = ALL[kind](space, 4)
    history = run_loop(sampler, lr_objective, 5)
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy.seed == sampler.seed
    assert copy.ask(history) == sampler.ask(history)


# -- factory ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "cls", "rule"),
    [
        ("random", RandomParameterSampling, "random"),
        ("Sobol", RandomParameterSampling, "sobol"),
        (" GRID ", GridParameterSampling, None),
        ("bayesian", BayesianParameterSampling, None),
        (SamplingAlgorithm.BAYESIAN, BayesianParameterSampling, None),
        (SamplingAlgorithm.SOBOL, RandomParameterSampling, "sobol"),
    ],
)
def test_create_sampler_from_names_and_enums(spec: Any, cls: type, rule: str | None) -> None:
    sampler = create_sampler(spec, DISCRETE, seed=9)
    assert type(sampler) is cls
    if rule is not None:
        assert sampler.rule.value == rule
    if cls is not GridParameterSampling:
        assert sampler.seed == 9


def test_create_sampler_returns_an_instance_as_is() -> None:
    sampler = RandomParameterSampling(DISCRETE, seed=1)
    assert create_sampler(sampler, EVERY_KIND, seed=2) is sampler


@pytest.mark.parametrize("spec", ["hyperband", "", 3, None])
def test_create_sampler_rejects_unknown_names_listing_the_allowed_ones(spec: Any) -> None:
    with pytest.raises(ValueError, match="'random', 'sobol', 'grid', 'bayesian'"):
        create_sampler(spec, DISCRETE)


def test_same_history_same_proposal_with_an_explicit_generator() -> None:
    """ask(rng=...) is honoured: the sweep may derive the generator itself."""
    sampler = RandomParameterSampling(EVERY_KIND, seed=0)
    a = sampler.ask([], rng=np.random.default_rng([0, 0]))
    b = sampler.ask([])
    c = sampler.ask([], rng=np.random.default_rng(99))
    assert a == b
    assert c != a
