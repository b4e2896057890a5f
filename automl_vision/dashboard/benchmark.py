"""A benchmark directory (a folder holding ``leaderboard.json``) as HTML: the live dashboard's
section of it and ``report.html``.

The section shows, per dataset, the leaderboard (methods × metrics, ``mean [ci_low, ci_high]``,
the primary metric first, the best mean of each metric in bold by its goal), the metrics with
their intervals and the per-class AP heat map as SVG (from ``reporting.benchmark_chart_data``,
the numbers of the PNG plots), the per-class AP and F1 table, the paired comparisons with their
p-values; then the compute each cell spent, the top-k configurations and the protocol.

What a benchmark folder holds is not trusted, as for a sweep's store: ``leaderboard.json`` is
read only when it is a regular file inside the folder (a link is refused, never followed), at
most ``MAX_BYTES``, and validated by ``Leaderboard`` (every value's type; a bad file is one
``LeaderboardError`` line naming it); all text is escaped; the page is ``render.render_page``
with its own Content-Security-Policy. Nothing is written except by ``write_benchmark_report``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Sequence
from html import escape
from pathlib import Path

from automl_vision.dashboard.render import render_page
from automl_vision.dashboard.svg import heat_map, interval_panel
from automl_vision.reporting.benchmark_chart_data import heat_maps, interval_panels
from automl_vision.reporting.leaderboard import (
    JSON_NAME,
    SIGNIFICANCE,
    ClassMetric,
    Leaderboard,
    LeaderboardError,
    arrow,
    duration,
    goal_text,
    interval_text,
    number,
    p_text,
    params_text,
)
from automl_vision.storage import write_atomically

__all__ = [
    "MAX_BYTES",
    "benchmark_dirs",
    "is_benchmark_dir",
    "load_leaderboard",
    "render_benchmark",
    "write_benchmark_report",
]

FILENAME = "report.html"
#: the largest leaderboard.json the dashboard reads
MAX_BYTES = 32 * 2**20

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once (then fstat refuses it)
    | getattr(os, "O_CLOEXEC", 0)
)


def is_benchmark_dir(path: str | Path) -> bool:
    """Whether ``path`` is a folder with a ``leaderboard.json`` (a link there counts: reading
    it is refused with a clear error, rather than the folder being taken for something else)."""
    leaderboard = Path(path) / JSON_NAME
    return Path(path).is_dir() and (leaderboard.is_symlink() or leaderboard.exists())


def benchmark_dirs(path: str | Path) -> list[Path]:
    """``[path]`` when it is a benchmark directory, else its immediate subfolders that are
    (sorted by name; a subfolder that is a link is not followed); ``[]`` for none."""
    folder = Path(path)
    if is_benchmark_dir(folder):
        return [folder]
    if not folder.is_dir():
        return []
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return []
    return [c for c in children if not c.is_symlink() and is_benchmark_dir(c)]


def load_leaderboard(bench_dir: str | Path) -> Leaderboard:
    """``bench_dir/leaderboard.json``, read without following a link and validated; one
    ``LeaderboardError`` naming the file otherwise."""
    path = Path(bench_dir) / JSON_NAME
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise LeaderboardError(f"{path} does not exist: no benchmark leaderboard there") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise LeaderboardError(
                f"{path} is a symbolic link; the dashboard reads only a leaderboard.json that is "
                "a file inside the benchmark folder, never a link to another place"
            ) from None
        raise LeaderboardError(f"cannot read {path} ({err.strerror or err})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LeaderboardError(f"{path} is not a regular file; it is not shown")
        if info.st_size > MAX_BYTES:
            raise LeaderboardError(
                f"{path} is {info.st_size} bytes, more than the {MAX_BYTES} a leaderboard may be"
            )
        chunks = []
        left = MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_BYTES:
        raise LeaderboardError(f"{path} grew past the {MAX_BYTES} bytes a leaderboard may be")
    return Leaderboard.from_json(data, path)


# -- HTML ---------------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    """A table from escaped cells (a cell may carry its own ``<td ...>``)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table class="{css}"><tr>{th}</tr>{body}</table></div>'


