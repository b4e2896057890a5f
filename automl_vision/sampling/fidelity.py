"""What a trial tells a surrogate model, at the fidelity (report count) it reached.

A trial's reports are its values after 1, 2, ... epochs (report counts). The *full* resource
``R`` of a history is the most reports any trial has made (a COMPLETED trial ran its whole
budget, whatever its count). Observations of one trial:

- COMPLETED: its final value at full fidelity (``u = 1``), and its reports at the levels below.
- STOPPED: its reports at the levels it reached, and its last report at the count it stopped at
  (``u < 1`` unless it was stopped at its very last report): **never** as a finished trial.
  A stopped trial without reports tells nothing about its fidelity and is not used.
- RUNNING/QUEUED (pending) and FAILED trials give no observations here.

Levels are report counts ``1, 3, 9, ...`` (powers of 3) below ``R``: the rungs of the default
Hyperband, and a fixed, small set for any policy. The fidelity coordinate of report count ``n``
is ``u = log(n) / log(R)`` (0 at one report, 1 at the full budget).

``FidelityModel`` says how a sampler uses them: ``JOINT`` fits one GP over configuration x
``u`` and proposes where expected improvement *at u = 1* is highest (the MOBSTER / Hyper-Tune
family); ``RUNG`` fits a GP to the values at the highest level that has enough observations
(the BOHB family). Pure functions; no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from automl_vision.enums import ChoiceEnum
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = [
    "FidelityModel",
    "Observation",
    "cap_observations",
    "full_resource",
    "levels",
    "trial_observations",
]

LEVEL_BASE = 3


class FidelityModel(ChoiceEnum):
    """How the Bayesian sampler models partially trained trials."""

    JOINT = "joint"  # one GP over configuration x log-resource
    RUNG = "rung"  # a GP at the highest level with enough data


@dataclass(frozen=True)
class Observation:
    """``value`` (higher is better after the goal's sign) after ``resource`` reports;
    ``fidelity`` in [0, 1]; ``order`` is the trial's position in the history (recency)."""

    resource: int
    fidelity: float
    value: float
    order: int


def full_resource(history: Sequence[Trial]) -> int:
    """``R``: the most reports of any trial (at least 1)."""
    return max((len(t.reports) for t in history), default=0) or 1


def levels(full: int) -> list[int]:
    """Report counts ``1, 3, 9, ...`` below ``full``."""
    out, level = [], 1
    while level < full:
        out.append(level)
        level *= LEVEL_BASE
    return out


def fidelity_of(resource: int, full: int) -> float:
    if full <= 1 or resource >= full:
        return 1.0
    return math.log(resource) / math.log(full)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def trial_observations(
    trial: Trial, goal: PrimaryMetricGoal, full: int, order: int
) -> list[Observation]:
    """The observations of one trial (see the module docstring), highest fidelity first."""
    values = trial.values
    out: list[Observation] = []
    if trial.status is TrialStatus.COMPLETED:
        final = trial.result(goal)
        if not _finite(final):
            return []
        out.append(Observation(full, 1.0, goal.sign * float(final), order))  # type: ignore[arg-type]
        reached = len(values)
    elif trial.status in (TrialStatus.STOPPED, TrialStatus.PAUSED):  # at the count it reached
        reached = len(values)
        if reached == 0:
            return []
        last = float(values[-1])
        if math.isfinite(last):
            out.append(Observation(reached, fidelity_of(reached, full), goal.sign * last, order))
    else:
        return []
    completed = trial.status is TrialStatus.COMPLETED
    for level in reversed(levels(full)):
        # a stopped trial's last report is already its observation at that count
        if level < reached or (completed and level == reached):
            value = float(values[level - 1])
            if math.isfinite(value):
                out.append(Observation(level, fidelity_of(level, full), goal.sign * value, order))
    return out


def cap_observations(per_trial: Sequence[Sequence[Observation]], cap: int) -> list[tuple[int, int]]:
    """Which observations to keep when there are more than ``cap``: ``(trial, k)`` pairs.

    Ranked in tiers: every trial's highest-fidelity observation first (full-fidelity ones before
    the others, then higher fidelity, then more recent), then every trial's second one, and so
    on. The GP's cost grows with the cube of the observations, so this keeps what matters most
    for proposing at the full budget: the best-informed point of as many trials as possible.
    """
    ranked = sorted(
        ((k, -obs.fidelity, -obs.order, i) for i, obs_list in enumerate(per_trial)
         for k, obs in enumerate(obs_list)),
    )  # fmt: skip
    return [(i, k) for k, _, _, i in ranked[:cap]]
