"""The ``benchmark`` command: every method of a benchmark file on every dataset, under one
protocol (``automl_vision.benchmarking``), then the leaderboard's main table and the paths.

    automl-vision benchmark bench.yaml [--output-dir D] [--force] [--quiet]

Run again, the same command resumes a killed benchmark: finished cells and models are kept.
A bad file or key is one line on stderr and exit status 2; a cell whose sweep produced no value
exits 3.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from automl_vision.benchmarking.run import run_benchmark
from automl_vision.benchmarking.spec import BenchmarkSpec
from automl_vision.cli.common import EXIT_NO_VALUE
from automl_vision.reporting.result import NoTrialValueError

__all__ = ["add_commands", "main_table"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "benchmark",
        help="methods × datasets under one protocol: test split, seeds, intervals",
        description="Tune every method on every dataset's train/validation split, retrain the "
        "top configurations with several seeds and score them on a test split tuning never "
        "saw; write the leaderboard, plots and report.",
    )
    p.add_argument("spec", metavar="BENCH_YAML", help="the benchmark file (datasets, methods, ...)")
    p.add_argument("--output-dir", help="where the benchmark lives (overrides the file's)")
    p.add_argument(
        "--force",
        action="store_true",
        help="run cells whose protocol changed (their old results are moved to replaced/)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines or tables")
    p.set_defaults(func=_benchmark)


def main_table(markdown: str) -> str:
    """The first table of a markdown text (its consecutive ``|`` lines)."""
    lines: list[str] = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("|"):
            lines.append(line)
        elif lines:
            break
    return "\n".join(lines)


def _benchmark(args: argparse.Namespace) -> int:
    spec = BenchmarkSpec.from_yaml(args.spec, output_dir=args.output_dir)
    try:
        result = run_benchmark(spec, force=args.force, progress=not args.quiet)
    except NoTrialValueError as err:
        print(f"automl-vision: error: {err}", file=sys.stderr)
        return EXIT_NO_VALUE
    out = Path(result.output_dir)
    board = out / "leaderboard.md"
    print(main_table(board.read_text()) if board.is_file() else str(result))
    print()
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "report.html", "plots"):
        if (out / name).exists():
            print(f"{name}: {out / name}")
    return 0
