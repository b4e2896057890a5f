#!/usr/bin/env python
"""Train one image classifier with automl_vision's built-in trainer: ``automl-vision train``.

This script is that command (the entry point Azure-style jobs call); ``automl_vision.cli.train``
holds it. Every field of the image-classification search space is a flag
(``--learning_rate 0.01``, ``--optimizer adamw``, ``--nesterov false``, ...); a flag left out
takes Azure's default. One JSON line of metrics (``{"step": <epoch>, "<metric>": <value>, ...}``)
goes to stdout after each evaluation; the log goes to stderr. A bad value: one line on stderr,
exit 2.

    python trainers/train_image_classifier.py --data path/to/images --output_dir runs/one \\
        --model_name resnet18 --number_of_epochs 5 --learning_rate 0.01
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from automl_vision.cli import main as cli_main
from automl_vision.cli.train import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """``automl-vision train`` with these flags (default: the command line's)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --help and a bad flag end here as argparse ends a script (SystemExit), usage with this
    # script's name; the command then parses the same flags again, and runs
    build_parser().parse_args(argv)
    return cli_main(["train", *argv])


if __name__ == "__main__":
    sys.exit(main())
