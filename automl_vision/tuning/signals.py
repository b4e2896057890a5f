"""Ctrl-C and SIGTERM during a sweep: pause at the next safe point, or, the second time, at once.

``interruptible(on_first)`` installs handlers for SIGINT and SIGTERM for the duration of a
``with`` block (on the main thread; elsewhere it installs nothing). The first signal calls
``on_first(reason)`` (the scheduler's ``interrupt``: every running trial pauses after its
current epoch, the store records it as resumable, the sweep ends) and logs how to exit at once.
A second signal raises ``SweepInterrupted`` where the main thread is: the sweep's process kills
its workers and ends; every committed record stays, and the unfinished trials resume from their
last resume checkpoint. Where it could not propagate (raised inside a finalizer, such as a data
loader's ``__del__``, where Python only prints it), the block raises it when it ends. The
previous handlers are restored on exit.

"At once" holds even where the main thread cannot run a Python handler: inside a long native
call (a training step, a wait on a data loader), where two signals also merge into one. A
watcher thread counts the signals as they arrive (``signal.set_wakeup_fd``); if the main thread
has not left the block ``GRACE_S`` seconds after the second one, the process exits with
128 + the signal's number. Nothing is lost: the store commits every record as it happens, the
worker processes die with the sweep's process (a data loader's are killed), and the
unfinished trials resume.

Processes forked inside the block (a data loader's workers) ignore both signals, as the sweep's
own worker processes do: the sweep's process decides how its trials end, and a Ctrl-C at a
terminal reaches the whole process group.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["GRACE_S", "SweepInterrupted", "interruptible", "resume_hint"]

log = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: how long the main thread has, after the second signal, to end the sweep itself
GRACE_S = 2.0
#: the process whose sweep is interruptible now (its forked children ignore the signals)
_active: dict[str, int | None] = {"pid": None}


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
    """The first signal received inside the block, if any (``again``: the second one)."""

    signum: int | None = None
    again: int | None = None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""


def _again(name: str, output_dir: object) -> str:
    return f"{name} again: stopped at once; every recorded epoch is kept, " + resume_hint(
        output_dir
    )


def _forked_child() -> None:
    """In a process forked inside the block: ignore the signals, and write no wakeup bytes
    into the parent's watcher (its pipe is inherited)."""
    if _active["pid"] is None:
        return
    _active["pid"] = None
    with contextlib.suppress(ValueError, OSError):  # not the main thread: nothing to undo
        signal.set_wakeup_fd(-1)
        for s in _SIGNALS:
            signal.signal(s, signal.SIG_IGN)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_child)


class _Watcher:
    """Counts SIGINT/SIGTERM as they arrive, whatever the main thread is doing (the wakeup fd
    gets a byte per signal); ends the process ``GRACE_S`` seconds after the second one unless
    the block was left by then (``leave``)."""

    def __init__(self, output_dir: object) -> None:
        self._output_dir = output_dir
        self._left = threading.Event()
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="automl-vision-signals")
        self._thread.daemon = True
        self._thread.start()

    def _watch(self) -> None:
        seen: list[int] = []
        try:
            while len(seen) < 2:
                data = os.read(self._read, 64)
                if not data:  # the block was left: its write end is closed
                    return
                seen += [b for b in data if b in _SIGNALS]
        except OSError:
            return
        if self._left.wait(GRACE_S):
            return
        name = signal.Signals(seen[1]).name
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.write(f"\nautoml-vision: {_again(name, self._output_dir)}\n")
            sys.stderr.flush()
        with contextlib.suppress(Exception):  # a data loader's workers: they would linger
            for child in multiprocessing.active_children():
                child.kill()
        os._exit(128 + seen[0])

    def leave(self) -> None:
        self._left.set()
        signal.set_wakeup_fd(self._previous)  # then no signal writes into the pipe any more
        os.close(self._write)  # a reading watcher sees its end
        self._thread.join(1.0)
        os.close(self._read)


@contextmanager
def interruptible(on_first: Callable[[str], None], output_dir: object = "") -> Iterator[Caught]:
    caught = Caught()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    owner = os.getpid()

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != owner:  # a forked child: the sweep's process decides
            return
        name = signal.Signals(signum).name
        if caught.signum is not None:  # the second one: now
            caught.again = signum
            raise SweepInterrupted(_again(name, output_dir), caught.signum)
        caught.signum = signum
        log.warning(
            "%s: the running trials stop after their current epoch and the sweep ends "
            "(resumable); press Ctrl-C again to stop at once",
            name,
        )
        on_first(f"interrupted by {name}")

    def unraisable(info: Any) -> None:
        if not isinstance(info.exc_value, SweepInterrupted):
            hook(info)  # a SweepInterrupted raised in a finalizer is raised again below

    previous = {s: signal.signal(s, handler) for s in _SIGNALS}
    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    watcher = _Watcher(output_dir)
    outer, _active["pid"] = _active["pid"], owner
    try:
        yield caught
        if caught.again is not None and caught.signum is not None:
            # it was raised where it could not propagate (a finalizer): raised here
            name = signal.Signals(caught.again).name
            raise SweepInterrupted(_again(name, output_dir), caught.signum)
    finally:
        _active["pid"] = outer
        watcher.leave()
        sys.unraisablehook = hook
        for s, old in previous.items():
            signal.signal(s, old)
