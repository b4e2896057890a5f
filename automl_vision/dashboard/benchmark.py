# STAND-IN for issue 29 piece E: replaced at merge
"""A benchmark directory as a page (stand-in: the leaderboard table as escaped HTML)."""

from __future__ import annotations

import html
from pathlib import Path

from automl_vision.reporting.leaderboard import Leaderboard
from automl_vision.storage import write_atomically

__all__ = ["write_benchmark_report"]


def write_benchmark_report(out_dir: str | Path) -> Path:
    board = Leaderboard.read(out_dir)
    rows = "".join(
        f"<tr><td>{html.escape(r.dataset)}</td><td>{html.escape(r.method)}</td>"
        f"<td>{html.escape(r.metric)}</td><td>{r.mean:.4f}</td></tr>"
        for r in board.rows
    )
    page = f"<!doctype html><html><body><table>{rows}</table></body></html>"
    return write_atomically(Path(out_dir) / "report.html", page)
