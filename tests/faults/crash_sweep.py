"""A tiny seeded sweep on the digits, run as a subprocess by the kill tests (and benchmarks).

python crash_sweep.py DIGITS_DIR OUTPUT_DIR  (AUTOML_VISION_FAULT may name a kill point)
"""

from __future__ import annotations

import sys

import torch

from automl_vision import choice, tune


def main(data: str, output_dir: str) -> None:
    torch.set_num_threads(1)
    tune(
        data,
        search_space={
            "model_name": "test_resnet",
            "number_of_epochs": 3,
            "training_batch_size": 32,
            "validation_batch_size": 256,
            "early_stopping": False,
            "number_of_workers": 0,
            "training_crop_size": 16,
            "validation_crop_size": 16,
            "validation_resize_size": 16,
            "warmup_cosine_lr_warmup_epochs": 0,
            "learning_rate": choice(0.02, 0.05, 0.1),
        },
        max_trials=3,
        output_dir=output_dir,
        seed=7,
        progress=False,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
