"""The early-termination interface: one pure decision about one trial's latest report.

``history`` maps each trial id to its primary-metric values in report order (report 1 first);
the decision is about ``trial_id``'s latest report; ``finished`` names the trials that ran to
completion. No clocks, no I/O, no randomness: replaying the store reproduces every decision.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from automl_vision.trial import PrimaryMetricGoal

__all__ = ["Decision", "EarlyTerminationPolicy"]


@dataclass(frozen=True)
class Decision:
    """A policy's verdict and why, with the numbers compared (for the sweep's log)."""

    stop: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.stop


class EarlyTerminationPolicy(abc.ABC):
    """Base class: subclasses implement ``decide``; ``should_stop`` is its boolean."""

    @abc.abstractmethod
    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        """Whether ``trial_id`` stops after its latest report, and the numbers behind it."""

    def should_stop(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> bool:
        return self.decide(trial_id, history, PrimaryMetricGoal.parse(goal), finished).stop

    def evaluation_points(self, max_reports: int) -> list[int]:
        """The report counts in ``1..max_reports`` at which this policy may stop a trial (for a
        sweep's dry run). A policy that does not say otherwise may stop at any report."""
        return list(range(1, max_reports + 1))
