"""Ctrl-C and SIGTERM during a sweep: pause at the next safe point, or, the second time, at once.

``interruptible(on_first)`` installs handlers for SIGINT and SIGTERM for the duration of a
``with`` block (on the main thread; elsewhere it installs nothing). The first signal calls
``on_first(reason)`` (the scheduler's ``interrupt``: every running trial pauses after its
current epoch, the store records it as resumable, the sweep ends) and logs how to exit at once.
A second signal raises ``SweepInterrupted`` where the main thread is: the sweep's process kills
its workers and ends; every committed record stays, and the unfinished trials resume from their
last resume checkpoint. The previous handlers are restored on exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["SweepInterrupted", "interruptible", "resume_hint"]

log = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SweepInterrupted(KeyboardInterrupt):
    """The sweep ended on SIGINT/SIGTERM. ``exit_code`` is 128 + the signal's number (130 for
    Ctrl-C, 143 for SIGTERM), what a shell reports for a process ended by that signal."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum

    def __str__(self) -> str:
        return str(self.args[0])


def resume_hint(output_dir: object) -> str:
    return f"run the same command again to resume (the sweep is in {output_dir})"


@dataclass
class Caught:
    """The first signal received inside the block, if any."""

    signum: int | None = None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""


@contextmanager
def interruptible(on_first: Callable[[str], None], output_dir: object = "") -> Iterator[Caught]:
    caught = Caught()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if caught.signum is not None:  # the second one: now
            raise SweepInterrupted(
                f"{name} again: stopped at once; every recorded epoch is kept, "
                + resume_hint(output_dir),
                caught.signum,
            )
        caught.signum = signum
        log.warning(
            "%s: the running trials stop after their current epoch and the sweep ends "
            "(resumable); press Ctrl-C again to stop at once",
            name,
        )
        on_first(f"interrupted by {name}")

    previous = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield caught
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
