"""Grid sampling: every combination of ``choice`` options, each proposed once.

Order (documented, stable):

1. sub-spaces in the order given;
2. within a sub-space, parameters in the space's order, the **last parameter varying
   fastest**. That order is the declaration order of a ``dict`` space and the field-table order
   (alphabetical) of an ``ImageClassificationSearchSpace``, except that a conditional
   parameter's parent is moved before it (so ``optimizer`` comes before ``ams_gradient``);
3. options of a ``choice`` in the order written.

A parameter left inactive by its parents' values takes no value (``optimizer=choice('sgd',
'adam')`` with ``momentum=choice(0.8, 0.9)`` gives three configurations, not four), and a
configuration that an earlier sub-space already produced is not repeated. ``ask`` returns the
first configuration not yet in the history (so a resumed sweep continues where it stopped) and
None once every configuration has been tried.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.combinations import count_combinations, iter_combinations
from automl_vision.sampling.configs import config_key, seen_keys
from automl_vision.space import Distribution, ParameterSpace, choice
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["GridParameterSampling"]


def _choice_options(name: str, dist: Distribution) -> tuple[Any, ...]:
    return dist.support.options  # every distribution of a grid is a choice (checked)


def _check_choice_only(spaces: Sequence[ParameterSpace]) -> None:
    offenders = []
    for index, space in enumerate(spaces):
        where = f" (search_space[{index}])" if len(spaces) > 1 else ""
        for name, dist in space.distributions.items():
            if not isinstance(dist, choice):
                offenders.append(f"{name}={dist}{where}")
    if offenders:
        raise ValueError(
            "grid sampling takes only choice(...) distributions and fixed values; "
            + "; ".join(f"field {o} is not a choice" for o in offenders)
            + ". Write the values to try as choice(...), or use random or bayesian sampling."
        )


class GridParameterSampling(Sampler):
    """Exhaustive grid over ``choice`` parameters (see the module docstring for the order)."""

    def __init__(self, parameter_space: Any) -> None:
        super().__init__(parameter_space, seed=0)
        _check_choice_only(self.spaces)
        self._size: int | None = None

    def combinations(self) -> Iterator[Suggestion]:
        """Every configuration of the grid once, in order."""
        for index, space in enumerate(self.spaces):
            earlier = self.spaces[:index]
            for config in iter_combinations(space, _choice_options):
                if not any(e.contains(config) for e in earlier):
                    yield Suggestion(config, index)

    @property
    def size(self) -> int:
        """The number of distinct configurations in the grid."""
        if self._size is None:
            if len(self.spaces) == 1:
                self._size = count_combinations(self.spaces[0], _choice_options)
            else:
                self._size = sum(1 for _ in self.combinations())
        return self._size

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        seen = seen_keys(history)
        for suggestion in self.combinations():
            if config_key(suggestion.params) not in seen:
                return suggestion
        return None

    def __repr__(self) -> str:
        return f"GridParameterSampling(size={self.size})"
