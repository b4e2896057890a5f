"""``train(config, data)``: one training run, start to finish.

The run: read the data (unless an ``ImageDataset`` is given), resolve the config's defaults for
the task, pick the devices, decode the images once (through the cache), then train
``number_of_epochs`` epochs, evaluating when ``epoch % evaluation_frequency == 0`` and at the
last epoch (and after an epoch whose training loss is not finite). After each evaluation
``report(epoch, metrics)`` is called; True stops the run cleanly. Early stopping (see
``early_stopping.py``) can stop it too. The best epoch's weights are kept (``best.pt`` in
``output_dir`` when given).

Determinism: with ``random_seed`` set, a run on the CPU is repeatable bit for bit: the model's
initialization and dropout use torch's default generator seeded inside ``torch.random.fork_rng``
(the caller's generator state is restored afterwards), the batch order uses
``numpy.random.default_rng([seed, epoch])`` and augmentation a ``torch.Generator`` seeded from
``[seed, rank]``. Without a seed, one is drawn from the OS and reported in ``TrainResult.seed``.

With several devices and ``distributed=True`` the run is data-parallel (``distributed.py``).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from automl_vision.data.dataset import DecodedSplit, ImageDataset, load_dataset
from automl_vision.data.task import Task
from automl_vision.faults import fault_point
from automl_vision.training.checkpoint import Checkpoint
from automl_vision.training.components import build_components, storage_size
from automl_vision.training.config import TrainingConfig
from automl_vision.training.device import DeviceSpec, resolve_devices
from automl_vision.training.loop import EpochRunner
from automl_vision.training.progress import Progress, ReportFn, StopReason
from automl_vision.training.resume import RESUME_FILE, load_resume, save_resume
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["TrainResult", "run_process", "train"]

log = logging.getLogger("automl_vision.training")


@dataclass
class TrainResult:
    """What a training run produced.

    ``final_metrics``: the last evaluation's metrics; ``best_metrics``/``best_epoch``: those of
    the best evaluation by ``primary_metric`` (``goal``); ``history``: every evaluation as
    (epoch, metrics); ``epochs_run``: epochs trained; ``stopped``/``stop_reason``: whether and
    why the run ended before ``number_of_epochs``; ``checkpoint``: the best epoch's checkpoint
    (in memory), ``checkpoint_path``: where it was written (None without ``output_dir``);
    ``timings``: seconds of ``data`` (reading and decoding), ``setup`` (model, optimizer,
    loaders), ``train`` (training epochs), ``eval`` (evaluations, metrics, checkpoints) and
    ``total``, ``train_cpu`` (CPU seconds of this process during the training epochs), and
    ``train_images_per_s`` (training images per second of ``train``).
    """

    final_metrics: dict[str, float]
    best_metrics: dict[str, float]
    best_epoch: int
    primary_metric: str
    goal: PrimaryMetricGoal
    epochs_run: int
    stopped: bool
    stop_reason: StopReason | None
    checkpoint_path: Path | None
    history: list[tuple[int, dict[str, float]]]
    timings: dict[str, float]
    seed: int
    task: Task
    class_names: list[str]
    config: TrainingConfig
    optimizer_steps: int
    train_losses: list[float]
    lr_history: list[float] = field(repr=False)
    checkpoint: Checkpoint | None = field(default=None, repr=False)
    resumed_from_epoch: int = 0  # the epoch a resumed run continued after (0: a fresh run)

    @property
    def best_value(self) -> float:
        return self.best_metrics.get(self.primary_metric, math.nan)

    @property
    def final_value(self) -> float:
        return self.final_metrics.get(self.primary_metric, math.nan)


def run_process(
    config: TrainingConfig,
    dataset: ImageDataset,
    splits: tuple[DecodedSplit, DecodedSplit],
    *,
    device: torch.device,
    seed: int,
    rank: int = 0,
    world: int = 1,
    report: ReportFn | None = None,
    output_dir: Path | None = None,
    resume_state: dict[str, Any] | None = None,
) -> TrainResult | None:
    """Train in this process (rank ``rank`` of ``world``); rank 0 returns the result.

    ``resume_state``: a resume checkpoint's state (``resume.py``) to continue from; with an
    ``output_dir`` (rank 0, one process) a new one is written at the end of every epoch."""
    start = time.perf_counter()
    devices = [device.index] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        parts = build_components(
            config, dataset, splits, device=device, seed=seed, rank=rank, world=world
        )
        model: torch.nn.Module = parts.model
        if world > 1:
            ids = [device.index] if device.type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        runner = EpochRunner(model, parts, config, device, world=world)
        progress = Progress(
            config,
            task=dataset.task,
            class_names=dataset.class_names,
            checkpoint_fields={
                "timm_name": config.timm_name,
                "model_kwargs": parts.model_kwargs,
                "num_classes": dataset.num_classes,
                "mean": parts.mean,
                "std": parts.std,
                "input_size": config.validation_crop_size,
                "resize_size": config.validation_resize_size,
            },
            report=report if rank == 0 else None,
            output_dir=output_dir if rank == 0 else None,
        )
        setup_s = time.perf_counter() - start
        train_s = train_cpu_s = eval_s = 0.0
        epochs_run, stop, losses = 0, None, []
        first = 1
        if resume_state is not None:
            model_state = resume_state["model"]
            runner.inner.load_state_dict(model_state)
            parts.optimizer.load_state_dict(resume_state["optimizer"])
            runner.step = int(resume_state["step"])
            runner.lr_history = list(resume_state["lr_history"])
            torch.set_rng_state(resume_state["torch_rng"])
            if device.type == "cuda" and resume_state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(resume_state["cuda_rng"], device)
            parts.train_transform.rng.bit_generator.state = resume_state["augment_rng"]
            progress.restore(resume_state["progress"])
            losses = list(resume_state["losses"])
            epochs_run = int(resume_state["epoch"])
            stop = StopReason(resume_state["stop"]) if resume_state.get("stop") else None
            first = epochs_run + 1 if stop is None else config.number_of_epochs + 1
            log.info("resuming after epoch %d", epochs_run)
        write_resume = output_dir is not None and rank == 0 and world == 1
        for epoch in range(first, config.number_of_epochs + 1):
            stats = runner.train_epoch(epoch)
            fault_point("epoch")
            epochs_run, train_s = epoch, train_s + stats.seconds
            train_cpu_s += stats.cpu_seconds
            losses.append(stats.loss)
            lr = runner.lr_history[-1] if runner.lr_history else config.learning_rate
            due = epoch % config.evaluation_frequency == 0 or epoch == config.number_of_epochs
            if rank == 0:
                t = time.perf_counter()
                if due or not math.isfinite(stats.loss):
                    logits, targets = runner.predict()
                    stop = progress.after_evaluation(
                        epoch, stats, logits, targets, runner.inner, lr
                    )
                else:
                    progress.log_epoch(epoch, stats, lr)
                eval_s += time.perf_counter() - t
            if world > 1:
                from automl_vision.training.distributed import broadcast_stop

                stop = broadcast_stop(stop, device)
            if write_resume:
                save_resume(
                    output_dir / RESUME_FILE,  # type: ignore[operator]
                    {
                        "format": 1,
                        "epoch": epoch,
                        "stop": None if stop is None else stop.value,
                        "model": runner.inner.state_dict(),
                        "optimizer": parts.optimizer.state_dict(),
                        "step": runner.step,
                        "lr_history": list(runner.lr_history),
                        "torch_rng": torch.get_rng_state(),
                        "cuda_rng": (
                            torch.cuda.get_rng_state(device) if device.type == "cuda" else None
                        ),
                        "augment_rng": parts.train_transform.rng.bit_generator.state,
                        "progress": progress.state(),
                        "losses": list(losses),
                        "seed": seed,
                    },
                )
            if stop is not None:
                log.info("stopping after epoch %d: %s", epoch, stop)
                break
    if rank != 0:
        return None
    resumed_from = int(resume_state["epoch"]) if resume_state is not None else 0
    final = progress.history[-1][1] if progress.history else {}
    return TrainResult(
        final_metrics=final,
        best_metrics=progress.best_metrics,
        best_epoch=progress.best_epoch,
        primary_metric=progress.spec.name,
        goal=progress.spec.goal,
        epochs_run=epochs_run,
        stopped=stop is not None,
        stop_reason=stop,
        checkpoint_path=progress.checkpoint_path,
        history=progress.history,
        timings={
            "setup": setup_s,
            "train": train_s,
            "train_cpu": train_cpu_s,
            "eval": eval_s,
            "total": time.perf_counter() - start,
            "train_images_per_s": len(parts.train_split) * epochs_run / max(train_s, 1e-9),
        },
        seed=seed,
        task=dataset.task,
        class_names=list(dataset.class_names),
        config=config,
        optimizer_steps=runner.step,
        train_losses=losses,
        lr_history=runner.lr_history,
        checkpoint=progress.best,
        resumed_from_epoch=resumed_from,
    )


def train(
    config: TrainingConfig,
    data: Any,
    *,
    report: ReportFn | None = None,
    output_dir: str | Path | None = None,
    device: DeviceSpec = "auto",
    resume: bool = False,
    resume_stopped: bool = False,
) -> TrainResult:
    """Train ``config`` on ``data``; return the final and best metrics and the best checkpoint.

    ``data``: an ``ImageDataset`` (from ``automl_vision.data.load_dataset``), or anything
    ``load_dataset`` reads (image folder, JSONL, MLTable folder, CSV, ``(images, labels)``),
    split with its defaults (20% validation, seed 0). ``report(epoch, metrics)`` is called after
    every evaluation; returning True stops training (the best checkpoint is kept).
    ``output_dir``: where ``best.pt`` and ``metrics.jsonl`` go (nothing is written when None).
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda:1"``, or a list of devices for data-parallel
    training (see ``device.resolve_devices``).
    ``resume``: with ``output_dir/resume.pt`` present (written at the end of every epoch, see
    ``resume.py``), continue after its epoch; ``report`` is not called again for the epochs it
    covers. The config may differ in ``training_batch_size`` and ``gradient_accumulation_step``
    (an out-of-memory retry). Without the file the run starts at epoch 1.
    ``resume_stopped``: a run that ``report`` stopped is continued too (it was paused, e.g. by a
    sweep's promotion policy), as if that report had answered False; other stops stay final.
    """
    start = time.perf_counter()
    dataset = data if isinstance(data, ImageDataset) else load_dataset(data, task=config.task)
    config = config.for_task(dataset.task)
    devices = resolve_devices(device, distributed=config.distributed)
    seed = config.random_seed if config.random_seed is not None else secrets.randbits(31)
    out = Path(output_dir).expanduser() if output_dir is not None else None
    resume_state = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if resume and (out / RESUME_FILE).exists():
            resume_state = load_resume(out / RESUME_FILE)
            if resume_stopped and resume_state.get("stop") == StopReason.REPORT.value:
                resume_state["stop"] = None
            _truncate_metrics(out / "metrics.jsonl", int(resume_state["epoch"]))
            seed = int(resume_state["seed"])
        else:
            (out / "metrics.jsonl").unlink(missing_ok=True)
            (out / RESUME_FILE).unlink(missing_ok=True)
    splits = dataset.decode(storage_size(config))
    data_s = time.perf_counter() - start
    log.info(
        "training %s on %d images (%d validation), %d classes, %s, devices %s",
        config.model_name,
        len(splits[0]),
        len(splits[1]),
        dataset.num_classes,
        dataset.task.value,
        ", ".join(str(d) for d in devices),
    )
    if len(devices) > 1:
        from automl_vision.training.distributed import run_distributed

        result = run_distributed(
            config, dataset, splits, devices=devices, seed=seed, report=report, output_dir=out
        )
    else:
        result = run_process(
            config,
            dataset,
            splits,
            device=devices[0],
            seed=seed,
            report=report,
            output_dir=out,
            resume_state=resume_state,
        )
    if result is None:
        raise RuntimeError("rank 0 returned no result")
    result.timings["data"] = data_s
    result.timings["total"] = time.perf_counter() - start
    return result


def _truncate_metrics(path: Path, epoch: int) -> None:
    """Drop the lines of epochs after ``epoch`` (written before a kill, trained again now)."""
    if not path.exists():
        return
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("epoch", 0) <= epoch
    ]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
