"""Commands that read a sweep directory: ``status``, ``report``, ``dashboard``.

``report`` and ``dashboard`` read a benchmark directory (a folder holding ``leaderboard.json``)
too: ``report`` writes its plots (and with ``--html`` its report.html), ``dashboard`` shows it.

Each reads the store read-only, so a running sweep is never blocked; none imports torch.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automl_vision.cli.common import UsageError
from automl_vision.dashboard.access import (
    check_allowed_host,
    check_port,
    check_token,
    is_loopback,
    new_token,
)
from automl_vision.dashboard.benchmark import (
    is_benchmark_dir,
    load_leaderboard,
    write_benchmark_report,
)
from automl_vision.dashboard.report import write_html_report
from automl_vision.dashboard.server import make_server
from automl_vision.reporting.benchmark_plots import write_benchmark_plots
from automl_vision.reporting.plots import save_plots
from automl_vision.reporting.result import TuneResult
from automl_vision.store.database import SweepStore
from automl_vision.store.retention import disk_usage
from automl_vision.trial import best_trial

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("status", help="show a sweep's trials")
    p.add_argument("run_dir")
    p.add_argument("--json", action="store_true", help="print JSON: every trial with its attempts")
    p.set_defaults(func=_status)

    p = sub.add_parser(
        "report", help="table, metrics JSON and plots of a sweep (or a benchmark's plots)"
    )
    p.add_argument("run_dir", help="a sweep's output directory, or a benchmark's")
    p.add_argument(
        "--output-dir",
        help="where to write metrics.json and plots/ (default RUN_DIR); of a benchmark: plots/ "
        "and report.html",
    )
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.set_defaults(func=_report)

    p = sub.add_parser("dashboard", help="a live web page of one or more sweeps or benchmarks")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--port", type=_flag(_port, "--port"), default=8080, help="0: any free port")
    p.add_argument(
        "--host",
        type=_flag(_host, "--host"),
        default="127.0.0.1",
        help="the address to listen on; any but a loopback one (0.0.0.0: every interface) "
        "needs a token",
    )
    p.add_argument(
        "--token",
        type=_flag(check_token, "--token"),
        help="every request must show it (?token= once, then a cookie; or Authorization: "
        "Bearer); made for you when --host is not a loopback address",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        type=_flag(check_allowed_host, "--allow-host"),
        help="another name[:port] the page may be opened under (a reverse proxy's); repeatable",
    )
    p.set_defaults(func=_dashboard)


def _flag(check: Callable[[str, str], Any], flag: str) -> Callable[[str], Any]:
    """An argparse type: the text checked (and converted) by ``check``, whose one-line
    ValueError becomes argparse's error line ``argument FLAG: ...`` (exit 2)."""

    def parse(text: str) -> Any:
        try:
            return check(text, flag)
        except ValueError as err:  # argparse names the flag itself
            raise argparse.ArgumentTypeError(str(err).removeprefix(f"{flag} ")) from None

    return parse


def _port(text: str, flag: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise ValueError(f"{flag} must be a whole number from 0 to 65535, got {text!r}")
    return check_port(number, flag)


def _host(text: str, flag: str) -> str:
    if not text.strip():
        raise ValueError(f"{flag} must be an address or a name (0.0.0.0 for every interface)")
    return text


def _status(args: argparse.Namespace) -> int:
    result = TuneResult.load(args.run_dir)
    if args.json:
        print(json.dumps(_status_json(result, Path(args.run_dir)), indent=2, allow_nan=False))
        return 0
    print(result.summary())
    print(f"disk used: {disk_usage(args.run_dir) / 2**20:.1f} MiB in {args.run_dir}")
    print()
    print(result.trials)
    return 0


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and unknown objects as strings (valid JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _status_json(result: Any, run_dir: Path) -> dict[str, Any]:
    """The sweep as JSON, each trial with its attempts (the epoch each started from, its end)."""
    data = _json_safe(result.to_dict())
    store = SweepStore.read_only(run_dir / SweepStore.FILENAME)
    try:
        for trial in data.get("trials", []):
            trial["attempts"] = store.attempts(int(trial["index"]))
    finally:
        store.close()
    return data


def _report(args: argparse.Namespace) -> int:
    if is_benchmark_dir(args.run_dir):
        return _report_benchmark(args)
    result = TuneResult.load(args.run_dir)
    print(result.trials)
    print()
    print(result.summary())
    out = Path(args.output_dir) if args.output_dir else Path(args.run_dir)
    try:
        json_path = result.to_json(out / "metrics.json")
        plots = save_plots(
            result.trials,
            result.goal,
            result.primary_metric,
            out / "plots",
            best_trial(result.trials, result.goal),
            settings=result.settings,
        )
    except OSError as err:  # a read-only copy, a read-only file system
        raise UsageError(
            f"cannot write {err.filename or out} ({err.strerror or err}); free some space or "
            "pass --output-dir DIR to write the report elsewhere"
        ) from None
    print(f"\nmetrics: {json_path}")
    for path in plots:
        print(f"plot: {path}")
    if args.html:
        html = out / "report.html"
        try:
            write_html_report(args.run_dir, html)
        except OSError as err:  # a full disk: the previous report.html (if any) is left whole
            raise UsageError(
                f"cannot write {html} ({err.strerror or err}); free some space, or pass "
                "--output-dir DIR to write it elsewhere"
            ) from None
        print(f"report: {html}")
    return 0


def _report_benchmark(args: argparse.Namespace) -> int:
    """A benchmark directory: its leaderboard as markdown, its plots, with ``--html`` its
    report.html (written to ``--output-dir`` when given)."""
    try:
        board = load_leaderboard(args.run_dir)
    except ValueError as err:
        raise UsageError(str(err)) from None
    print(board.to_markdown())
    out = Path(args.output_dir) if args.output_dir else Path(args.run_dir)
    written = []
    try:
        written += write_benchmark_plots(board, out)
        if args.html:
            written.append(write_benchmark_report(args.run_dir, out / "report.html"))
    except OSError as err:  # a read-only copy, a full disk: the previous files are left whole
        raise UsageError(
            f"cannot write {err.filename or out} ({err.strerror or err}); free some space or "
            "pass --output-dir DIR to write the report elsewhere"
        ) from None
    for path in written:
        print(f"{'report' if path.suffix == '.html' else 'plot'}: {path}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    public = not is_loopback(args.host)
    token = args.token or (new_token() if public else None)
    server = make_server(
        args.run_dirs,
        host=args.host,
        port=args.port,
        token=token,
        allowed_hosts=args.allow_host,
    )
    if public:
        print(
            f"automl-vision: warning: the dashboard listens on {args.host}, reachable from other "
            "machines; every request must show its token, sent in the clear (plain HTTP): "
            "use it on a network you trust",
            file=sys.stderr,
        )
    print(f"dashboard: {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
