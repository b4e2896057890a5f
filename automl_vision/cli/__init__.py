"""``automl-vision``: the command line, a thin layer over the library.

    automl-vision tune --data PATH [options]     tune on an image folder / JSONL / CSV / MLTable
    automl-vision tune -c configs/job.yaml       a sweep job in Azure's CLI v2 YAML shape
    automl-vision train --data PATH [--FIELD V]  train one configuration (a flag per field)
    automl-vision benchmark bench.yaml           methods × datasets: test split, seeds, intervals
    automl-vision status RUN_DIR                 trials so far (also while a sweep runs)
    automl-vision report RUN_DIR                 table, metrics JSON and plots
    automl-vision pareto RUN_DIR [--max-latency-ms N]  the Pareto front of a sweep
    automl-vision export RUN_DIR --onnx          the best model as ONNX
    automl-vision predict RUN_DIR IMAGES...      predict with the best model (Azure's JSONL)
    automl-vision weights fetch MODEL... [--to D] download pretrained weights (needs network)
    automl-vision weights list                   pretrained weights on this machine
    automl-vision demo                           a short sweep on bundled real digit images
    automl-vision demo-data [DIR]                write the demo datasets that configs/ use
    automl-vision spaces [NAME]                  preset search spaces
    automl-vision validate FILE                  check a search-space or sweep-job YAML
    automl-vision cache info | clear             the decoded-image cache: size, or empty it
    automl-vision bench [--quick] [--json F]     the speed table of this machine's device

Exit status: 0 done; 2 a user error or a storage problem (disk full, read-only folder, corrupt
store: one clear message on stderr, never a traceback); 3 the sweep ran but no trial produced a
value (the trials' errors on stderr); 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM: the
running trials paused after their epoch, and the same command resumes the sweep.

The CLI is the top layer: it may import any package. Each command lives in the module of its
group (``COMMANDS``); what loads torch is imported inside the command that needs it (``# lazy:``),
so ``--help`` and the light commands stay fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from automl_vision.cli import benchmark, demo, files, machine, models, pareto, runs, train, tune
from automl_vision.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_NO_VALUE,
    EXIT_USAGE,
    UsageError,
    one_line,
)
from automl_vision.cli.parser import CommandParser
from automl_vision.cli.warning_lines import warning_lines
from automl_vision.tuning.signals import SweepInterrupted

__all__ = ["EXIT_INTERRUPTED", "EXIT_NO_VALUE", "EXIT_USAGE", "UsageError", "build_parser", "main"]

#: the command modules, in the order ``--help`` lists their commands; each adds its own
COMMANDS = (tune, train, benchmark, runs, pareto, models, demo, machine, files)


def build_parser() -> CommandParser:
    parser = CommandParser(
        prog="automl-vision",
        description="Tune image classifiers on your own machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every epoch")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; warnings show as one line each while it runs (``warning_lines``)."""
    with warning_lines():
        return _run(list(sys.argv[1:] if argv is None else argv))


def _run(argv: list[str]) -> int:
    try:
        args = build_parser().parse_command_line(argv)
    except SystemExit as done:  # --help, or a bad argument (its line is printed): no traceback
        return int(done.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except (ValueError, OSError) as err:  # invalid input is a ValueError; files: OSError
        print(f"automl-vision: error: {one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except SweepInterrupted as err:  # SIGINT/SIGTERM during a sweep: 130 / 143
        print(f"\nautoml-vision: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(
            "\nautoml-vision: interrupted; everything recorded so far is in the sweep's store: "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
