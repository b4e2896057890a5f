"""What a sweep tells its user: the choices it made for them (preset, sampler, policy, packing)
and notes on the store it resumed, as log records on one logger, ``automl_vision.choices``.

That logger shows its records on standard error, ``automl_vision: <line>``, so a user of
``tune()`` in a notebook or script sees them without configuring logging; the handler writes to
whatever ``sys.stderr`` is when a record is emitted. To send them elsewhere or silence them,
configure that logger like any other (``logging.getLogger("automl_vision.choices")``: replace
its handlers, or set its level above INFO). Library code never prints these lines itself.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["ANNOUNCEMENTS", "announce"]

ANNOUNCEMENTS = "automl_vision.choices"


class _CurrentStderr(logging.StreamHandler):
    """A stream handler that always writes to the current ``sys.stderr``."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:  # StreamHandler.__init__ assigns it
        pass


def _logger() -> logging.Logger:
    log = logging.getLogger(ANNOUNCEMENTS)
    if not getattr(log, "_automl_vision_configured", False):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("automl_vision: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        log._automl_vision_configured = True  # type: ignore[attr-defined]
    return log


def announce(line: str) -> None:
    """Tell the user ``line`` (one of the sweep's choices or notes)."""
    _logger().info("%s", line)
