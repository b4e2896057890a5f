"""Epoch lines for output that is not a terminal (logs, CI): one line per epoch of a trial at
most every ``every_s`` seconds per trial, its first and its last epoch always, on an injected
clock (tests check the limit without waiting).
"""

from __future__ import annotations

from collections.abc import Callable

from automl_vision.trial import PrimaryMetricGoal, Report, Trial

__all__ = ["EPOCH_LINE_EVERY_S", "EpochLines"]

#: the default least time between two epoch lines of one trial
EPOCH_LINE_EVERY_S = 30.0


class EpochLines:
    """Decides which epoch reports get a line, and writes it."""

    def __init__(
        self,
        clock: Callable[[], float],
        metric: str,
        goal: PrimaryMetricGoal,
        every_s: float = EPOCH_LINE_EVERY_S,
    ) -> None:
        self.clock = clock
        self.metric = metric
        self.goal = goal
        self.every_s = every_s
        self._last: dict[str, float] = {}

    def line(self, trial: Trial, report: Report, epochs: int | None) -> str | None:
        """The line for ``report`` of ``trial`` (of ``epochs``, when known), or None when the
        trial had a line less than ``every_s`` ago and this is not its last epoch."""
        now = self.clock()
        last_epoch = epochs is not None and report.step >= epochs
        previous = self._last.get(trial.trial_id)
        if previous is not None and now - previous < self.every_s and not last_epoch:
            return None
        self._last[trial.trial_id] = now
        total = f"/{epochs}" if epochs else ""
        best = ""
        if len(trial.values) > 1:
            best = f" (best so far {self.goal.best(trial.values):.4f})"
        return f"{trial.trial_id} epoch {report.step}{total} {self.metric}={report.value:.4f}{best}"

    def forget(self, trial_id: str) -> None:
        """``trial_id`` finished: its next attempt (if any) starts a new line count."""
        self._last.pop(trial_id, None)
