"""Where a run is within its epoch, told at most every ``every_s`` seconds.

``BatchTicker`` is called after every training batch and passes a ``TrainingProgress`` on to
its callback (a sweep's trial context: the display shows batches done in the epoch) on the
first batch of the run and then when ``every_s`` seconds have passed since it last did, so a
fast loop costs one clock reading per batch. The clock is injectable (tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from automl_vision.trial import TrainingProgress

__all__ = ["PROGRESS_EVERY_S", "BatchTicker", "ProgressFn"]

#: ``progress(TrainingProgress)``: told where a run is within its epoch (not answered)
ProgressFn = Callable[[TrainingProgress], None]

#: the default least time between two progress messages of one run
PROGRESS_EVERY_S = 0.5


class BatchTicker:
    """Tells ``callback`` how far the run is, rate-limited (see the module docstring)."""

    def __init__(
        self,
        callback: ProgressFn,
        *,
        epochs: int,
        every_s: float = PROGRESS_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.epochs = epochs
        self.every_s = every_s
        self.clock = clock
        self._last: float | None = None

    def batch(self, epoch: int, done: int, batches: int) -> None:
        """``done`` of ``batches`` training batches of ``epoch`` are done."""
        now = self.clock()
        if self._last is not None and now - self._last < self.every_s:
            return
        self._last = now
        self.callback(TrainingProgress(epoch, self.epochs, done, batches))
