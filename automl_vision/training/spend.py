"""Where a run is in its schedule and what it has spent, for each report.

Every report of the built-in trainer carries, beside its validation metrics:

- ``progress`` (``trial.PROGRESS_KEY``): optimizer steps done / optimizer steps of the whole
  schedule (``number_of_epochs`` epochs, warm-up included), so the last epoch reports 1.0;
- ``cost`` (``trial.COST_KEY``): wall-clock seconds of training and validation since the run
  started (the epochs' training, evaluation, checkpoints and reports; not data loading or
  model setup before the first epoch);
- ``device_seconds`` (``DEVICE_SECONDS_KEY``, a plain metric): on CUDA, the time the device's
  stream took between the start of each epoch and the report, measured with CUDA events (the
  GPU's own clock, read after synchronising); on any other device, the same as ``cost``'s wall
  seconds (the process's CPU time is not device time: it counts every thread and none of the
  waiting).

``cost`` and ``device_seconds`` are cumulative across resumes: the resume state keeps them
(``SpendClock.state``) and a resumed run continues from there (a resume state written before
they existed starts from 0). They are not part of ``metrics.jsonl``, the history or the best
checkpoint's metrics, which keep the validation metrics only (and stay bit-for-bit equal
between a resumed and an uninterrupted run); nor are they metrics a sweep can optimize
(``metric_catalog.METRICS`` does not name them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import torch

from automl_vision.trial import COST_KEY, DEVICE_SECONDS_KEY, PROGRESS_KEY

__all__ = ["DEVICE_SECONDS_KEY", "SpendClock", "schedule_progress"]


def schedule_progress(steps_done: int, total_steps: int) -> float:
    """The fraction ``steps_done / total_steps`` of the schedule, within [0, 1]."""
    if total_steps < 1:
        return 1.0
    return min(1.0, max(0.0, steps_done / total_steps))


class SpendClock:
    """Cumulative wall and device seconds, over epochs (``begin`` ... ``end``) and resumes."""

    def __init__(self, device: torch.device, *, seconds: float = 0.0, device_seconds: float = 0.0):
        self.device = device
        self.seconds = seconds  # closed epochs' wall seconds (and those before a resume)
        self.device_seconds = device_seconds
        self._start: float | None = None
        self._event: Any = None  # the CUDA start event of the open epoch

    @property
    def _cuda(self) -> bool:
        return self.device.type == "cuda"

    def begin(self) -> None:
        """An epoch starts."""
        self._start = time.perf_counter()
        if self._cuda:
            self._event = torch.cuda.Event(enable_timing=True)
            self._event.record(torch.cuda.current_stream(self.device))

    def now(self) -> tuple[float, float]:
        """(wall seconds, device seconds) spent so far, the open epoch included."""
        if self._start is None:
            return self.seconds, self.device_seconds
        wall = time.perf_counter() - self._start
        device = wall
        if self._cuda:
            end = torch.cuda.Event(enable_timing=True)
            end.record(torch.cuda.current_stream(self.device))
            end.synchronize()
            device = self._event.elapsed_time(end) / 1000.0  # milliseconds
        return self.seconds + wall, self.device_seconds + device

    def end(self) -> None:
        """The epoch ends: its seconds join the totals."""
        self.seconds, self.device_seconds = self.now()
        self._start, self._event = None, None

    def state(self) -> dict[str, float]:
        """What a resume state keeps (the closed epochs' totals)."""
        return {"seconds": self.seconds, "device_seconds": self.device_seconds}

    @classmethod
    def restored(cls, device: torch.device, state: Mapping[str, Any] | None) -> SpendClock:
        """A clock continuing from ``state()`` (None or malformed values: from 0)."""
        state = state or {}
        return cls(
            device,
            seconds=_seconds(state.get("seconds")),
            device_seconds=_seconds(state.get("device_seconds")),
        )

    def report_fields(self, steps_done: int, total_steps: int) -> dict[str, float]:
        """The fields a report carries now (module docstring)."""
        wall, device = self.now()
        return {
            PROGRESS_KEY: schedule_progress(steps_done, total_steps),
            COST_KEY: wall,
            DEVICE_SECONDS_KEY: device,
        }


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value) if math.isfinite(value) and value >= 0 else 0.0