def _num_cell(text: str, best: bool = False) -> str:
    return f'<td class="num{" best" if best else ""}">{escape(text)}</td>'


def _leaderboard(board: Leaderboard, dataset: str) -> str:
    metrics = board.metrics(dataset)
    primary = metrics[0]
    best = {m: board.best_methods(dataset, m) for m in metrics}
    head = [
        "method",
        *(
            escape(f"{m} {arrow(board.goal(dataset, m))}")
            + (" <span class='muted'>(primary)</span>" if m == primary else "")
            for m in metrics
        ),
        "seeds",
    ]
    rows = []
    for method, cells in board.table(dataset).items():
        row = [f'<td class="txt{" best" if method in best[primary] else ""}">{escape(method)}</td>']
        for m in metrics:
            r = cells.get(m)
            text = interval_text(r.mean, r.ci_low, r.ci_high) if r else "-"
            row.append(_num_cell(text, r is not None and method in best[m]))
        row.append(_num_cell("/".join(str(s) for s in sorted({r.n_seeds for r in cells.values()}))))
        rows.append(row)
    goal = board.goal(dataset, primary)
    note = (
        f"primary metric {escape(primary)} ({goal_text(goal)}); each cell: the mean over the "
        "seeds' models on the test split [confidence interval]; the best mean of each metric in "
        "bold (↑ higher is better, ↓ lower is better)"
    )
    return f'<p class="muted">{note}</p>' + _table(head, rows, "leaderboard")


def _per_class(board: Leaderboard, dataset: str) -> str:
    classes = board.classes(dataset, ClassMetric.AP) or board.classes(dataset, ClassMetric.F1)
    if not classes:
        return ""
    cells = {(r.method, r.class_name, r.metric): r for r in board.per_class if r.dataset == dataset}
    methods = list(dict.fromkeys([*board.methods(dataset), *(m for m, _, _ in cells)]))
    head = ["class", *(escape(f"{m} · {k.value.upper()}") for m in methods for k in ClassMetric)]
    rows = []
    for name in classes:
        row = [f'<td class="txt">{escape(name)}</td>']
        for m in methods:
            for k in ClassMetric:
                r = cells.get((m, name, k))
                row.append(_num_cell(interval_text(r.mean, r.ci_low, r.ci_high) if r else "-"))
        rows.append(row)
    return (
        "<details><summary>per-class AP and F1 (mean [interval])</summary>"
        + _table(head, rows, "per-class")
        + "</details>"
    )


def _comparisons(board: Leaderboard, dataset: str) -> str:
    found = [c for c in board.comparisons if c.dataset == dataset]
    if not found:
        return ""
    order = {m: i for i, m in enumerate(board.metrics(dataset))}
    found.sort(key=lambda c: order.get(c.metric, len(order)))
    rows = [
        [
            escape(f"{c.metric} {arrow(board.goal(dataset, c.metric))}"),
            f'<td class="txt">{escape(c.method_a)}</td>',
            f'<td class="txt">{escape(c.method_b)}</td>',
            _num_cell(interval_text(c.difference, c.ci_low, c.ci_high)),
            _num_cell(p_text(c.p_value)),
            f'<td class="txt best">{escape(c.better)}</td>'
            if c.better
            else '<td class="muted">no significant difference</td>',
        ]
        for c in found
    ]
    return (
        "<h3>Paired comparisons</h3>"
        f'<p class="muted">a − b on the same test-image resamples, its interval and p-value; '
        f"better: significantly better at p &lt; {SIGNIFICANCE} by the metric's goal</p>"
        + _table(["metric", "a", "b", "a − b [interval]", "p-value", "better"], rows, "comparisons")
    )


