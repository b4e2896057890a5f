"""Random and Sobol sampling: the sequence, resume, rules, properties, duplicates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sampling_loop import completed, run_loop

from automl_vision.sampling import RandomParameterSampling, SamplingRule
from automl_vision.space import choice, uniform
from automl_vision.trial import Trial, TrialStatus

UNIT2 = {"x": uniform(0, 1), "y": uniform(0, 1)}


def zero(params: dict[str, Any]) -> float:
    return 0.0


def test_sobol_points_are_balanced_like_a_net() -> None:
    """The first 16 points of a scrambled 2-D Sobol sequence put one point in each cell of a
    4 x 4 grid (a random sample almost never does)."""
    history = run_loop(RandomParameterSampling(UNIT2, seed=3, rule="sobol"), zero, 16)
    cells = {(int(t.params["x"] * 4), int(t.params["y"] * 4)) for t in history}
    assert len(cells) == 16
    random_cells = {
        (int(t.params["x"] * 4), int(t.params["y"] * 4))
        for t in run_loop(RandomParameterSampling(UNIT2, seed=3), zero, 16)
    }
    assert len(random_cells) < 16


def test_sobol_proposal_i_depends_only_on_the_seed_and_the_history_length() -> None:
    """Resume: whatever the earlier trials were, proposal i is point i of the sequence."""
    sequence = run_loop(RandomParameterSampling(UNIT2, seed=5, rule="sobol"), zero, 8)
    other = [completed(i, {"x": 0.5, "y": 0.25 + i / 100}, 1.0) for i in range(5)]
    resumed = RandomParameterSampling(UNIT2, seed=5, rule="sobol").ask(other)
    assert resumed.params == sequence[5].params


def test_sobol_seeds_scramble_differently() -> None:
    a = RandomParameterSampling(UNIT2, seed=1, rule="sobol").ask([])
    b = RandomParameterSampling(UNIT2, seed=2, rule="sobol").ask([])
    assert a != b


def test_random_proposals_depend_on_the_history_length_not_on_call_order() -> None:
    sampler = RandomParameterSampling(UNIT2, seed=0)
    history = [completed(i, {"x": 0.1, "y": 0.2 + i / 10}, 0.0) for i in range(3)]
    first = sampler.ask(history)
    sampler.ask(history[:1])
    assert sampler.ask(history) == first


def test_sobol_union_uses_both_sub_spaces() -> None:
    spaces = [{"m": "a", "x": uniform(0, 1)}, {"m": "b", "x": uniform(0, 1), "y": uniform(0, 1)}]
    history = run_loop(RandomParameterSampling(spaces, seed=0, rule="sobol"), zero, 16)
    counts = np.bincount([t.space_index for t in history], minlength=2)
    assert counts.tolist() == [8, 8]  # the first coordinate splits a balanced net evenly


@pytest.mark.parametrize("rule", ["random", "sobol", "SOBOL", " Random ", *SamplingRule])
def test_rule_accepts_strings_and_enums(rule: Any) -> None:
    sampler = RandomParameterSampling(UNIT2, seed=0, rule=rule)
    assert sampler.rule is SamplingRule.parse(rule)


def test_unknown_rule_is_an_error_listing_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="rule='halton'.*'random', 'sobol'"):
        RandomParameterSampling(UNIT2, rule="halton")


def test_properties_set_rule_and_seed() -> None:
    a = RandomParameterSampling(UNIT2, {"rule": "sobol", "seed": 12})
    b = RandomParameterSampling(UNIT2, seed=12, rule="sobol")
    assert a.rule is SamplingRule.SOBOL and a.seed == 12
    assert a.ask([]) == b.ask([])


@pytest.mark.parametrize(
    ("properties", "match"),
    [
        ({"benchmark": 1}, "unknown key 'benchmark'"),
        (["rule"], "properties must be a mapping"),
    ],
)
def test_bad_properties_are_errors(properties: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RandomParameterSampling(UNIT2, properties)


def test_conflicting_seeds_are_an_error() -> None:
    with pytest.raises(ValueError, match="seed is given twice"):
        RandomParameterSampling(UNIT2, {"seed": 1}, seed=2)


@pytest.mark.parametrize("rule", ["random", "sobol"])
def test_no_duplicates_in_a_small_discrete_space_then_none(rule: str) -> None:
    space = {"a": choice(1, 2, 3), "b": choice("x", "y")}
    sampler = RandomParameterSampling(space, seed=0, rule=rule)
    history = run_loop(sampler, zero, 50)
    configs = [tuple(sorted(t.params.items())) for t in history]
    assert len(configs) == 6
    assert len(set(configs)) == 6
    assert sampler.ask(history) is None


def test_failed_and_running_trials_also_count_as_tried() -> None:
    space = {"a": choice(1, 2)}
    history = [
        Trial(0, {"a": 1}, 0, TrialStatus.FAILED),
        Trial(1, {"a": 2}, 0, TrialStatus.RUNNING),
    ]
    assert RandomParameterSampling(space, seed=0).ask(history) is None
    assert RandomParameterSampling(space, seed=0).ask(history[:1]).params == {"a": 2}
