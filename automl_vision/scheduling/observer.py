"""``SweepObserver``: what a sweep tells the store, the progress line, TensorBoard and MLflow as
it happens. Every hook is optional; the scheduler calls them on its own thread, in order."""

from __future__ import annotations

from collections.abc import Sequence

from automl_vision.policies.base import Decision, Promotion
from automl_vision.trial import Report, TrainingProgress, Trial

__all__ = ["SweepObserver"]


class SweepObserver:
    """Hooks for the store, logs and progress displays. Every method is optional."""

    def trial_started(self, trial: Trial) -> None:
        """``trial`` is RUNNING."""

    def trial_dispatched(self, trial: Trial) -> None:
        """``trial`` (started, not reused from an earlier sweep) is handed to the executor to
        run now; its folder may be prepared."""

    def trial_placed(self, trial: Trial) -> None:
        """``trial``'s attempt runs at ``trial.placement`` (an executor that says where)."""

    def attempt_starts(self, trial: Trial, step: int) -> None:
        """``trial``'s current attempt starts after its report ``step`` (0: from the
        beginning), as its trial function says before it trains."""

    def trial_progress(self, trial: Trial, progress: TrainingProgress) -> None:
        """The running ``trial`` is at ``progress`` within its epoch (a training trial, rate-
        limited by its trainer, from an executor that carries it); never a report."""

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        """``trial`` reported; ``decision`` is the policy's verdict on it."""

    def trial_finished(self, trial: Trial) -> None:
        """``trial`` is COMPLETED, STOPPED or FAILED."""

    def trial_requeued(self, trial: Trial, reason: str) -> None:
        """``trial``'s attempt ended unfinished for ``reason`` (an interrupt, a full disk, a
        dead worker); it is QUEUED again and resumes after its last report."""

    def trial_paused(self, trial: Trial) -> None:
        """``trial`` is PAUSED at its last report (it may be promoted later)."""

    def trial_promoted(self, trial: Trial, promotion: Promotion) -> None:
        """The paused ``trial`` is RUNNING again, continuing after its last report."""

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        """The sweep ended for ``reason``."""
