"""The live progress table: one row per running trial and the sweep's line below it, as a rich
renderable (``rich`` redraws it in place on a terminal and in a Jupyter notebook), and the same
table as plain text of a fixed width (tests, snapshots).
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from automl_vision.reporting.progress_state import SweepProgress

__all__ = ["plain_text", "progress_table"]


def progress_table(state: SweepProgress) -> RenderableType:
    """The running trials' table (none: no table) above the sweep's line."""
    rows = state.rows()
    line = Text(state.sweep_line(), overflow="fold")
    if not rows:
        return line
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("trial", no_wrap=True)
    table.add_column("params", overflow="ellipsis", no_wrap=True, max_width=40)
    table.add_column("epoch", justify="right", no_wrap=True)
    table.add_column("batch", justify="right", no_wrap=True)
    table.add_column(state.metric, justify="right", no_wrap=True)
    table.add_column("elapsed", justify="right", no_wrap=True)
    table.add_column("ETA", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            row.trial_id, row.params, row.epoch, row.batch, row.value, row.elapsed, row.eta
        )
    return Group(table, line)


def plain_text(renderable: RenderableType, width: int) -> str:
    """``renderable`` drawn as plain text (no colour, no escape codes) ``width`` columns wide."""
    out = io.StringIO()
    console = Console(
        file=out, width=width, color_system=None, force_terminal=False, force_jupyter=False
    )
    console.print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
