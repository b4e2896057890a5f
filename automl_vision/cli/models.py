"""Commands about trained models: ``export`` (the best model as ONNX), ``predict`` (images with
a sweep's best model), ``convert`` (release-1 pickles to safetensors) and ``weights``
(pretrained weights: fetch, list).

The trainer, the predictor and the weights lookup import torch, so each is imported inside the
command that uses it: ``--help`` and the other commands never load torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from automl_vision.cli.common import UsageError
from automl_vision.reporting.result import TuneResult
from automl_vision.tuning.convert import convert_run
from automl_vision.weights import cached_weights, fetch_weights, hub_cache_dir, hub_unreachable

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("export", help="export a sweep's best model")
    p.add_argument("run_dir")
    p.add_argument("--onnx", action="store_true")
    p.add_argument("--output", help="file to write (default RUN_DIR/best.onnx)")
    p.add_argument(
        "--normalization",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fold input normalization into the model (default: the trial's setting)",
    )
    p.set_defaults(func=_export)

    p = sub.add_parser("predict", help="predict images with a sweep's best model")
    p.add_argument("run_dir", help="sweep or training run directory, or a best.safetensors file")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--output", help="JSONL file (default: stdout)")
    p.add_argument("--onnx", action="store_true", help="run the ONNX model (onnxruntime)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument(
        "--trust",
        action="store_true",
        help="load a release-1 best.pt pickle, which can run code: only a file you made",
    )
    p.set_defaults(func=_predict)

    p = sub.add_parser(
        "convert",
        help="rewrite a release-1 sweep, run or .pt file in this release's safe formats",
    )
    p.add_argument("path", help="sweep directory, training run directory or a .pt file")
    p.add_argument(
        "--trust",
        action="store_true",
        help="read the release-1 pickles (which can run code): only files you made",
    )
    p.set_defaults(func=_convert)

    p = sub.add_parser(
        "weights",
        help="fetch pretrained (ImageNet) weights ahead of time, or list those on this machine",
        description="fetch: download models' pretrained weights into the Hugging Face cache "
        "now (a sweep with pretrained=auto or true downloads the missing ones itself when the "
        "hub answers; fetch them here for a machine or cluster without network, with --to). "
        "list: the weights on this machine.",
    )
    p.add_argument("action", choices=["fetch", "list"])
    p.add_argument("models", nargs="*", help="model names (fetch)")
    p.add_argument("--to", help="also copy the weights into this folder (pretrained=DIR)")
    p.set_defaults(func=_weights)


def _export(args: argparse.Namespace) -> int:
    if not args.onnx:
        raise UsageError("export: say which format, e.g. --onnx")
    result = TuneResult.load(args.run_dir)
    checkpoint = result.best_checkpoint
    if checkpoint is None or not checkpoint.is_file():
        raise UsageError(f"{args.run_dir}: the best trial has no checkpoint to export")
    from automl_vision.training import export_onnx  # lazy: torch

    out = Path(args.output) if args.output else Path(args.run_dir) / "best.onnx"
    path = export_onnx(checkpoint, out, enable_onnx_normalization=args.normalization)
    print(f"exported {result.best_trial.trial_id} ({checkpoint}) to {path}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    for line in convert_run(args.path, trust=args.trust):
        print(line)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from automl_vision.predict import expand_inputs, load_model, write_jsonl  # lazy: torch

    predictor = load_model(
        args.run_dir, device=args.device, onnx=args.onnx, trust_checkpoint=args.trust
    )
    inputs = expand_inputs(args.images)
    if not inputs:
        raise UsageError(f"predict: no images in {' '.join(args.images)}")
    predictions = predictor.predict(inputs)
    out = Path(args.output) if args.output else None
    text = write_jsonl(predictions, out)
    failed = sum(p.error is not None for p in predictions)
    if out is None:
        sys.stdout.write(text)
    else:
        print(f"{len(predictions) - failed} predictions written to {out}", file=sys.stderr)
    if failed:
        print(f"automl-vision: {failed} image(s) could not be read (see 'error')", file=sys.stderr)
    return 0


def _weights(args: argparse.Namespace) -> int:
    to = Path(args.to) if getattr(args, "to", None) else None
    if args.action == "fetch":
        if not args.models:
            raise UsageError("weights fetch: name at least one model")
        why = hub_unreachable(10)  # before importing torch and timm: fail in seconds
        if why is not None:
            raise OSError(
                f"cannot download weights for {', '.join(map(repr, args.models))} from the "
                f"Hugging Face hub: {why}. Fetch them on a machine with network (--to DIR) and "
                "copy DIR here (then pretrained=DIR)"
            )
    if args.action == "fetch":
        for path in fetch_weights(args.models, to):
            print(path)
        return 0
    found = cached_weights(to)
    if not found:
        print(f"no pretrained weights cached (Hugging Face cache: {hub_cache_dir()})")
    for w in found:
        print(f"{w.name}\t{w.size_bytes / 2**20:.1f} MiB\t{w.path}")
    return 0