def _compute(board: Leaderboard) -> str:
    if not board.compute:
        return ""
    rows = [
        [
            f'<td class="txt">{escape(c.dataset)}</td>',
            f'<td class="txt">{escape(c.method)}</td>',
            _num_cell(str(c.trials)),
            _num_cell(duration(c.tune_seconds)),
            _num_cell(duration(c.retrain_seconds)),
            _num_cell(str(c.retrained_models)),
        ]
        for c in board.compute
    ]
    head = ["dataset", "method", "trials", "tuning", "retraining", "retrained models"]
    return "<h3>Compute</h3>" + _table(head, rows, "compute")


def _configs(board: Leaderboard) -> str:
    if not board.configs:
        return ""
    datasets = {d: i for i, d in enumerate(board.datasets())}
    methods: dict[tuple[str, str], int] = {}
    for i, r in enumerate(board.rows):
        methods.setdefault((r.dataset, r.method), i)
    configs = sorted(
        board.configs,
        key=lambda c: (
            datasets.get(c.dataset, len(datasets)),
            methods.get((c.dataset, c.method), len(methods)),
            c.rank,
        ),
    )
    rows = [
        [
            f'<td class="txt">{escape(c.dataset)}</td>',
            f'<td class="txt">{escape(c.method)}</td>',
            _num_cell(str(c.rank)),
            f'<td class="txt">{escape(board.primary_metric.get(c.dataset, ""))}</td>',
            _num_cell(number(c.validation_value)),
            _num_cell(interval_text(c.test_mean, c.test_ci_low, c.test_ci_high)),
            _num_cell("✓" if c.selected else "", c.selected),
            f'<td class="txt">{escape(params_text(c.params))}</td>',
        ]
        for c in configs
    ]
    head = ["dataset", "method", "rank", "metric", "validation", "test", "selected", "parameters"]
    return (
        "<h3>Top-k configurations</h3>"
        '<p class="muted">ranked by the primary metric on validation; test: mean [interval] of '
        "the retrained seeds; ✓ the configuration the leaderboard reports</p>"
        + _table(head, rows, "configs")
    )


def _protocol(board: Leaderboard) -> str:
    if not board.protocol:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(k))}</td><td>"
        f"{escape(v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str))}"
        "</td></tr>"
        for k, v in board.protocol.items()
    )
    return f'<h3>Protocol</h3><table class="kv">{rows}</table>'


def render_benchmark(board: Leaderboard, bench_dir: str | Path, bid: str = "b0") -> str:
    """One benchmark as a section of the page (``bid``: its element id)."""
    panels = interval_panels(board)
    maps = {m.dataset: m for m in heat_maps(board, ClassMetric.AP)}
    datasets = board.datasets()
    methods = list(dict.fromkeys(r.method for r in board.rows))
    parts = [
        f'<section class="run bench" id="{escape(bid)}"><h2>benchmark · '
        f"{escape(str(bench_dir))}</h2>"
        f'<p class="summary">{len(datasets)} dataset(s) × {len(methods)} method(s)</p>'
    ]
    for dataset in datasets:
        parts.append(f"<h3>{escape(dataset)}</h3>{_leaderboard(board, dataset)}")
        charts = "".join(interval_panel(p) for p in panels.get(dataset, []))
        parts.append(f'<div class="charts">{charts}</div>')
        if dataset in maps:
            parts.append(f'<div class="charts">{heat_map(maps[dataset])}</div>')
        parts.append(_per_class(board, dataset))
        parts.append(_comparisons(board, dataset))
    parts += [_compute(board), _configs(board), _protocol(board), "</section>"]
    return "".join(parts)


def write_benchmark_report(out_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write ``OUT_DIR/report.html`` (or ``output``) from ``OUT_DIR/leaderboard.json``,
    atomically: one self-contained file (no script, style or image fetched from anywhere; its
    Content-Security-Policy in a ``<meta>`` tag), the same section the live dashboard shows."""
    board = load_leaderboard(out_dir)
    path = Path(output) if output is not None else Path(out_dir) / FILENAME
    title = f"automl-vision benchmark · {Path(out_dir).resolve().name}"
    write_atomically(path, render_page([], title, sections=[render_benchmark(board, out_dir)]))
    return path
