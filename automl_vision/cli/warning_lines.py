"""Python warnings on the command line as one clean line each (``automl-vision: warning: ...``)
instead of Python's ``file:line: Category: message`` and the source line. Installed by the
CLI's ``main()`` only, for the length of the command, and restored after it: the library itself
never changes how warnings are shown."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from automl_vision.cli.common import one_line

__all__ = ["warning_lines"]


def _show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning``'s signature: where the warning came from is left out."""
    stream: Any = file if file is not None else sys.stderr
    if stream is None:  # no stderr (pythonw): nowhere to show it
        return
    stream.write(f"automl-vision: warning: {one_line(message)}\n")


@contextmanager
def warning_lines() -> Iterator[None]:
    """Show every warning raised inside as ``automl-vision: warning: <message>``."""
    previous = warnings.showwarning
    warnings.showwarning = _show
    try:
        yield
    finally:
        warnings.showwarning = previous
