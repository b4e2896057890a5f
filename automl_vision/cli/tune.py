"""The ``tune`` command: a sweep from a job file (``-c``) and/or a flag per sweep option (the
flags are derived from the options: ``config/flags.py``), plus how to run it (resume, force,
dry run, quiet)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from automl_vision.cli.common import EXIT_NO_VALUE
from automl_vision.config.spec import SweepSpec, add_tune_arguments
from automl_vision.reporting.result import NoTrialValueError
from automl_vision.tuning.tune import run_spec

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("tune", help="run a sweep", description="Tune an image classifier.")
    add_tune_arguments(p)
    run = p.add_argument_group("running it")
    run.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="refuse to continue a sweep already in --output-dir (default: resume it)",
    )
    run.add_argument("--force", action="store_true", help="resume even if the sweep changed")
    run.add_argument("--dry-run", action="store_true", help="print the plan, train nothing")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress table or lines")
    p.set_defaults(func=_tune)


def _tune(args: argparse.Namespace) -> int:
    spec = SweepSpec.from_args(args)  # the job file and/or flags: one validated spec
    result = run_spec(
        spec, resume=args.resume, force=args.force, dry_run=args.dry_run, progress=not args.quiet
    )
    if args.dry_run:
        return 0
    try:
        result.best_trial  # noqa: B018 -- raises when no trial produced a value
    except NoTrialValueError as err:  # its message lists the trials' errors
        print(result.summary(), file=sys.stderr)
        print(f"automl-vision: error: {err}", file=sys.stderr)
        return EXIT_NO_VALUE
    print(result.summary())
    return 0
