"""Training throughput of ``train()`` against a bare PyTorch loop, in one process.

Same model, batch size, optimizer (SGD, Nesterov momentum, weight decay) and device. The bare
loop's data is already in memory as normalized channels-last crops (one gather per batch,
nothing else; model and inputs channels-last, the fastest plain loop on CPU and CUDA);
``train()`` reads uint8 batches from the decoded array and augments them on the device (random
resized crop, flip, colour jitter, normalization), so its images/s includes that work. Both
train the same number of epochs; ``train()``'s training time is the sum of its epochs
(``TrainResult.timings["train"]``: batching, augmentation, forward, backward, optimizer steps);
its evaluation, checkpoint and setup time are reported separately ("end to end").

Rounds alternate bare / ``train()`` so that a shared machine's load drifts over both alike; each
ratio is the median of the rounds' paired ratios. Two ratios: wall-clock images/s, and images per
CPU-second of this process (``time.process_time``), which other processes' load barely moves;
with one thread and ``number_of_workers`` 0 (the default here) the two measure the same work.
Target: >= 0.95.

On CPU the trainer augments the next batch in a background thread when torch's threads leave
a CPU free (``augment_ahead``): with 1 thread on a machine of 2 or more CPUs that work leaves
the training thread, which the wall ratio shows and the CPU ratio (all threads) does not.

    python benchmarks/trainer.py [--threads 1 2] [--rounds 3] [--device cpu|cuda]

The defaults (test_resnet and resnet18 at 64 px, 1 and 2 threads, 3 rounds) take about 4-5
minutes on a quiet 2-CPU machine; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from automl_vision.bench import bare_loop as bench_bare_loop
from automl_vision.data import load_dataset
from automl_vision.data.transforms import EvalTransform
from automl_vision.space.model_names import timm_model_name
from automl_vision.training import TrainingConfig, train

# (model, crop size, images): small enough for a CPU benchmark, large enough to be real work.
# test_resnet gets 3072 images (about 4 s per run): with 1024 a run lasted 1.6 s and two runs of
# the same train() call on a quiet machine differed by 20% (888 vs 1076 images/s), which swamped
# the ratio; resnet18's 384 images already take about 9 s per run.
CASES = [("test_resnet", 64, 3072), ("resnet18", 64, 384)]
BATCH, EPOCHS, CLASSES = 64, 2, 10


def images_and_labels(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8),
        rng.integers(0, CLASSES, size=n),
    )


def config(model: str, crop: int, workers: int) -> TrainingConfig:
    return TrainingConfig(
        model_name=model,
        number_of_epochs=EPOCHS,
        evaluation_frequency=EPOCHS,
        training_batch_size=BATCH,
        validation_batch_size=BATCH,
        training_crop_size=crop,
        validation_crop_size=crop,
        validation_resize_size=crop,
        learning_rate=0.01,
        early_stopping=False,
        number_of_workers=workers,
        random_seed=0,
    )


def bare_loop(
    model_name: str, x: torch.Tensor, y: torch.Tensor, device: torch.device
) -> tuple[float, float]:
    """(images per second, images per CPU-second) of the plainest loop over in-memory tensors
    (``automl_vision.bench.bare_loop``: channels-last; bf16 and fused SGD on CUDA)."""
    return bench_bare_loop(
        timm_model_name(model_name), x, y, device, batch=BATCH, epochs=EPOCHS, classes=CLASSES
    )


def one_case(
    model: str, crop: int, n: int, rounds: int, workers: int, device: torch.device
) -> dict:
    images, labels = images_and_labels(n, crop)
    # train() keeps 1/(1 + 1/4) of the images for training: give the bare loop the same count
    dataset = load_dataset((images, labels.tolist()), validation_size=0.2, cache=False)
    train_rows = dataset.train_indices
    crops = EvalTransform(crop, crop, (0.5,) * 3, (0.5,) * 3)(torch.from_numpy(images[train_rows]))
    targets = torch.from_numpy(labels[train_rows])
    cfg = config(model, crop, workers)
    train(cfg, dataset, device=device)  # warm-up: allocator, kernels, decoded array
    bare_loop(model, crops, targets, device)
    rows: dict[str, list[float]] = {k: [] for k in ("bare", "train", "wall", "cpu", "total")}
    for _ in range(rounds):
        bare, bare_cpu = bare_loop(model, crops, targets, device)
        result = train(cfg, dataset, device=device)
        t = result.timings
        rows["bare"].append(bare)
        rows["train"].append(t["train_images_per_s"])
        rows["wall"].append(t["train_images_per_s"] / bare)
        rows["cpu"].append(EPOCHS * len(train_rows) / t["train_cpu"] / bare_cpu)
        rows["total"].append(EPOCHS * len(train_rows) / t["total"] / bare)
    return (
        {"case": f"{model} @{crop}px"}
        | {k: statistics.median(v) for k, v in rows.items()}
        | {"wall_rounds": rows["wall"]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="number_of_workers for train()")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--cases", nargs="*", help="model:crop:images triples")
    args = parser.parse_args()
    device = torch.device(args.device)
    cases = (
        [(c.split(":")[0], int(c.split(":")[1]), int(c.split(":")[2])) for c in args.cases]
        if args.cases
        else CASES
    )
    start = time.perf_counter()
    print(f"load average before: {_load()}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(
            f"\ndevice {device}, {threads} thread(s), batch {BATCH}, {EPOCHS} epochs per run, "
            f"{args.rounds} rounds, number_of_workers {args.workers}"
        )
        print(f"{'case':<20}{'bare img/s':>11}{'train() img/s':>14}{'wall ratio':>11}"
              f"{'CPU ratio':>10}{'end-to-end':>11}  wall ratio per round")  # fmt: skip
        for model, crop, n in cases:
            row = one_case(model, crop, n, args.rounds, args.workers, device)
            print(
                f"{row['case']:<20}{row['bare']:>11.0f}{row['train']:>14.0f}{row['wall']:>11.3f}"
                f"{row['cpu']:>10.3f}{row['total']:>11.3f}  "
                + " ".join(f"{r:.3f}" for r in row["wall_rounds"]),
                flush=True,
            )
    print(f"\nload average after: {_load()}; {time.perf_counter() - start:.0f} s")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
