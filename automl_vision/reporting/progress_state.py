"""What the progress display knows about a sweep, and the numbers it shows: one row per running
trial (epoch, batches done in the epoch, its latest value, elapsed time, ETA) and the sweep's
line (trials done, running, completed, stopped, failed, the best so far, the sweep's ETA).

Pure bookkeeping on an injected clock: the display (``progress.py``) feeds it observer events
and draws what it computes; tests feed it a recorded sweep. Trials a resumed sweep kept count
from the start, so the counter goes on where the earlier run left off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from automl_vision.reporting.trial_text import duration, short_params
from automl_vision.trial import PrimaryMetricGoal, TrainingProgress, Trial, TrialStatus

__all__ = ["RunningRow", "SweepProgress"]


@dataclass(frozen=True)
class RunningRow:
    """One running trial as the table shows it (texts, ready to draw)."""

    trial_id: str
    params: str
    epoch: str  # "3/6", "?" before the trainer said
    batch: str  # "12/40" within the epoch, "" when unknown
    value: str  # its latest report's value, "" before one
    elapsed: str
    eta: str


@dataclass
class _Attempt:
    began: float  # the clock when the trial started (or was promoted)
    resumed_at: float  # the clock when its attempt said where it starts
    resumed_after: int = 0  # the epoch it starts after (0: from the beginning)


class SweepProgress:
    """The display's state (see the module docstring)."""

    def __init__(
        self,
        *,
        max_trials: int,
        concurrency: int,
        goal: PrimaryMetricGoal,
        metric: str,
        clock: Callable[[], float],
        kept: Sequence[Trial] = (),
    ) -> None:
        self.max_trials = max_trials
        self.concurrency = max(1, concurrency)
        self.goal = goal
        self.metric = metric
        self.clock = clock
        self.started = clock()
        self.trials: dict[str, Trial] = {t.trial_id: t for t in kept if t.finished}
        self.kept = len(self.trials)
        #: trial durations in seconds (kept trials' from their recorded times)
        self.durations: list[float] = [
            t.finished_at - t.started_at
            for t in self.trials.values()
            if t.started_at is not None and t.finished_at is not None
        ]
        self.progress: dict[str, TrainingProgress] = {}
        self._attempts: dict[str, _Attempt] = {}

    # -- events ------------------------------------------------------------------------------
    def start(self, trial: Trial) -> None:
        """``trial`` is RUNNING (started, or promoted from a pause)."""
        now = self.clock()
        self.trials[trial.trial_id] = trial
        self._attempts[trial.trial_id] = _Attempt(now, now)

    def attempt_starts(self, trial: Trial, step: int) -> None:
        """``trial``'s attempt starts after its epoch ``step``."""
        attempt = self._attempts.get(trial.trial_id)
        if attempt is not None:
            attempt.resumed_at, attempt.resumed_after = self.clock(), step

    def update(self, trial: Trial) -> None:
        """``trial`` changed (placed, reported, paused)."""
        self.trials[trial.trial_id] = trial

    def progressed(self, trial: Trial, progress: TrainingProgress) -> None:
        self.trials[trial.trial_id] = trial
        self.progress[trial.trial_id] = progress

    def finish(self, trial: Trial) -> None:
        """``trial`` is COMPLETED, STOPPED or FAILED."""
        self.trials[trial.trial_id] = trial
        self.progress.pop(trial.trial_id, None)
        attempt = self._attempts.pop(trial.trial_id, None)
        if attempt is not None:
            self.durations.append(self.clock() - attempt.began)

    # -- numbers -----------------------------------------------------------------------------
    def done(self) -> int:
        return sum(t.finished for t in self.trials.values())

    def count(self) -> str:
        """``[5/12]``: finished trials, kept ones included, of ``max_trials``."""
        return f"[{self.done()}/{self.max_trials}]"

    def epochs_of(self, trial: Trial) -> int | None:
        """The trial's number of epochs, as its trainer or its params say (None: unknown)."""
        progress = self.progress.get(trial.trial_id)
        if progress is not None:
            return progress.epochs
        total = trial.params.get("number_of_epochs")
        return int(total) if isinstance(total, int | float) else None

    def rows(self) -> list[RunningRow]:
        """The running trials, in trial order."""
        now = self.clock()
        running = [t for t in self.trials.values() if t.status is TrialStatus.RUNNING]
        return [self._row(t, now) for t in sorted(running, key=lambda t: t.index)]

    def _row(self, trial: Trial, now: float) -> RunningRow:
        progress = self.progress.get(trial.trial_id)
        attempt = self._attempts.get(trial.trial_id) or _Attempt(now, now)
        total = self.epochs_of(trial)
        if progress is not None:
            epoch, batch = progress.epoch, f"{progress.batch}/{progress.batches}"
        else:
            epoch, batch = (trial.reports[-1].step + 1 if trial.reports else 1), ""
        value = f"{trial.reports[-1].value:.4f}" if trial.reports else ""
        return RunningRow(
            trial_id=trial.trial_id,
            params=short_params(trial.params),
            epoch=f"{epoch}/{total}" if total else str(epoch),
            batch=batch,
            value=value,
            elapsed=duration(now - attempt.began),
            eta=self._trial_eta(progress, attempt, now),
        )

    @staticmethod
    def _trial_eta(progress: TrainingProgress | None, attempt: _Attempt, now: float) -> str:
        """The time left at the pace of this attempt (which may have resumed part-way)."""
        if progress is None:
            return ""
        start = min(1.0, attempt.resumed_after / progress.epochs) if progress.epochs else 0.0
        gained = progress.fraction - start
        if gained <= 0:
            return ""
        return duration((now - attempt.resumed_at) * (1 - progress.fraction) / gained)

    def best(self) -> Trial | None:
        top: Trial | None = None
        for t in self.trials.values():
            if not t.finished or t.value is None or not math.isfinite(t.value):
                continue
            if top is None or self.goal.is_better(t.value, top.value):  # type: ignore[arg-type]
                top = t
        return top

    def sweep_line(self) -> str:
        """``trials 5/12 · running 2 · completed 3 · stopped 1 · failed 1 · best accuracy
        0.9000 (trial_0003) · 4m10s · ETA ~6m40s``."""
        trials = list(self.trials.values())
        count = {s: sum(t.status is s for t in trials) for s in TrialStatus}
        done = self.done()
        top = self.best()
        best = "" if top is None else f" · best {self.metric} {top.value:.4f} ({top.trial_id})"
        eta = ""
        if self.durations and done < self.max_trials:
            mean = sum(self.durations) / len(self.durations)
            eta = f" · ETA ~{duration((self.max_trials - done) * mean / self.concurrency)}"
        paused = count[TrialStatus.PAUSED]
        paused_text = f" · paused {paused}" if paused else ""
        return (
            f"trials {done}/{self.max_trials} · running {count[TrialStatus.RUNNING]}"
            f"{paused_text} · completed {count[TrialStatus.COMPLETED]} · stopped "
            f"{count[TrialStatus.STOPPED]} · failed {count[TrialStatus.FAILED]}{best} · "
            f"{duration(self.clock() - self.started)}{eta}"
        )

    def resume_line(self) -> str:
        """One line on what a resumed sweep kept (the counter goes on from there)."""
        trials = list(self.trials.values())
        kinds = ", ".join(
            f"{sum(t.status is s for t in trials)} {s.value.lower()}"
            for s in (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED)
            if any(t.status is s for t in trials)
        )
        return (
            f"resumed: {self.kept} finished trial{'s' * (self.kept != 1)} kept ({kinds}); "
            f"counting on from {self.count()}"
        )
