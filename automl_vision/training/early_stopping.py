"""In-training early stopping (``early_stopping``, ``early_stopping_delay``, ``..._patience``).

Only evaluated epochs count. Every evaluation updates the best value when it beats it (strictly
better under the primary metric's goal; the first evaluation always does). From epoch
``delay`` on (epochs are numbered from 1), an evaluation that does not beat the best increments a
counter and one that does resets it to 0; training stops when the counter reaches ``patience``.
Evaluations before epoch ``delay`` never count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from automl_vision.trial import PrimaryMetricGoal

__all__ = ["EarlyStopping"]


@dataclass
class EarlyStopping:
    delay: int
    patience: int
    goal: PrimaryMetricGoal
    best: float = math.nan
    counter: int = 0

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far (NaN never does)."""
        if math.isnan(value):
            return False
        return math.isnan(self.best) or self.goal.is_better(value, self.best)

    def update(self, epoch: int, value: float) -> bool:
        """Record the evaluation of ``epoch``; True when training should stop now."""
        better = self.improved(value)
        if better:
            self.best = value
        if epoch < self.delay:
            return False
        self.counter = 0 if better else self.counter + 1
        return self.counter >= self.patience
