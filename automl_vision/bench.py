"""``automl-vision bench``: the speed table of this machine's device, in one command.

Three parts, each measured in this run:

1. **Trainer vs bare loop**: ``train()``'s training images/s against the plainest fast loop
   (same timm model, batch, SGD; data already normalized on the device; channels-last; bf16
   autocast and a fused optimizer on CUDA; no augmentation), in alternating rounds (bare,
   trainer, bare, ...) so that drifting load affects both alike; medians of the rounds.
2. **Packed sweep**: the same small sweep run one trial at a time and with
   ``max_concurrent_trials="auto"`` (CUDA: packed by predicted memory; CPU: one trial per two
   CPUs); trials per hour of each (the memory probe counts in the packed time).
3. **Peak memory**: the probe's predicted peak of one training step against the peak the
   trainer held (CUDA only).

``Settings.gpu()`` is the full table (ResNet-50 and ViT-S/16 at 224 px, bf16, batch 256; eight
small ResNet-18 trials); ``Settings.quick()`` is a tiny CPU run for tests and smoke checks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.data import load_dataset
from automl_vision.planning.memory import PROBE_FILE, Shape, measure_step_peaks
from automl_vision.space.distributions import choice
from automl_vision.tuning.tune import tune

__all__ = ["Settings", "bare_loop", "format_table", "run_bench"]

log = logging.getLogger("automl_vision.bench")


@dataclass(frozen=True)
class Settings:
    """What the bench measures; ``gpu()`` and ``quick()`` are the two presets."""

    models: tuple[tuple[str, int], ...]  # (model_name, crop size)
    batch: int
    images: int  # synthetic images per trainer case (80% train)
    epochs: int
    rounds: int
    sweep_trials: int
    sweep_model: str
    sweep_crop: int
    sweep_batch: int
    sweep_images: int
    sweep_epochs: int
    classes: int = 10

    @classmethod
    def gpu(cls) -> Settings:
        return cls(
            models=(("resnet50", 224), ("vits16r224", 224)),
            batch=256,
            images=256 * 40,
            epochs=2,
            rounds=2,
            sweep_trials=8,
            sweep_model="resnet18",
            sweep_crop=64,
            sweep_batch=128,
            sweep_images=4096,
            sweep_epochs=2,
        )

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            models=(("test_resnet", 32),),
            batch=16,
            images=80,
            epochs=1,
            rounds=1,
            sweep_trials=2,
            sweep_model="test_resnet",
            sweep_crop=16,
            sweep_batch=8,
            sweep_images=40,
            sweep_epochs=1,
        )


def _synthetic(n: int, size: int, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    return images, rng.integers(0, classes, size=n)


def bare_loop(
    timm_name: str,
    x: Any,
    y: Any,
    device: Any,
    *,
    batch: int,
    epochs: int,
    classes: int,
    model_kwargs: dict | None = None,
) -> tuple[float, float]:
    """(images/s, images per CPU-second) of the plainest fast loop over tensors on ``device``."""
    import timm  # lazy: torch and timm only when the bench runs, not on `automl-vision --help`
    import torch  # lazy: as above
    import torch.nn.functional as F  # lazy: as above

    from automl_vision.training.optim import make_optimizer  # lazy: torch

    torch.manual_seed(0)
    cuda = device.type == "cuda"
    model = timm.create_model(timm_name, num_classes=classes, **(model_kwargs or {}))
    model = model.to(device).to(memory_format=torch.channels_last).train()
    opt = make_optimizer("sgd", model, learning_rate=0.01, weight_decay=1e-4, device=device)
    x = x.to(device).contiguous(memory_format=torch.channels_last)
    y = y.to(device)
    g = torch.Generator().manual_seed(0)
    autocast = (
        torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        if cuda
        else contextlib.nullcontext()
    )
    if cuda:
        torch.cuda.synchronize(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g).to(device)
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            if len(idx) < 2:  # batch norm cannot train on one image (the trainer drops it too)
                continue
            with autocast:
                logits = model(x[idx])
            loss = F.cross_entropy(logits.float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if cuda:
        torch.cuda.synchronize(device)
    images = epochs * (len(x) - int(len(x) % batch == 1))
    return images / (time.perf_counter() - start), images / (time.process_time() - cpu_start)


def _config(settings: Settings, model: str, crop: int) -> Any:
    from automl_vision.training import TrainingConfig  # lazy: torch

    return TrainingConfig(
        model_name=model,
        number_of_epochs=settings.epochs,
        evaluation_frequency=settings.epochs,
        training_batch_size=settings.batch,
        validation_batch_size=settings.batch,
        training_crop_size=crop,
        validation_crop_size=crop,
        validation_resize_size=crop,
        learning_rate=0.01,
        optimizer="sgd",
        early_stopping=False,
        number_of_workers=0,
        random_seed=0,
        pretrained=False,
    )


def trainer_case(settings: Settings, model: str, crop: int, device: Any) -> dict[str, Any]:
    """One model: the trainer's and the bare loop's images/s, alternating rounds."""
    import torch  # lazy: as above

    from automl_vision.data.transforms import EvalTransform  # lazy: torch
    from automl_vision.training import train  # lazy: torch
    from automl_vision.training.model_factory import model_kwargs  # lazy: torch

    images, labels = _synthetic(settings.images, crop, settings.classes)
    dataset = load_dataset((images, labels.tolist()), validation_size=0.2, cache=False)
    rows = dataset.train_indices
    crops = EvalTransform(crop, crop, (0.5,) * 3, (0.5,) * 3)(torch.from_numpy(images[rows]))
    targets = torch.from_numpy(labels[rows])
    cfg = _config(settings, model, crop)
    kwargs = model_kwargs(cfg.timm_name, crop, crop)

    def bare() -> tuple[float, float]:
        return bare_loop(
            cfg.timm_name, crops, targets, device, batch=settings.batch,
            epochs=settings.epochs, classes=settings.classes, model_kwargs=kwargs,
        )  # fmt: skip

    def trainer() -> Any:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return train(cfg, dataset, device=device)

    trainer()  # warm-up: kernels, allocator, cuDNN autotuning
    bare()
    bare_s, train_s, cpu_ratio, peaks = [], [], [], []
    for _ in range(settings.rounds):
        b, b_cpu = bare()
        result = trainer()
        n = settings.epochs * len(rows)
        bare_s.append(b)
        train_s.append(result.timings["train_images_per_s"])
        cpu_ratio.append(n / result.timings["train_cpu"] / b_cpu)
        peaks.append(result.timings["peak_memory_bytes"])
    row: dict[str, Any] = {
        "case": f"{model} @{crop}px batch {settings.batch}"
        + (" bf16" if device.type == "cuda" else " fp32"),
        "bare_images_per_s": statistics.median(bare_s),
        "trainer_images_per_s": statistics.median(train_s),
        "cpu_ratio": statistics.median(cpu_ratio),
        "measured_peak_bytes": max(peaks),
        "predicted_peak_bytes": math.nan,
    }
    row["ratio"] = row["trainer_images_per_s"] / row["bare_images_per_s"]
    if device.type == "cuda":
        torch.cuda.empty_cache()
        (predicted,) = measure_step_peaks(
            [Shape(model, crop, settings.batch)], settings.classes, {}, device=str(device)
        )
        row["predicted_peak_bytes"] = float(predicted)
    return row


def sweep_case(settings: Settings, device: Any, workdir: Path) -> dict[str, Any]:
    """The same small sweep one trial at a time and packed: trials per hour of each."""
    images, labels = _synthetic(settings.sweep_images, settings.sweep_crop, settings.classes, 1)
    space = {
        "model_name": settings.sweep_model,
        "number_of_epochs": settings.sweep_epochs,
        "evaluation_frequency": settings.sweep_epochs,
        "training_batch_size": settings.sweep_batch,
        "validation_batch_size": settings.sweep_batch,
        "training_crop_size": settings.sweep_crop,
        "validation_crop_size": settings.sweep_crop,
        "validation_resize_size": settings.sweep_crop,
        "number_of_workers": 0,
        "early_stopping": False,
        "learning_rate": choice(0.003, 0.01, 0.03, 0.1),
    }
    out: dict[str, Any] = {"trials": settings.sweep_trials}
    kind = "cuda" if device.type == "cuda" else "cpu"
    for label, concurrency in (("one_at_a_time", 1), ("packed", "auto")):
        start = time.perf_counter()
        result = tune(
            (images, labels.tolist()),
            search_space=space,
            max_trials=settings.sweep_trials,
            max_concurrent_trials=concurrency,
            policy={"type": "none"},
            include_default_trial=False,
            output_dir=workdir / label,
            device=kind,
            progress=False,
            keep_checkpoints=1,
            training_options={"pretrained": False},
        )
        seconds = time.perf_counter() - start
        done = sum(t.finished for t in result.trials)
        out[f"{label}_seconds"] = seconds
        out[f"{label}_trials_per_hour"] = done * 3600 / seconds
        out[f"{label}_concurrency"] = result.settings.get("max_concurrent_trials", concurrency)
        if label == "packed":
            peaks = [t.artifacts.get("peak_memory_bytes") for t in result.trials]
            out["packed_measured_peak_bytes"] = float(
                max((p for p in peaks if p is not None), default=math.nan)
            )
            probe = workdir / label / PROBE_FILE
            entries = json.loads(probe.read_text())["entries"] if probe.exists() else []
            out["packed_predicted_peak_bytes"] = float(
                max((e["peak_bytes"] for e in entries), default=math.nan)
            )
    return out


@dataclass
class BenchResult:
    device: str
    settings: dict[str, Any]
    trainer: list[dict[str, Any]] = field(default_factory=list)
    sweep: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def run_bench(
    settings: Settings, *, device: str = "auto", workdir: str | Path | None = None
) -> BenchResult:
    """Measure the whole table on ``device`` (``auto``: the GPU when there is one)."""
    import torch  # lazy: as above

    from automl_vision.training.device import resolve_devices  # lazy: torch

    start = time.perf_counter()
    (dev,) = resolve_devices(device, distributed=False)
    name = (
        torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"cpu ({torch.get_num_threads()} threads)"
    )
    result = BenchResult(device=name, settings=asdict(settings))
    for model, crop in settings.models:
        log.info("bench: trainer vs bare loop, %s @%dpx", model, crop)
        result.trainer.append(trainer_case(settings, model, crop, dev))
    with contextlib.ExitStack() as stack:
        root = (
            Path(workdir) if workdir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        result.sweep = sweep_case(settings, dev, root)
    result.seconds = time.perf_counter() - start
    return result


def _gib(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value / 2**30:.2f} GiB"


def format_table(result: BenchResult) -> str:
    """The bench's table as text."""
    lines = [f"device: {result.device}", ""]
    lines.append(f"{'case':<36}{'bare img/s':>11}{'trainer img/s':>14}{'ratio':>7}{'CPU ratio':>10}"
                 f"{'predicted peak':>16}{'measured peak':>15}")  # fmt: skip
    for row in result.trainer:
        lines.append(
            f"{row['case']:<36}{row['bare_images_per_s']:>11.0f}{row['trainer_images_per_s']:>14.0f}"
            f"{row['ratio']:>7.3f}{row['cpu_ratio']:>10.3f}{_gib(row['predicted_peak_bytes']):>16}"
            f"{_gib(row['measured_peak_bytes']):>15}"
        )
    s = result.sweep
    lines += [
        "",
        f"sweep of {s['trials']} small trials:",
        f"  one at a time: {s['one_at_a_time_trials_per_hour']:.0f} trials/h "
        f"({s['one_at_a_time_seconds']:.0f} s)",
        f"  packed ({s['packed_concurrency']} at once): {s['packed_trials_per_hour']:.0f} trials/h "
        f"({s['packed_seconds']:.0f} s)",
        f"  peak memory of a trial: predicted {_gib(s['packed_predicted_peak_bytes'])}"
        f", measured {_gib(s['packed_measured_peak_bytes'])}",
        "",
        f"total {result.seconds:.0f} s",
    ]
    return "\n".join(lines)
