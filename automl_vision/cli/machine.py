"""Commands about this machine: ``bench`` (the speed table of its device) and ``cache`` (the
decoded-image cache: its size, or empty it)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from automl_vision.bench import Settings, format_table, run_bench
from automl_vision.cli.common import UsageError
from automl_vision.data.cache import cache_info, clear_cache, default_cache_dir

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("bench", help="trainer vs bare loop, packed sweep, peak memory")
    p.add_argument("--quick", action="store_true", help="a tiny CPU-sized run (seconds)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=_bench)
    p = sub.add_parser("cache", help="the decoded-image cache: its size, or empty it")
    p.add_argument("action", choices=["info", "clear"])
    p.add_argument("--dir", help="the cache folder (default $AUTOML_VISION_CACHE or "
                   "~/.cache/automl_vision)")  # fmt: skip
    p.set_defaults(func=_cache)


def _bench(args: argparse.Namespace) -> int:
    if args.json and not Path(args.json).expanduser().parent.is_dir():
        # refused now, not after the minutes the bench takes
        raise UsageError(f"--json {args.json!r}: its folder does not exist")

    import torch  # lazy: torch only for the command that measures the device

    cuda = args.device != "cpu" and torch.cuda.is_available()
    if not args.quick and not cuda:
        print(
            "automl-vision bench: no GPU here; the full table needs one, running --quick",
            file=sys.stderr,
        )
    settings = Settings.gpu() if cuda and not args.quick else Settings.quick()
    result = run_bench(settings, device=args.device)
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=2, default=str) + "\n")
        print(f"written {args.json}")
    return 0


def _cache(args: argparse.Namespace) -> int:

    directory = Path(args.dir).expanduser() if args.dir else default_cache_dir()
    if args.action == "clear":
        freed, entries = clear_cache(directory)
        print(f"{directory}: removed {entries} entries ({freed / 2**20:.1f} MiB)")
        return 0
    info = cache_info(directory)
    limit = f", limit {info.limit / 2**20:.0f} MiB" if info.limit else ", no size limit"
    print(f"{directory}: {info.entries} entries, {info.bytes / 2**20:.1f} MiB{limit}")
    return 0
