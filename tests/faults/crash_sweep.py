"""A tiny seeded sweep on the digits, run as a subprocess by the fault tests (and benchmarks).

python crash_sweep.py DIGITS_DIR OUTPUT_DIR [--epochs 3] [--concurrency 1]
[--evaluation-frequency 1]
(AUTOML_VISION_FAULT may name a fault point). Exit codes are the CLI's: 2 for a storage problem
or a refused directory, 130/143 after SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import sys

import torch
from helpers_sweep import tiny_space

from automl_vision import choice, tune
from automl_vision.tuning.signals import SweepInterrupted


def main(data: str, output_dir: str, epochs: int, concurrency: int, every: int) -> int:
    torch.set_num_threads(1)
    try:
        tune(
            data,
            search_space=tiny_space(
                number_of_epochs=epochs,
                evaluation_frequency=every,
                training_batch_size=32,
                learning_rate=choice(0.02, 0.05, 0.1),
            ),
            max_trials=3,
            max_concurrent_trials=concurrency,
            threads_per_trial=1,
            output_dir=output_dir,
            seed=7,
            progress=False,
        )
    except SweepInterrupted as err:
        print(err, file=sys.stderr)
        return err.exit_code
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def run(argv: list[str]) -> int:
    """The command line's sweep (``argv`` without the program name): its exit code."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("output")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--evaluation-frequency", type=int, default=1)
    args = parser.parse_args(argv)
    return main(args.data, args.output, args.epochs, args.concurrency, args.evaluation_frequency)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
