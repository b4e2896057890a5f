"""The sampler interface: propose the next configuration from the history of trials.

A sampler never trains anything and keeps no hidden state that matters for its proposals: the
same seed and the same history give the same proposal (docs/architecture.md, "Determinism").
``tell`` is implicit: the sweep passes the whole history (completed, stopped, failed and
still-running trials) on every call.
"""

from __future__ import annotations

import abc
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_vision.space import ParameterSpace, as_parameter_spaces
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["Sampler", "Suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """A proposed configuration: active parameters only, and which sub-space it came from."""

    params: dict[str, Any]
    space_index: int = 0


class Sampler(abc.ABC):
    """Base class: subclasses implement ``suggest``.

    ``parameter_space`` is an ``ImageClassificationSearchSpace``, a list of them (sampled as a
    union: a trial draws from one), a ``ParameterSpace`` or a plain ``dict`` of fixed values and
    distributions. ``seed=None`` draws a seed from the OS once, at construction, and keeps it in
    ``self.seed`` so that the sweep can be reproduced.
    """

    def __init__(self, parameter_space: Any, *, seed: int | None = None) -> None:
        self.spaces: list[ParameterSpace] = as_parameter_spaces(parameter_space)
        self.seed: int = int(seed) if seed is not None else secrets.randbits(32)

    def ask(
        self,
        history: Sequence[Trial],
        goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
        rng: np.random.Generator | None = None,
    ) -> Suggestion | None:
        """The next configuration, or None when the sampler has nothing left to propose.

        ``rng`` defaults to ``default_rng([seed, len(history)])``: proposal ``i`` depends only on
        the seed and the history, never on thread or process order.
        """
        if rng is None:
            rng = np.random.default_rng([self.seed, len(history)])
        return self.suggest(history, PrimaryMetricGoal.parse(goal), rng)

    @abc.abstractmethod
    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        """Propose from ``history`` (pending trials included) with the generator ``rng``."""

    @property
    def size(self) -> int | None:
        """How many distinct configurations exist, when finite and known (grid), else None."""
        return None
