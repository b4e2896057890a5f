"""One training process: the epoch loop of ``train()`` on one device (rank 0 of a
data-parallel run, or the only process), and what it produced (``TrainResult``).

``train()`` (``train.py``) prepares the data and devices and calls ``run_process`` here, directly
or through ``distributed.py``, whose spawned ranks call it too; this module imports neither, so
the three form no import cycle. Each epoch: train, evaluate when due, report, let early stopping
decide, agree on the stop across ranks (``broadcast_stop``), save the resume state. Each report
also carries the schedule progress and the seconds spent so far (``spend.py``), which the
resume state keeps, so a resumed run goes on counting.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from automl_vision.data.dataset import DecodedSplit, ImageDataset
from automl_vision.data.task import Task
from automl_vision.faults import fault_point
from automl_vision.training.checkpoint import Checkpoint
from automl_vision.training.components import build_components
from automl_vision.training.evaluation import Progress, ReportFn, StopReason
from automl_vision.training.loop import EpochRunner
from automl_vision.training.resume import RESUME_FILE, save_resume
from automl_vision.training.spend import SpendClock
from automl_vision.training.ticker import BatchTicker, ProgressFn
from automl_vision.training.training_config import TrainingConfig
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["TrainResult", "broadcast_stop", "run_process"]

log = logging.getLogger("automl_vision.training")

_REASONS = list(StopReason)


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
    ``total``, ``train_cpu`` (CPU seconds of this process during the training epochs),
    ``train_images_per_s`` (training images per second of ``train``), ``compile`` (the first
    training step with ``compile=True``, compilation included; not part of ``train``; 0
    otherwise) and ``peak_memory_bytes`` (CUDA: the most memory torch reserved; nan on CPU).
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
    on_progress: ProgressFn | None = None,
) -> TrainResult | None:
    """Train in this process (rank ``rank`` of ``world``); rank 0 returns the result.

    ``resume_state``: a resume checkpoint's state (``resume.py``) to continue from; with an
    ``output_dir`` (rank 0, one process) a new one is written at the end of every epoch.
    ``on_progress``: told on rank 0 where the run is within its epoch (``ticker.py``)."""
    start = time.perf_counter()
    devices = [device.index] if device.type == "cuda" else []
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the peak below is this run's, not an earlier run's cache
        torch.cuda.reset_peak_memory_stats(device)
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        parts = build_components(
            config, dataset, splits, device=device, seed=seed, rank=rank, world=world
        )
        model: torch.nn.Module = parts.model
        if world > 1:
            ids = [device.index] if device.type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        if config.compile:
            model = torch.compile(model)  # compiled lazily, by the first training step
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
        train_s = train_cpu_s = eval_s = compile_s = 0.0
        epochs_run, stop, losses = 0, None, []
        first = 1
        total_steps = parts.steps_per_epoch * config.number_of_epochs  # warm-up included
        # an older resume state has no "spend": its run counts from 0
        clock = SpendClock.restored(
            device, resume_state.get("spend") if resume_state is not None else None
        )
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
            if stop is StopReason.PAUSED:  # a paused run goes on; every other stop is final
                stop = None
            first = epochs_run + 1 if stop is None else config.number_of_epochs + 1
            log.info("resuming after epoch %d", epochs_run)
        write_resume = output_dir is not None and rank == 0 and world == 1
        ticker = None
        if on_progress is not None and rank == 0:
            ticker = BatchTicker(on_progress, epochs=config.number_of_epochs)
        for epoch in range(first, config.number_of_epochs + 1):
            on_batch = None
            if ticker is not None:
                on_batch = functools.partial(ticker.batch, epoch)
            clock.begin()
            stats = runner.train_epoch(epoch, on_batch)
            fault_point("epoch")
            epochs_run, train_s = epoch, train_s + stats.seconds
            train_cpu_s += stats.cpu_seconds
            compile_s += stats.compile_seconds
            losses.append(stats.loss)
            lr = runner.lr_history[-1] if runner.lr_history else config.learning_rate
            due = epoch % config.evaluation_frequency == 0 or epoch == config.number_of_epochs
            if rank == 0:
                t = time.perf_counter()
                if due or not math.isfinite(stats.loss):
                    logits, targets = runner.predict()
                    stop = progress.after_evaluation(
                        epoch,
                        stats,
                        logits,
                        targets,
                        runner.inner,
                        lr,
                        position=lambda: clock.report_fields(runner.step, total_steps),
                    )
                else:
                    progress.log_epoch(epoch, stats, lr)
                eval_s += time.perf_counter() - t
            if world > 1:
                stop = broadcast_stop(stop, device)
            clock.end()
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
                        "spend": clock.state(),
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
            "compile": compile_s,
            "peak_memory_bytes": _peak_memory(device),
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


def _peak_memory(device: torch.device) -> float:
    """The most memory torch's allocator reserved on a CUDA device during the run (what
    other processes could not use; nan on CPU)."""
    if device.type != "cuda":
        return math.nan
    return float(torch.cuda.max_memory_reserved(device))


def broadcast_stop(stop: StopReason | None, device: torch.device) -> StopReason | None:
    """Rank 0's stop decision, on every rank."""
    code = torch.tensor([0 if stop is None else _REASONS.index(stop) + 1], device=device)
    dist.broadcast(code, src=0)
    value = int(code.item())
    return None if value == 0 else _REASONS[value - 1]
