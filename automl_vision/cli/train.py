"""The ``train`` command: train one configuration with the built-in trainer.

Every field of the image-classification search space is a flag (``--learning_rate 0.01``,
``--optimizer adamw``, ``--nesterov false``, ...); a flag left out takes Azure's default. The
data is anything ``automl_vision.data.load_dataset`` reads: an image folder, an MLTable folder,
a JSONL or a CSV file. One JSON line of metrics (``{"step": <epoch>, "<metric>": <value>, ...}``)
goes to stdout after each evaluation; the log (an epoch a line) goes to stderr.

``trainers/train_image_classifier.py`` (the script Azure-style jobs call) is this command; its
flags keep Azure's spelling (underscores), here as there.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from pydantic import ValidationError

from automl_vision.data import Task, load_dataset
from automl_vision.space.fields import FIELDS, ValueType
from automl_vision.space.load import format_validation_error

__all__ = ["add_commands", "add_train_arguments", "build_parser"]

DESCRIPTION = "Train one image classifier (every search-space field is a flag)."

log = logging.getLogger(__name__)

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _bool(text: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE | _FALSE:
        return key in _TRUE
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean (true/false)")


_TYPES: dict[ValueType, Any] = {
    ValueType.BOOL: _bool,
    ValueType.INT: int,
    ValueType.FLOAT: float,
    ValueType.OPTION: str,
    ValueType.MODEL: str,
}


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train one configuration (a flag per search-space field)",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_train_arguments(p)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The ``train`` command's parser on its own (``trainers/train_image_classifier.py``)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=DESCRIPTION, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add_train_arguments(parser)
    return parser


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The data and run flags, then one flag per search-space field; ``func`` runs the command."""
    run = parser.add_argument_group("data and run")
    run.add_argument("--data", required=True, help="image folder, MLTable folder, JSONL or CSV")
    run.add_argument("--validation_data", help="a separate validation set (else a split)")
    run.add_argument("--validation_size", type=float, default=0.2, help="validation share")
    run.add_argument("--split_seed", type=int, default=0, help="seed of the validation split")
    run.add_argument("--task", choices=[t.value for t in Task], help="else inferred")
    run.add_argument("--output_dir", help="where best.safetensors and metrics.jsonl go")
    run.add_argument("--cache_dir", help="decoded-image cache (default ~/.cache/automl_vision)")
    run.add_argument(
        "--allow_outside_root",
        "--allow-outside-root",
        action="store_true",
        help="read images a JSONL, MLTable or CSV file names outside its folder (or an image "
        "folder's symbolic links lead to outside it); refused by default",
    )
    run.add_argument("--device", nargs="+", default=["auto"], help="auto, cpu, cuda:0, ...")
    run.add_argument(
        "--pretrained",
        help="auto (default) | true | false | a checkpoint file or weights folder ('timm': true)",
    )
    run.add_argument("--gradient_clipping", type=float, help="max gradient L2 norm")
    run.add_argument("--primary_metric", help="metric for the best epoch and early stopping")
    fields = parser.add_argument_group(
        "search-space fields (the defaults when left out: Azure's, and this project's for the "
        "multilabel loss)"
    )
    for name, spec in FIELDS.items():
        fields.add_argument(
            f"--{name}",
            type=_TYPES[spec.type],
            choices=list(spec.options) or None,
            default=None,
            help=f"{spec.help}; {spec.allowed()}",
        )
    parser.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    """Validate the configuration and read the data (a ValueError: one line, exit 2), train."""
    from automl_vision.training import TrainingConfig, train  # lazy: torch

    params = {name: getattr(args, name) for name in FIELDS if getattr(args, name) is not None}
    options: dict[str, Any] = {"task": args.task}
    if args.pretrained:
        options["pretrained"] = True if args.pretrained == "timm" else args.pretrained
    if args.gradient_clipping is not None:
        options["gradient_clipping"] = args.gradient_clipping
    if args.primary_metric:
        options["primary_metric"] = args.primary_metric
    try:
        config = TrainingConfig.from_params(params, **options)
    except ValidationError as err:  # pydantic's report: the problems, on one line
        raise ValueError(format_validation_error(err).replace("\n", "; ")) from None
    dataset = load_dataset(
        args.data,
        task=args.task,
        validation=args.validation_data,
        validation_size=args.validation_size,
        seed=args.split_seed,
        cache_dir=args.cache_dir,
        allow_outside_root=args.allow_outside_root,
    )

    def report(step: int, metrics: dict[str, float]) -> bool:
        print(json.dumps({"step": step, **metrics}), flush=True)
        return False

    device = args.device[0] if len(args.device) == 1 else args.device
    # the log is this command's progress: every epoch, whatever the level of the other commands
    package = logging.getLogger("automl_vision")
    level = package.level
    package.setLevel(logging.INFO)
    try:
        result = train(config, dataset, report=report, output_dir=args.output_dir, device=device)
        log.info(
            "best %s %.4f at epoch %d; %d epochs%s",
            result.primary_metric,
            result.best_value,
            result.best_epoch,
            result.epochs_run,
            f", stopped: {result.stop_reason}" if result.stopped else "",
        )
    finally:
        package.setLevel(level)
    return 0
