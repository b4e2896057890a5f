"""``ConstrainedSampler``: a sampler whose suggestions pass a check before they become trials.

A refused suggestion (a configuration over a deployment constraint: its latency or size is known
before training) never becomes a trial: it is counted (``refused``, and ``refusals`` per reason)
and the wrapped sampler is asked again, each re-ask with its own generator
(``default_rng([seed, len(history), attempt])``) so that a deterministic sampler does not
propose the same configuration forever. The first ask of each trial is the wrapped sampler's own
(``ask`` with its default generator): a check that refuses nothing changes no suggestion.
``max_refusals`` refusals in a row end the sampling (``ask`` returns None and ``ended`` says
why). Samplers have no way to be told a configuration is infeasible; a refused one is simply
skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["MAX_REFUSALS", "ConstrainedSampler"]

#: refusals in a row that end a sweep: the constraints leave (almost) nothing of the space
MAX_REFUSALS = 100


class ConstrainedSampler(Sampler):
    """``inner``'s suggestions that ``refuse`` lets through (``refuse(suggestion)``: None to
    accept, else the reason, e.g. ``"params_m 11.2 > 5"``)."""

    def __init__(
        self,
        inner: Sampler,
        refuse: Callable[[Suggestion], str | None],
        *,
        max_refusals: int = MAX_REFUSALS,
    ) -> None:
        if max_refusals < 1:
            raise ValueError(f"max_refusals must be >= 1, got {max_refusals}")
        self.inner = inner
        self.spaces = inner.spaces
        self.seed = inner.seed
        self.refuse = refuse
        self.max_refusals = max_refusals
        self.refusals: Counter[str] = Counter()
        self.ended: str | None = None

    @property
    def refused(self) -> int:
        """How many suggestions were refused in all."""
        return sum(self.refusals.values())

    def ask(
        self,
        history: Sequence[Trial],
        goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
        rng: np.random.Generator | None = None,
    ) -> Suggestion | None:
        suggestion = self.inner.ask(history, goal, rng)
        for attempt in range(1, self.max_refusals + 1):
            if suggestion is None:
                return None
            reason = self.refuse(suggestion)
            if reason is None:
                return suggestion
            self.refusals[reason] += 1
            again = np.random.default_rng([self.seed, len(history), attempt])
            suggestion = self.inner.ask(history, goal, again)
        self.ended = (
            f"{self.max_refusals} configurations in a row refused by the constraints "
            f"({self.refused} in all): the constraints leave too little of the search space"
        )
        return None

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        return self.ask(history, goal, rng)

    @property
    def size(self) -> int | None:
        return self.inner.size

    def __getattr__(self, name: str) -> Any:  # the wrapped sampler's own attributes
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
