"""The demo commands: ``demo`` (a short sweep on real digit images, made offline) and
``demo-data`` (the demo datasets that ``configs/`` use)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from automl_vision.data.demo import (
    digits,
    digits_composed,
    digits_mltable,
    digits_multilabel,
    digits_scattered,
)
from automl_vision.tuning.tune import tune

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("demo", help="a short sweep on real digit images, made offline")
    p.add_argument("--output-dir", default="runs/demo")
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--multilabel", action="store_true", help="2x2 digit mosaics, multilabel")
    p.add_argument(
        "--latency",
        action="store_true",
        help="accuracy and latency together: objectives accuracy (max) and latency_ms (min) "
        "over three image sizes (the cpu_tiny_sizes space), with front-aware early "
        "termination; multiclass on the scattered digits (small digit scans on a 48 px canvas, "
        "where a larger image reads them better); prints the Pareto front",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_demo)

    p = sub.add_parser("demo-data", help="write the demo datasets (used by configs/)")
    p.add_argument("directory", nargs="?", default="data")
    p.set_defaults(func=_demo_data)


def _demo(args: argparse.Namespace) -> int:

    out = Path(args.output_dir)
    if args.multilabel:
        data = digits_multilabel(out / "data" / "digits_multilabel")
    elif args.latency:
        # small digits on a larger canvas: a larger image is slower and reads them better
        data = digits_scattered(out / "data" / "digits_scattered", n_images=900)
    else:
        data = digits(out / "data" / "digits")
    print(f"demo data: {data} (scikit-learn's handwritten digits as PNG files)", file=sys.stderr)
    folder = "sweep_multilabel" if args.multilabel else "sweep"
    extra: dict[str, Any] = {}
    if args.latency:
        folder += "_latency"
        metric = "iou" if args.multilabel else "accuracy"
        extra = {"objectives": {metric: "max", "latency_ms": "min"}}
    result = tune(
        data,
        search_space="cpu_tiny_sizes" if args.latency else "cpu_tiny",
        sampling="bayesian",
        max_trials=args.trials,
        output_dir=out / folder,
        device=args.device,
        resume=True,
        seed=args.seed,
        progress=not args.quiet,
        **extra,
    )
    print(result.summary())
    if args.latency:
        front = ", ".join(t.trial_id for t in result.pareto_front)
        print(f"Pareto front: {front} (automl-vision pareto {result.output_dir})")
    print(f"plots: {Path(result.output_dir or '.') / 'plots'}")
    return 0


def _demo_data(args: argparse.Namespace) -> int:

    root = Path(args.directory)
    for path in (
        digits(root / "digits"),
        digits_multilabel(root / "digits_multilabel"),
        digits_mltable(root / "fridge_like"),
        digits_composed(root / "digits_composed"),
    ):
        print(path)
    return 0
