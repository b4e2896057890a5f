"""Replay recorded learning curves as if they were training runs, in simulated time.

The same scheduler and policies that drive real training drive this executor, so early
termination can be benchmarked on real curves without training anything (docs/architecture.md,
"Data flow").
Each trial's ``params[curve_param]`` names the curve (a row index); its epochs take a random
simulated duration, so concurrent trials report in a random, seeded, interleaved order. A trial
started again (promoted after a pause) continues its curve after the reports it made.

With ``progress=True`` each report also carries where the trial is (``trial.PROGRESS_KEY``,
``trial.COST_KEY``): progress = the report's index / its schedule's length (the curve's length,
or ``schedule_lengths[curve]`` where a curve is stored longer than its schedule, e.g. a
NaN-padded row; reports past it say 1), and cost = the trial's simulated seconds so far (its
epoch durations summed, continuing after a promotion), or ``costs[curve][index - 1]`` where
per-report cumulative costs are given. Without it reports are exactly as before.
"""

from __future__ import annotations

import csv
import heapq
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from automl_vision.executors.base import AttemptEnd, AttemptOutcome, Executor
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Trial

__all__ = ["SimulatedExecutor", "load_learning_curves"]


def load_learning_curves(path: str | Path, prefix: str = "acc_") -> np.ndarray:
    """Rows of a CSV whose ``acc_*`` columns are per-epoch values -> (n_curves, n_epochs)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"learning-curve file {str(path)!r} does not exist")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or [] if c.startswith(prefix)]
        if not columns:
            raise ValueError(f"{path}: no columns starting with {prefix!r}")
        rows = [[float(row[c]) for c in columns] for row in reader]
    return np.asarray(rows, dtype=float)


class SimulatedExecutor(Executor):
    """Replays ``curves[i]`` (values per epoch) for a trial whose ``params[curve_param] == i``.

    ``epoch_seconds`` gives each curve's duration per epoch; by default every trial draws one
    from a log-normal distribution (median 1 s, seeded by ``seed`` and the trial index), which
    makes arrival order random but reproducible. ``progress``, ``schedule_lengths`` and
    ``costs``: the module docstring (each per curve; off by default).
    """

    def __init__(
        self,
        curves: Sequence[Sequence[float]] | np.ndarray,
        *,
        capacity: int = 4,
        seed: int = 0,
        epoch_seconds: Sequence[float] | None = None,
        metric: str = "accuracy",
        curve_param: str = "curve",
        spread: float = 0.5,
        progress: bool = False,
        schedule_lengths: Sequence[int] | None = None,
        costs: Sequence[Sequence[float]] | None = None,
    ) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.curves = [list(map(float, c)) for c in curves]
        self.capacity = capacity
        self.seed = seed
        self.epoch_seconds = None if epoch_seconds is None else list(map(float, epoch_seconds))
        self.metric = metric
        self.curve_param = curve_param
        self.spread = spread
        self.progress = progress
        self.schedule_lengths = _schedule_lengths(self.curves, schedule_lengths)
        self.costs = _costs(self.curves, costs)
        if not progress and (schedule_lengths is not None or costs is not None):
            raise ValueError("schedule_lengths and costs need progress=True")
        self._clock = 0.0
        self._events: list[tuple[float, int, str, int]] = []  # (time, trial index, id, epoch)
        self._active: dict[str, tuple[int, float]] = {}  # trial id -> (curve, seconds/epoch)
        self._stopped: list[str] = []  # hard-stopped, outcome not yet returned
        self._ended: list[AttemptOutcome] = []  # started with nothing left to replay
        self.epochs_run = 0

    def now(self) -> float:
        return self._clock

    @property
    def running(self) -> int:
        return len(self._active) + len(self._ended)

    def start(self, trial: Trial) -> None:
        curve = int(trial.params[self.curve_param])
        if not 0 <= curve < len(self.curves):
            raise ValueError(
                f"{self.curve_param}={curve} is not a curve index (0..{len(self.curves) - 1})"
            )
        if self.epoch_seconds is not None:
            seconds = self.epoch_seconds[curve]
        else:
            rng = np.random.default_rng([self.seed, trial.index])
            seconds = float(rng.lognormal(0.0, self.spread))
        self._active[trial.trial_id] = (curve, seconds)
        # a trial started again (promoted from a pause, or re-queued) continues its curve after
        # the reports it already made
        first = len(trial.reports) + 1
        if first > len(self.curves[curve]):  # nothing left to replay: it has ended
            del self._active[trial.trial_id]
            last = self.curves[curve][-1]
            self._ended.append(AttemptOutcome(trial.trial_id, returned=last))
            return
        heapq.heappush(self._events, (self._clock + seconds, trial.index, trial.trial_id, first))

    def stop(self, trial_id: str) -> None:
        if trial_id in self._active:
            del self._active[trial_id]
            self._stopped.append(trial_id)

    def _drain_stopped(self) -> list[AttemptOutcome]:
        outcomes = [AttemptOutcome(t, AttemptEnd.HALTED) for t in self._stopped]
        outcomes += self._ended
        self._stopped, self._ended = [], []
        return outcomes

    def wait(self) -> list[AttemptOutcome]:
        outcomes = self._drain_stopped()
        while not outcomes and self._events:
            when, index, trial_id, epoch = heapq.heappop(self._events)
            if trial_id not in self._active:
                continue
            self._clock = max(self._clock, when)
            curve, seconds = self._active[trial_id]
            values = self.curves[curve]
            self.epochs_run += 1
            metrics = {self.metric: values[epoch - 1]}
            if self.progress:
                metrics |= self._position(curve, epoch, seconds)
            stop = self.report(trial_id, epoch, metrics)
            if trial_id in self._active:  # not hard-stopped while reporting
                if stop or epoch == len(values):
                    del self._active[trial_id]
                    outcomes.append(AttemptOutcome(trial_id, returned=values[epoch - 1]))
                else:
                    heapq.heappush(self._events, (when + seconds, index, trial_id, epoch + 1))
            outcomes += self._drain_stopped()
        return outcomes

    def _position(self, curve: int, epoch: int, seconds: float) -> dict[str, float]:
        """The progress and cost of report ``epoch`` of ``curve`` (module docstring)."""
        done = min(1.0, epoch / self.schedule_lengths[curve])
        cost = epoch * seconds if self.costs is None else self.costs[curve][epoch - 1]
        return {PROGRESS_KEY: done, COST_KEY: cost}


def _schedule_lengths(curves: list[list[float]], lengths: Sequence[int] | None) -> list[int]:
    """Each curve's schedule length: ``lengths`` checked, or the curves' own lengths."""
    if lengths is None:
        return [max(1, len(c)) for c in curves]
    out = list(lengths)
    if len(out) != len(curves) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in out
    ):
        raise ValueError(
            f"schedule_lengths must give one integer >= 1 per curve ({len(curves)} curves)"
        )
    return [int(n) for n in out]


def _costs(
    curves: list[list[float]], costs: Sequence[Sequence[float]] | None
) -> list[list[float]] | None:
    """Each curve's cumulative cost per report, checked (finite, >= 0, not decreasing)."""
    if costs is None:
        return None
    out = [list(map(float, c)) for c in costs]
    ok = len(out) == len(curves) and all(
        len(c) == len(v)
        and all(np.isfinite(x) and x >= 0 for x in c)
        and all(b >= a for a, b in itertools.pairwise(c))
        for c, v in zip(out, curves, strict=False)
    )
    if not ok:
        raise ValueError(
            "costs must give, per curve, one cumulative cost per report (finite, >= 0, "
            "not decreasing)"
        )
    return out
