"""The early-termination interface: one pure decision about one trial's latest report.

``history`` maps each trial id to its primary-metric values in report order (report 1 first);
the decision is about ``trial_id``'s latest report; ``finished`` names the trials that ran to
completion. No clocks, no I/O, no randomness: replaying the store reproduces every decision.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automl_vision.trial import PrimaryMetricGoal

if TYPE_CHECKING:
    from automl_vision.policies.window import JudgingWindow

__all__ = ["Decision", "EarlyTerminationPolicy", "Promotion"]


@dataclass(frozen=True)
class Decision:
    """A policy's verdict and why, with the numbers compared (for the sweep's log).

    ``stop``: the trial stops running now. ``pause`` (only with ``stop``): it stops running but
    may be promoted later and then continue from where it stopped (promotion ASHA).
    """

    stop: bool
    reason: str = ""
    pause: bool = False

    def __post_init__(self) -> None:
        if self.pause and not self.stop:
            raise ValueError("Decision: pause=True needs stop=True")

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

    def decide_with(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str],
        window: JudgingWindow | None,
    ) -> Decision:
        """``decide`` given the trial's judging window (what the sweep calls). A policy that
        knows nothing of learning-rate schedules ignores ``window``."""
        return self.decide(trial_id, history, goal, finished)

    def promote(
        self,
        paused: Collection[str],
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        *,
        closing: bool = False,
    ) -> Promotion | None:
        """Which of the ``paused`` trials continues now, asked whenever a worker is free and
        before a new trial starts; None: none (a policy that never pauses never promotes).

        ``closing``: the sweep can start no new trial (its trial count is reached, or the
        sampler has nothing left), so no more trials will reach the rungs; the policy may
        relax its rule so that the sweep ends with trials trained to the end rather than
        with its best ones paused."""
        return None

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


@dataclass(frozen=True)
class Promotion:
    """A paused trial that continues now, and why (the numbers compared)."""

    trial_id: str
    reason: str
