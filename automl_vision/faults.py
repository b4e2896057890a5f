"""Fault injection for the crash tests: ``AUTOML_VISION_FAULT=point:count`` kills this process.

With the variable set to ``point:count``, the ``count``-th time (from 1) this process reaches
``fault_point(point)`` it sends itself SIGKILL (a real ``kill -9``: no cleanup, no flush).
Points: ``epoch`` (a trial has trained an epoch, before its evaluation), ``checkpoint`` (a resume
checkpoint is written but not yet renamed into place), ``report`` (a report reached the
scheduler, before its decision is recorded), ``commit`` (inside the store's transaction that
starts a trial, before it commits), ``finish`` (a trial ended, before its end is recorded).
Unset, ``fault_point`` costs one comparison.
"""

from __future__ import annotations

import os
import signal

__all__ = ["fault_point"]

_SPEC = os.environ.get("AUTOML_VISION_FAULT", "")
_POINT, _, _COUNT = _SPEC.partition(":")
_seen = [0]


def fault_point(name: str) -> None:
    """SIGKILL this process if ``AUTOML_VISION_FAULT`` names ``name`` and its count is reached."""
    if not _SPEC or name != _POINT:
        return
    _seen[0] += 1
    if _seen[0] == int(_COUNT or 1):
        os.kill(os.getpid(), signal.SIGKILL)
