"""Learning-rate schedules, stepped once per optimizer step (an "iteration").

A schedule maps the optimizer-step count ``step`` (0 for the first step of training) to a factor
of the base learning rate; step ``k`` runs with ``learning_rate * factor(k)``. With
``steps_per_epoch`` optimizer steps per epoch (batches per epoch divided by
gradient_accumulation_step, rounded up) and ``E`` epochs, ``total = E * steps_per_epoch``.

- ``warmup_cosine``: ``W = warmup_epochs * steps_per_epoch``; ``factor = step / W`` while
  ``step < W``; afterwards ``0.5 * (1 + cos(pi * cycles * 2 * progress))`` with
  ``progress = (step - W) / (total - W)``, which goes from 0 towards 1 over the remaining steps.
- ``step``: ``factor = gamma ** (epoch // step_size)`` where ``epoch = step // steps_per_epoch``
  (0-based): multiplied by gamma every step_size epochs.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

from automl_vision.enums import ChoiceEnum

__all__ = ["Schedule", "SchedulerKind", "StepSchedule", "WarmupCosineSchedule", "make_schedule"]


class SchedulerKind(ChoiceEnum):
    WARMUP_COSINE = "warmup_cosine"
    STEP = "step"


class Schedule(abc.ABC):
    """A learning-rate factor as a function of the optimizer-step count."""

    @abc.abstractmethod
    def factor(self, step: int) -> float: ...


@dataclass(frozen=True)
class WarmupCosineSchedule(Schedule):
    warmup_steps: int
    total_steps: int
    cycles: float

    def factor(self, step: int) -> float:
        if step < self.warmup_steps:
            return step / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * self.cycles * 2.0 * progress))


@dataclass(frozen=True)
class StepSchedule(Schedule):
    steps_per_epoch: int
    step_size: int
    gamma: float

    def factor(self, step: int) -> float:
        epoch = step // self.steps_per_epoch
        return self.gamma ** (epoch // self.step_size)


def make_schedule(
    kind: SchedulerKind | str,
    *,
    steps_per_epoch: int,
    epochs: int,
    warmup_epochs: int = 0,
    cycles: float = 0.5,
    step_size: int = 1,
    gamma: float = 1.0,
) -> Schedule:
    """The schedule ``kind`` for a run of ``epochs`` epochs of ``steps_per_epoch`` steps."""
    kind = SchedulerKind(kind)
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch={steps_per_epoch} must be >= 1")
    if kind is SchedulerKind.WARMUP_COSINE:
        return WarmupCosineSchedule(
            warmup_epochs * steps_per_epoch, epochs * steps_per_epoch, cycles
        )
    return StepSchedule(steps_per_epoch, step_size, gamma)
