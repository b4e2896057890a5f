# STAND-IN for issue 29 piece E: replaced at merge
"""The benchmark's plots (stand-in: none drawn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_benchmark_plots"]


def write_benchmark_plots(leaderboard: Any, out_dir: str | Path) -> list[Path]:
    """``out_dir/plots/*.png`` of ``leaderboard``; the stand-in draws nothing."""
    (Path(out_dir) / "plots").mkdir(parents=True, exist_ok=True)
    return []
