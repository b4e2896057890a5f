"""One writer per sweep directory: an advisory lock held for the sweep's lifetime.

``SweepLock(output_dir)`` takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``<output_dir>/sweep.lock``
and writes the owner (pid, host, start time) into it. A second process that tries is refused at
once with ``SweepLockedError`` naming the owner. The OS releases the lock when its owner dies,
also by ``kill -9``, so a stale lock cannot exist (the file may remain; its lock does not).
Readers (``status``, ``report``, a dashboard) never take it: SQLite's WAL lets them read while
the sweep writes.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType

__all__ = ["LOCK_FILE", "SweepLock", "SweepLockedError"]

LOCK_FILE = "sweep.lock"


class SweepLockedError(ValueError):
    """Another live process is running the sweep in this directory."""


class SweepLock:
    def __init__(self, output_dir: str | Path) -> None:
        self.path = Path(output_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> SweepLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise SweepLockedError(
                f"{self.path.parent} is in use by a running sweep ({owner}); wait for it to "
                "end or stop it (Ctrl-C) before starting another there"
            ) from None
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode(), 0
        )
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SweepLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()
