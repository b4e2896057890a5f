"""``report --html``: the dashboard's views as one static, self-contained file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from automl_vision.dashboard.render import render_page
from automl_vision.dashboard.snapshot import load_snapshot

__all__ = ["write_html_report"]

FILENAME = "report.html"


def _write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file in the same folder renamed into place: a
    full disk leaves the previous file (or none), never a truncated one; a link at ``path`` is
    replaced, not written through. An OSError names ``path``, not the temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from err
    finally:
        tmp.unlink(missing_ok=True)


def write_html_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write ``RUN_DIR/report.html`` (or ``output``): no script source, stylesheet or image is
    fetched from anywhere, so the file opens offline and can be mailed as it is. Its
    Content-Security-Policy (a ``<meta>`` tag) lets only its own inline script and style run."""
    run = load_snapshot(run_dir)
    path = Path(output) if output is not None else Path(run_dir) / FILENAME
    _write_atomically(path, render_page([run], f"automl-vision report · {Path(run_dir).name}"))
    return path
