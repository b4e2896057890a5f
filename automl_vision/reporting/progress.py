"""A live progress line for a sweep: trials done/running/stopped/failed, best so far, ETA.

On a terminal the line is redrawn in place; otherwise (logs, CI) one line is printed per
finished trial, with the reason of every early stop.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from automl_vision.policies.base import Decision
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus

__all__ = ["ProgressDisplay"]


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressDisplay(SweepObserver):
    def __init__(
        self,
        *,
        max_trials: int,
        concurrency: int,
        goal: PrimaryMetricGoal,
        metric: str,
        stream: TextIO | None = None,
        live: bool | None = None,
    ) -> None:
        self.max_trials = max_trials
        self.concurrency = max(1, concurrency)
        self.goal = goal
        self.metric = metric
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.started = time.monotonic()
        self.trials: dict[str, Trial] = {}
        self.durations: list[float] = []
        self._trial_start: dict[str, float] = {}

    # -- observer hooks ----------------------------------------------------------------------
    def trial_started(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial
        self._trial_start[trial.trial_id] = time.monotonic()
        self._draw()

    def trial_placed(self, trial: Trial) -> None:
        """A cluster executor said where the trial runs: one line (also on a terminal)."""
        self.trials[trial.trial_id] = trial
        if self.live:
            self.stream.write("\r\033[K")
        self.stream.write(f"{trial.trial_id} runs on {trial.placement}\n")
        self._draw()

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        self._draw()

    def trial_paused(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial
        self._draw()

    def trial_finished(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial
        start = self._trial_start.pop(trial.trial_id, None)
        if start is not None:
            self.durations.append(time.monotonic() - start)
        if not self.live:
            self.stream.write(self._finished_line(trial) + "\n")
        self._draw()

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        if self.live:
            self.stream.write("\n")
        self.stream.write(f"sweep ended: {reason} ({_duration(time.monotonic() - self.started)})\n")
        self.stream.flush()

    # -- text --------------------------------------------------------------------------------
    def _finished_line(self, trial: Trial) -> str:
        value = "" if trial.value is None else f" {self.metric}={trial.value:.4f}"
        why = ""
        if trial.status is TrialStatus.STOPPED and trial.stop_reason:
            why = f" — {trial.stop_reason}"
        elif trial.status is TrialStatus.FAILED and trial.error:
            why = f" — {trial.error.splitlines()[0][:160]}"
        count = f"[{len(self._done())}/{self.max_trials}]"
        where = f" on {trial.placement}" if trial.placement else ""
        return f"{count} {trial.trial_id} {trial.status.value}{value}{where}{why}"

    def _done(self) -> list[Trial]:
        return [t for t in self.trials.values() if t.finished]

    def line(self) -> str:
        trials = list(self.trials.values())
        count = {s: sum(t.status is s for t in trials) for s in TrialStatus}
        done = len(self._done())
        values = [
            t for t in trials if t.value is not None and math.isfinite(t.value) and t.finished
        ]
        best = ""
        if values:
            top = values[0]
            for t in values[1:]:
                if self.goal.is_better(t.value, top.value):  # type: ignore[arg-type]
                    top = t
            best = f" · best {self.metric} {top.value:.4f} ({top.trial_id})"
        elapsed = time.monotonic() - self.started
        eta = ""
        if self.durations and done < self.max_trials:
            mean = sum(self.durations) / len(self.durations)
            left = (self.max_trials - done) * mean / self.concurrency
            eta = f" · ETA ~{_duration(left)}"
        paused = f" · paused {count[TrialStatus.PAUSED]}" if count[TrialStatus.PAUSED] else ""
        return (
            f"trials {done}/{self.max_trials} · running {count[TrialStatus.RUNNING]}{paused} · "
            f"completed {count[TrialStatus.COMPLETED]} · stopped {count[TrialStatus.STOPPED]} · "
            f"failed {count[TrialStatus.FAILED]}{best} · {_duration(elapsed)}{eta}"
        )

    def _draw(self) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
