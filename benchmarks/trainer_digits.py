"""Real learning on real images: the digits demo set, a small model, on this machine's CPU.

Target: >= 90% validation accuracy within 60 s of ``train()`` (reading and decoding the data
included; writing the demo PNGs once is not). Prints one row per model: best accuracy, the
seconds until the first evaluation at >= 90%, and the whole ``train()`` time. A last row does
the same for the multilabel demo (2,000 mosaics of four digits; primary metric IoU; twice the
epochs, and crops that keep >= 85% of the image, since a tighter crop cuts digits out of the
mosaic while its labels still name them).

    python benchmarks/trainer_digits.py [--threads N] [--epochs 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from automl_vision.data import load_dataset
from automl_vision.data.demo import digits, digits_multilabel
from automl_vision.training import TrainingConfig, train

TARGET_ACCURACY, TARGET_SECONDS = 0.90, 60.0

# (model, crop size): small models at a size that suits 8x8 scans upscaled to 32 pixels
MODELS = [("test_resnet", 24), ("test_efficientnet", 32), ("resnet18", 32)]


def run(
    model: str,
    crop: int,
    epochs: int,
    root: Path,
    cache: Path,
    crop_scale: tuple[float, float] = (0.6, 1.0),
) -> dict:
    """Train on the demo set at ``root``; the primary metric and when it first reached 90%."""
    config = TrainingConfig(
        model_name=model,
        number_of_epochs=epochs,
        training_batch_size=64,
        validation_batch_size=256,
        training_crop_size=crop,
        validation_crop_size=crop,
        validation_resize_size=crop,
        optimizer="adamw",
        learning_rate=0.005,
        weight_decay=0.01,
        warmup_cosine_lr_warmup_epochs=1,
        early_stopping=False,
        number_of_workers=0,
        random_seed=0,
        # digits are not mirror-symmetric and fill the frame: milder augmentation
        horizontal_flip=0.0,
        crop_scale=crop_scale,
        color_jitter=0.2,
    )
    start = time.perf_counter()
    reached: list[float] = []

    dataset = load_dataset(root, cache_dir=cache)
    metric = "iou" if dataset.multilabel else "accuracy"

    def report(step: int, metrics: dict[str, float]) -> bool:
        if metrics[metric] >= TARGET_ACCURACY and not reached:
            reached.append(time.perf_counter() - start)
        return False

    result = train(config, dataset, report=report, device="cpu")
    total = time.perf_counter() - start
    return {
        "model": model,
        "crop": crop,
        "metric": metric,
        "accuracy": result.best_metrics[metric],
        "to_target": reached[0] if reached else float("nan"),
        "total": total,
        "img_s": result.timings["train_images_per_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--models", nargs="*", help="model:crop pairs (default: a small set)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = (
        [(m.split(":")[0], int(m.split(":")[1])) for m in args.models] if args.models else MODELS
    )
    with tempfile.TemporaryDirectory() as folder:
        root = digits(Path(folder) / "digits")
        print(f"digits demo: 1797 images, 10 classes; {args.epochs} epochs; "
              f"{args.threads} CPU thread(s)")  # fmt: skip
        multilabel = digits_multilabel(Path(folder) / "multilabel", n_images=2000)
        print(f"{'data':<11}{'model':<19}{'crop':>5}{'best':>17}{'s to 90%':>10}{'train() s':>11}"
              f"{'img/s':>8}  verdict")  # fmt: skip
        digit_runs = [(root, model, crop, args.epochs, (0.6, 1.0)) for model, crop in models]
        mosaic_run = (multilabel, "test_resnet", 32, 2 * args.epochs, (0.85, 1.0))
        for data, model, crop, epochs, scale in [*digit_runs, mosaic_run]:
            row = run(model, crop, epochs, data, Path(folder) / "cache", scale)
            ok = row["accuracy"] >= TARGET_ACCURACY and row["to_target"] <= TARGET_SECONDS
            verdict = "meets" if ok else "misses"
            name = "multilabel" if data == multilabel else "digits"
            best = f"{row['metric']} {row['accuracy']:.4f}"
            print(
                f"{name:<11}{row['model']:<19}{row['crop']:>5}{best:>17}"
                f"{row['to_target']:>10.1f}{row['total']:>11.1f}{row['img_s']:>8.0f}  "
                f"{verdict} >= {TARGET_ACCURACY:.0%} in <= {TARGET_SECONDS:.0f} s"
            )


if __name__ == "__main__":
    main()
