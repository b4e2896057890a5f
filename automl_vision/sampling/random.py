"""Random sampling: independent draws, or a scrambled Sobol sequence (rule ``sobol``).

Both rules are reproducible: proposal ``i`` depends only on the seed and the history. With
``sobol``, proposal ``i`` is point ``i = len(history)`` of the Sobol sequence scrambled with the
sampler's seed, mapped through each distribution's inverse CDF (``from_unit``), so a resumed
sweep continues the same sequence. With a list of spaces, the first Sobol coordinate (or one
random draw) picks the sub-space uniformly. Parameters that the chosen values leave inactive
are not sampled.

Duplicates are avoided: a configuration already in the history (in a discrete space) is
redrawn; once a finite space is exhausted the sampler returns None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from automl_vision.enums import ChoiceEnum
from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.combinations import union_combinations
from automl_vision.sampling.configs import config_key, from_unit_vector, n_distributions, seen_keys
from automl_vision.space import ParameterSpace
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["RandomParameterSampling", "SamplingRule", "sobol_point"]

# redraws before falling back to listing the unseen configurations of a finite space
_ATTEMPTS = 64
# the most configurations listed to pick an unseen one once redrawing keeps hitting seen ones
_ENUMERATION_LIMIT = 100_000


class SamplingRule(ChoiceEnum):
    """How ``RandomParameterSampling`` draws: independent uniform draws or a Sobol sequence."""

    RANDOM = "random"
    SOBOL = "sobol"


def sobol_point(seed: int, dim: int, index: int) -> np.ndarray:
    """Point ``index`` (0-based) of the ``dim``-dimensional Sobol sequence scrambled by ``seed``."""
    engine = qmc.Sobol(max(dim, 1), scramble=True, seed=np.random.default_rng([seed, 0x50B]))
    if index:
        engine.fast_forward(index)
    return engine.random(1)[0]


def space_from_unit(u: float, n_spaces: int) -> int:
    return min(int(u * n_spaces), n_spaces - 1)


def sobol_dimension(spaces: Sequence[ParameterSpace]) -> int:
    """Coordinates a Sobol point needs: one to pick the sub-space (if several), then one per
    distribution of the largest sub-space."""
    return (len(spaces) > 1) + max(n_distributions(s) for s in spaces)


def sobol_suggestion(spaces: Sequence[ParameterSpace], seed: int, index: int) -> Suggestion:
    """The configuration at point ``index`` of the seeded Sobol sequence over ``spaces``."""
    u = sobol_point(seed, sobol_dimension(spaces), index)
    space_index = space_from_unit(u[0], len(spaces)) if len(spaces) > 1 else 0
    coords = u[1:] if len(spaces) > 1 else u
    return Suggestion(from_unit_vector(spaces[space_index], coords), space_index)


def random_suggestion(spaces: Sequence[ParameterSpace], rng: np.random.Generator) -> Suggestion:
    """One independent draw: a uniformly chosen sub-space, then its active parameters."""
    space_index = int(rng.integers(len(spaces))) if len(spaces) > 1 else 0
    return Suggestion(spaces[space_index].sample(rng), space_index)


def unseen_suggestion(
    spaces: Sequence[ParameterSpace], seen: set[Any], rng: np.random.Generator
) -> Suggestion | None:
    """A uniformly chosen configuration not in ``seen``, when the union of spaces is finite.

    Returns None when every configuration has been seen; when the union is not finite (or too
    large to list), a plain random draw.
    """
    combos = union_combinations(spaces, _ENUMERATION_LIMIT)
    if combos is None:
        return random_suggestion(spaces, rng)
    unseen = [(i, c) for i, c in combos if config_key(c) not in seen]
    if not unseen:
        return None
    space_index, config = unseen[int(rng.integers(len(unseen)))]
    return Suggestion(config, space_index)


class RandomParameterSampling(Sampler):
    """Random (or Sobol quasi-random) sampling over a space or a union of spaces.

    ``properties`` is HyperDrive's dictionary of extra settings; the keys ``rule`` and
    ``seed`` are understood (as alternatives to the keyword arguments).
    """

    def __init__(
        self,
        parameter_space: Any,
        properties: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        rule: SamplingRule | str = SamplingRule.RANDOM,
    ) -> None:
        props = _properties(properties)
        if "seed" in props:
            if seed is not None and int(props["seed"]) != int(seed):
                raise ValueError(
                    f"seed is given twice with different values: seed={seed!r} and "
                    f"properties['seed']={props['seed']!r}"
                )
            seed = int(props["seed"])
        if "rule" in props:
            rule = props["rule"]
        super().__init__(parameter_space, seed=seed)
        self.rule: SamplingRule = SamplingRule.parse(rule, "rule")

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        seen = seen_keys(history)
        for attempt in range(_ATTEMPTS):
            if self.rule is SamplingRule.SOBOL:
                suggestion = sobol_suggestion(self.spaces, self.seed, len(history) + attempt)
            else:
                suggestion = random_suggestion(self.spaces, rng)
            if config_key(suggestion.params) not in seen:
                return suggestion
        return unseen_suggestion(self.spaces, seen, rng)

    def __repr__(self) -> str:
        return f"RandomParameterSampling(rule={self.rule.value!r}, seed={self.seed})"


_PROPERTY_KEYS = ("rule", "seed")


def _properties(properties: Mapping[str, Any] | None) -> dict[str, Any]:
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise ValueError(
            f"properties must be a mapping such as {{'rule': 'sobol', 'seed': 0}}, "
            f"got {type(properties).__name__}"
        )
    out: dict[str, Any] = {}
    for key, value in properties.items():
        name = str(key).strip().lower()
        if name not in _PROPERTY_KEYS:
            allowed = ", ".join(repr(k) for k in _PROPERTY_KEYS)
            raise ValueError(f"properties: unknown key {key!r}; allowed keys are {allowed}")
        out[name] = value
    return out
