"""The progress display of a sweep, an observer (``SweepObserver``).

On a terminal (or in a Jupyter notebook) a live table like Ray Tune's: one row per running
trial (its id, key parameters, epoch, batches done in the epoch, its latest value, elapsed
time, ETA) with the sweep's line below (``progress_table.py``), redrawn in place by ``rich`` at
most every ``refresh_s`` seconds; a finished trial's line is printed above it. Otherwise (logs,
CI) plain lines: one per epoch of a trial, rate-limited (``progress_log.py``), one per finished
trial (``trial_text.py``: each number labelled) and the sweep's end. A resumed sweep's kept
trials count from the start, with one line saying how many were kept.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from automl_vision.policies.base import Decision, Promotion
from automl_vision.reporting.progress_log import EPOCH_LINE_EVERY_S, EpochLines
from automl_vision.reporting.progress_state import SweepProgress
from automl_vision.reporting.progress_table import progress_table
from automl_vision.reporting.trial_text import duration, finished_line
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.trial import PrimaryMetricGoal, Report, TrainingProgress, Trial

__all__ = ["REFRESH_S", "ProgressDisplay"]

#: the least time between two redraws of the live table
REFRESH_S = 0.25


class ProgressDisplay(SweepObserver):
    """See the module docstring. ``live``: draw the table (None: when ``stream`` is a terminal
    or a notebook's); ``kept``: the trials a resumed sweep starts with; ``clock``: seconds
    (injectable for tests); ``width``: the table's width (None: the terminal's)."""

    def __init__(
        self,
        *,
        max_trials: int,
        concurrency: int,
        goal: PrimaryMetricGoal,
        metric: str,
        stream: TextIO | None = None,
        live: bool | None = None,
        kept: Sequence[Trial] = (),
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
        refresh_s: float = REFRESH_S,
        epoch_line_every_s: float = EPOCH_LINE_EVERY_S,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.console = Console(file=self.stream, width=width, highlight=False)
        if live is None:
            live = self.console.is_terminal or self.console.is_jupyter
        elif live:
            self.console = Console(
                file=self.stream, width=width, highlight=False, force_terminal=True
            )
        self.live = live
        self.clock = clock
        self.refresh_s = refresh_s
        self.state = SweepProgress(
            max_trials=max_trials,
            concurrency=concurrency,
            goal=goal,
            metric=metric,
            clock=clock,
            kept=kept,
        )
        self.epoch_lines = EpochLines(clock, metric, goal, epoch_line_every_s)
        self._live: Live | None = None
        self._drawn: float | None = None
        if self.state.kept:
            self._print(self.state.resume_line())

    # -- observer hooks ----------------------------------------------------------------------
    def trial_started(self, trial: Trial) -> None:
        self.state.start(trial)
        self._draw(now=True)

    def trial_placed(self, trial: Trial) -> None:
        """A cluster executor said where the trial runs: one line (also on a terminal)."""
        self.state.update(trial)
        self._print(f"{trial.trial_id} runs on {trial.placement}")
        self._draw()

    def attempt_starts(self, trial: Trial, step: int) -> None:
        self.state.attempt_starts(trial, step)

    def trial_progress(self, trial: Trial, progress: TrainingProgress) -> None:
        self.state.progressed(trial, progress)
        self._draw()

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        self.state.update(trial)
        if not self.live:
            line = self.epoch_lines.line(trial, report, self.state.epochs_of(trial))
            if line is not None:
                self._print(line)
        self._draw()

    def trial_paused(self, trial: Trial) -> None:
        self.state.update(trial)
        self._draw(now=True)

    def trial_promoted(self, trial: Trial, promotion: Promotion) -> None:
        self.state.start(trial)
        self._draw(now=True)

    def trial_finished(self, trial: Trial) -> None:
        self.state.finish(trial)
        self.epoch_lines.forget(trial.trial_id)
        self._print(finished_line(trial, self.state.metric, self.state.count()))
        self._draw(now=True)

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        if self._live is not None:
            self._live.update(progress_table(self.state), refresh=True)
            self._live.stop()
            self._live = None
        self._print(f"sweep ended: {reason} ({duration(self.clock() - self.state.started)})")
        self.stream.flush()

    # -- drawing -----------------------------------------------------------------------------
    def line(self) -> str:
        """The sweep's line (counts, the best so far, elapsed, ETA)."""
        return self.state.sweep_line()

    def _print(self, line: str) -> None:
        """One line: above the live table, or on its own."""
        if self.live:
            self.console.print(Text(line), soft_wrap=True)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def _draw(self, *, now: bool = False) -> None:
        """Redraw the live table, at most every ``refresh_s`` seconds unless ``now``."""
        if not self.live:
            return
        at = self.clock()
        if not now and self._drawn is not None and at - self._drawn < self.refresh_s:
            return
        self._drawn = at
        if self._live is None:
            self._live = Live(
                progress_table(self.state),
                console=self.console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start(refresh=True)
            return
        self._live.update(progress_table(self.state), refresh=True)
