"""``report --html``: the dashboard's views as one static, self-contained file."""

from __future__ import annotations

from pathlib import Path

from automl_vision.dashboard.render import render_page
from automl_vision.dashboard.snapshot import load_snapshot
from automl_vision.storage import write_atomically

__all__ = ["write_html_report"]

FILENAME = "report.html"


def write_html_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write ``RUN_DIR/report.html`` (or ``output``): no script source, stylesheet or image is
    fetched from anywhere, so the file opens offline and can be mailed as it is. Its
    Content-Security-Policy (a ``<meta>`` tag) lets only its own inline script and style run."""
    run = load_snapshot(run_dir)
    path = Path(output) if output is not None else Path(run_dir) / FILENAME
    write_atomically(path, render_page([run], f"automl-vision report · {Path(run_dir).name}"))
    return path
