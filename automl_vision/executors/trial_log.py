"""The log file of a trial run in the sweep's own process (the ``inline`` kind, ``optimize``'s
threads): a worker process sends its whole stdout/stderr to ``trials/<id>/log.txt``; a trial
in the sweep's process cannot (the sweep's own output is there), so ``trial_log`` writes that
file from the trial's log records (those of its own thread, at the level logging is set to),
a first line saying which trial and parameters, and the error's traceback if it fails."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from automl_vision.artifacts import LOG_FILE

__all__ = ["trial_log"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ThisThread(logging.Filter):
    """Only the records of the thread that runs the trial (other trials run in other threads)."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


@contextmanager
def trial_log(
    workdir: Path,
    trial_id: str,
    params: Mapping[str, Any],
    halts: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Write ``workdir/log.txt`` (appended: a resumed trial adds its attempt) while the trial
    runs in this thread; an exception is written with its traceback and raised on, except the
    ``halts`` (the sweep stopping the trial), which are one line."""
    workdir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(workdir / LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(_ThisThread())
    package = logging.getLogger("automl_vision")
    package.addHandler(handler)
    try:
        handler.stream.write(f"trial {trial_id} starts with {dict(params)}\n")
        handler.flush()
        yield
    except halts:
        handler.stream.write(f"trial {trial_id} halted by the sweep\n")
        raise
    except BaseException:
        handler.stream.write(traceback.format_exc())
        raise
    else:
        handler.stream.write(f"trial {trial_id} ended\n")
    finally:
        package.removeHandler(handler)
        handler.close()
