"""Propose given configurations first, then hand over to another sampler.

Used for a sweep's known-good first trial (Azure's defaults), for replaying a list of
configurations (benchmarks, user-specified trials) and by wrapping, not subclassing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.configs import config_key
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["FixedConfigurations"]


class FixedConfigurations(Sampler):
    """Propose ``configs`` in order (each once, counting the history), then ask ``then``.

    ``configs`` are parameter dicts or ``Suggestion`` objects (to name the sub-space). With no
    ``then`` sampler it is exhausted after the last configuration.
    """

    def __init__(
        self,
        configs: Sequence[Mapping[str, Any] | Suggestion],
        then: Sampler | None = None,
        *,
        parameter_space: Any = None,
        seed: int | None = None,
    ) -> None:
        if parameter_space is None:
            parameter_space = then.spaces if then is not None else {}
        if seed is None and then is not None:
            seed = then.seed
        super().__init__(parameter_space, seed=seed)
        self.configs = [_as_suggestion(c) for c in configs]
        self.then = then

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        tried = {config_key(t.params) for t in history}  # the one identity (configs.py)
        for config in self.configs:
            if config_key(config.params) not in tried:
                return config
        if self.then is None:
            return None
        return self.then.suggest(history, goal, rng)

    @property
    def size(self) -> int | None:
        """An upper bound: the given configurations may coincide with the next sampler's."""
        if self.then is None:
            return len(self.configs)
        return None if self.then.size is None else self.then.size + len(self.configs)


def _as_suggestion(config: Mapping[str, Any] | Suggestion) -> Suggestion:
    return config if isinstance(config, Suggestion) else Suggestion(dict(config))
