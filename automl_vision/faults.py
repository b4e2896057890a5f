"""Fault injection for the crash tests: ``AUTOML_VISION_FAULT=point:count[:action]``.

With the variable set, the ``count``-th time (from 1) this process reaches ``fault_point(point)``
the action happens: ``kill`` (the default) sends this process SIGKILL (a real ``kill -9``: no
cleanup, no flush); ``enospc`` raises ``OSError(ENOSPC)`` as a full disk would.
Points: ``epoch`` (a trial has trained an epoch, before its evaluation), ``checkpoint`` (a resume
checkpoint is written but not yet renamed into place), ``report`` (a report reached the
scheduler, before its decision is recorded), ``commit`` (inside the store's transaction that
starts a trial, before it commits), ``finish`` (a trial ended, before its end is recorded).
Unset, ``fault_point`` costs one comparison.
"""

from __future__ import annotations

import errno
import os
import signal

__all__ = ["fault_point"]

_SPEC = os.environ.get("AUTOML_VISION_FAULT", "")
_POINT, _COUNT, _ACTION = ([*_SPEC.split(":"), "", ""])[:3]
_seen = [0]  # this process's count of visits to the named point (the hook's only state)


def fault_point(name: str, path: str | os.PathLike[str] | None = None) -> None:
    """Act as ``AUTOML_VISION_FAULT`` says if it names ``name`` and its count is reached
    (``path``: the file being written, named by an injected ENOSPC)."""
    if not _SPEC or name != _POINT:
        return
    _seen[0] += 1
    if _seen[0] != int(_COUNT or 1):
        return
    if _ACTION == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path or name))
    os.kill(os.getpid(), signal.SIGKILL)
