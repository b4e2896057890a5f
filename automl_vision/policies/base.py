"""``EarlyTerminationPolicy``, the base of every policy, and its answers (``Decision``,
``Promotion``). The decision flow lives here and nowhere else.

A policy is a pure function of a ``PolicyContext`` (``policies/context.py``): no clocks, no I/O,
no randomness, so replaying the store reproduces every decision. The sweep calls ``judge(context)``
for a trial's latest report: a trial with no reports yet continues; a ``schedule_aware`` policy
given a non-empty ``JudgingWindow`` takes the decisions due on misleading reports where
``policies/window.py`` moves them; the rest is the policy's own ``rule(context)``.

A subclass implements ``rule(context)``, or the older form ``decide(trial_id, history, goal,
finished=())``, which ``rule`` then asks; a class with neither cannot be instantiated. A policy
that pauses trials implements ``promotion_rule(paused, context, closing=)``; the sweep calls
``judge_paused``, which asks a subclass's own ``promote(paused, history, goal, closing=)`` (the
older form) where one is written.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_vision.policies.context import PolicyContext
from automl_vision.policies.window import JudgingWindow
from automl_vision.trial import PrimaryMetricGoal

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


@dataclass(frozen=True)
class Promotion:
    """A paused trial that continues now, and why (the numbers compared)."""

    trial_id: str
    reason: str


class EarlyTerminationPolicy(abc.ABC):
    """Base of every policy: implement ``rule(context)`` or ``decide(trial_id, history, goal,
    finished=())``; ``judge`` (the flow), ``decide`` and ``should_stop`` are the ways to ask."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # the older form: its rule asks its decide (a class with neither stays abstract)
        if "decide" in vars(cls) and getattr(cls.rule, "__isabstractmethod__", False):
            cls.rule = EarlyTerminationPolicy._rule_by_decide  # type: ignore[method-assign]

    # -- decisions -----------------------------------------------------------------------------
    def judge(self, context: PolicyContext) -> Decision:
        """Whether ``context.trial_id`` stops after its latest report, and the numbers behind it.

        Decisions due on reports that ``context.window`` marks misleading are taken where it moves
        them, by a ``schedule_aware`` policy (see ``policies/window.py``)."""
        n = context.n
        if n == 0:
            return Decision(False, f"{context.trial_id!r} has no reports yet")
        window = context.window
        if window is None or window.is_empty or not getattr(self, "schedule_aware", False):
            return self.rule(context)
        move = window.move(n)
        if move is not None and self._is_point(context.trial_id, n):
            return Decision(False, f"report {n}: {move.describe()}")
        moved = [p for p in window.sources(n) if self._is_point(context.trial_id, p)]
        if not moved:
            return self.rule(context)
        decision = self.rule(context.moved(moved[0]))
        first = window.move(moved[0])
        assert first is not None
        sources = ", ".join(str(p) for p in moved)
        plural = "s" if len(moved) > 1 else ""
        return Decision(
            decision.stop,
            f"{decision.reason}; decision{plural} moved from report{plural} {sources} to report "
            f"{n}: {first.because}",
            pause=decision.pause,
        )

    @abc.abstractmethod
    def rule(self, context: PolicyContext) -> Decision:
        """The policy's own rule for a trial with ``context.n >= 1`` reports: report ``n`` judged
        as evaluation point ``context.point`` (``n`` itself unless the decision was moved)."""

    def _rule_by_decide(self, context: PolicyContext) -> Decision:
        """``rule`` of a subclass written in the older form: it asks ``decide``."""
        return self.decide(context.trial_id, context.history, context.goal, context.finished)

    def _is_point(self, trial_id: str, n: int) -> bool:
        """Whether report ``n`` is one of this policy's evaluation points for ``trial_id``."""
        return True

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal | str,
        finished: Collection[str] = (),
        *,
        window: JudgingWindow | None = None,
    ) -> Decision:
        """``judge`` with the context given as its parts."""
        context = PolicyContext(
            trial_id=trial_id,
            history=history,
            goal=PrimaryMetricGoal.parse(goal),
            finished=finished,
            window=window,
        )
        return self.judge(context)

    def should_stop(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal | str,
        finished: Collection[str] = (),
    ) -> bool:
        return self.decide(trial_id, history, PrimaryMetricGoal.parse(goal), finished).stop

    def evaluation_points(self, max_reports: int) -> list[int]:
        """The report counts in ``1..max_reports`` at which this policy may stop a trial (for a
        sweep's dry run). A policy that does not say otherwise may stop at any report."""
        return list(range(1, max_reports + 1))

    # -- promotions ----------------------------------------------------------------------------
    def judge_paused(
        self, paused: Collection[str], context: PolicyContext, *, closing: bool = False
    ) -> Promotion | None:
        """Which of the ``paused`` trials continues now (what the sweep calls whenever a worker is
        free, before a new trial starts): a subclass's own ``promote`` where it writes one (the
        older form), else ``promotion_rule``."""
        if type(self).promote is not EarlyTerminationPolicy.promote:
            return self.promote(paused, context.history, context.goal, closing=closing)
        return self.promotion_rule(paused, context, closing=closing)

    def promotion_rule(
        self, paused: Collection[str], context: PolicyContext, *, closing: bool = False
    ) -> Promotion | None:
        """Which of the ``paused`` trials continues now; None: none (a policy that never pauses
        never promotes).

        ``closing``: the sweep can start no new trial (its trial count is reached, or the
        sampler has nothing left), so no more trials will reach the rungs; the policy may
        relax its rule so that the sweep ends with trials trained to the end rather than
        with its best ones paused."""
        return None

    def promote(
        self,
        paused: Collection[str],
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal | str,
        *,
        closing: bool = False,
    ) -> Promotion | None:
        """``promotion_rule`` with the context given as its parts."""
        context = PolicyContext(history=history, goal=PrimaryMetricGoal.parse(goal))
        return self.promotion_rule(paused, context, closing=closing)
