"""``PolicyContext``: everything a policy is told when it judges a report or a promotion.

One frozen value instead of loose arguments: the sweep's primary-metric ``history`` (trial id ->
values in report order, report 1 first), the parsed ``goal``, the ids of the trials that ran to
completion (``finished``), and the trial being judged (``trial_id``, empty in a promotion, which
looks at every paused trial through ``about``) with its ``JudgingWindow``. ``known``: each trial's
objectives known before it trains (its deployment metrics, name -> value), for the front-aware
policy of a multi-objective sweep (``policies/front.py``); empty otherwise. ``reports``: each
trial's reports (``Report``: step, metrics, and where reported its schedule ``progress`` and
``cost``), in the same order as ``history``, for policies that judge by schedule or cost; the
scheduler always fills it, a context built by hand may leave it empty. ``moved_from`` is set
when a decision due at an earlier evaluation point is taken at the trial's latest report
(``policies/window.py``); the data judged are then still those of the latest report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from automl_vision.policies.window import JudgingWindow
from automl_vision.trial import PrimaryMetricGoal, Report

__all__ = ["PolicyContext"]


@dataclass(frozen=True, kw_only=True)
class PolicyContext:
    """What a policy sees: the histories, the goal, the finished trials, the trial judged."""

    history: Mapping[str, Sequence[float]]
    goal: PrimaryMetricGoal
    trial_id: str = ""
    finished: Collection[str] = ()
    window: JudgingWindow | None = None
    moved_from: int | None = None
    known: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)
    reports: Mapping[str, Sequence[Report]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "goal", PrimaryMetricGoal.parse(self.goal))

    @property
    def values(self) -> Sequence[float]:
        """The judged trial's values in report order."""
        return self.history.get(self.trial_id, ())

    @property
    def n(self) -> int:
        """The judged trial's report count: the decision is about report ``n``."""
        return len(self.values)

    @property
    def value(self) -> float:
        """The judged trial's value at report ``n`` (its latest; needs ``n >= 1``)."""
        return float(self.values[-1])

    @property
    def point(self) -> int:
        """The evaluation point judged: ``moved_from`` for a moved decision, else ``n``."""
        return self.n if self.moved_from is None else self.moved_from

    def moved(self, point: int) -> PolicyContext:
        """This context judging report ``n`` as evaluation point ``point`` (moved to ``n``)."""
        return dataclasses.replace(self, moved_from=point)

    def about(self, trial_id: str, window: JudgingWindow | None = None) -> PolicyContext:
        """This context judging ``trial_id`` with ``window`` (nothing moved)."""
        return dataclasses.replace(self, trial_id=trial_id, window=window, moved_from=None)

    def reached(self, n: int) -> dict[str, Sequence[float]]:
        """The histories of the trials with at least ``n`` reports, in ``history``'s order."""
        return {trial_id: values for trial_id, values in self.history.items() if len(values) >= n}
