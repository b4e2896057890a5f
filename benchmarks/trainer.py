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

    python benchmarks/trainer.py [--threads N] [--rounds 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import timm
import torch
import torch.nn.functional as F

from automl_vision.data import load_dataset
from automl_vision.data.transforms import EvalTransform
from automl_vision.training import TrainingConfig, train
from automl_vision.training.optim import make_optimizer

# (model, crop size, images): small enough for a CPU benchmark, large enough to be real work
CASES = [("test_resnet", 32, 2048), ("test_resnet", 64, 1024), ("resnet18", 64, 512)]
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
    """(images per second, images per CPU-second) of the plainest loop over in-memory tensors."""
    torch.manual_seed(0)
    model = timm.create_model(model_name, num_classes=CLASSES).to(device).train()
    model.to(memory_format=torch.channels_last)  # the faster layout on CPU and CUDA alike
    opt = make_optimizer("sgd", model, learning_rate=0.01, weight_decay=1e-4)
    x, y = x.to(device).contiguous(memory_format=torch.channels_last), y.to(device)
    g = torch.Generator().manual_seed(0)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(EPOCHS):
        order = torch.randperm(len(x), generator=g).to(device)
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    images = EPOCHS * len(x)
    return images / (time.perf_counter() - start), images / (time.process_time() - cpu_start)


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
        | {"cpu_rounds": rows["cpu"]}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="number_of_workers for train()")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--cases", nargs="*", help="model:crop:images triples")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cases = (
        [(c.split(":")[0], int(c.split(":")[1]), int(c.split(":")[2])) for c in args.cases]
        if args.cases
        else CASES
    )
    print(
        f"device {device}, {args.threads} thread(s), batch {BATCH}, {EPOCHS} epochs per run, "
        f"{args.rounds} rounds, number_of_workers {args.workers}"
    )
    print(f"{'case':<20}{'bare img/s':>11}{'train() img/s':>14}{'wall ratio':>11}"
          f"{'CPU ratio':>10}{'end-to-end':>11}  CPU ratio per round")  # fmt: skip
    for model, crop, n in cases:
        row = one_case(model, crop, n, args.rounds, args.workers, device)
        print(
            f"{row['case']:<20}{row['bare']:>11.0f}{row['train']:>14.0f}{row['wall']:>11.3f}"
            f"{row['cpu']:>10.3f}{row['total']:>11.3f}  "
            + " ".join(f"{r:.3f}" for r in row["cpu_rounds"])
        )


if __name__ == "__main__":
    main()
