"""Data-parallel training (DDP) over the devices given to one run.

The calling process is rank 0: it keeps the ``report`` callback, evaluates, writes checkpoints
and returns the result. Ranks 1..W-1 are spawned processes that train on their shard of every
epoch (``data.loader.BatchOrder``) and follow rank 0's stop decision, which is broadcast after
every epoch. Backend: NCCL when every device is a GPU, gloo otherwise (so two CPU processes
work too). The rendezvous is a file in a temporary folder (no network port). On the CPU each
process gets an equal share of the CPU cores. ``training_batch_size`` is per process.
"""

from __future__ import annotations

import datetime
import logging
import multiprocessing
import tempfile
import traceback
import warnings
from pathlib import Path

import torch
import torch.distributed as dist

from automl_vision.data.dataset import DecodedSplit, ImageDataset
from automl_vision.data.loader import available_cpus
from automl_vision.training.components import storage_size
from automl_vision.training.evaluation import ReportFn
from automl_vision.training.process import run_process
from automl_vision.training.ticker import ProgressFn
from automl_vision.training.training_config import TrainingConfig

__all__ = ["run_distributed"]

log = logging.getLogger("automl_vision.training")

_TIMEOUT = datetime.timedelta(minutes=30)


def _init(rank: int, world: int, device: torch.device, init_file: Path) -> None:
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(
        backend, init_method=f"file://{init_file}", rank=rank, world_size=world, timeout=_TIMEOUT
    )


def _threads_per_process(devices: list[torch.device]) -> int:
    return max(1, available_cpus() // len(devices)) if devices[0].type == "cpu" else 0


def _child(
    rank: int,
    devices: list[torch.device],
    init_file: Path,
    config: TrainingConfig,
    dataset: ImageDataset,
    seed: int,
) -> None:
    """Entry point of ranks 1..W-1 (a spawned process)."""

    try:
        threads = _threads_per_process(devices)
        if threads:
            torch.set_num_threads(threads)
        device = devices[rank]
        _init(rank, len(devices), device, init_file)
        with warnings.catch_warnings():  # rank 0 already warned about unreadable images
            warnings.simplefilter("ignore")
            splits = dataset.decode(storage_size(config))
        run_process(
            config, dataset, splits, device=device, seed=seed, rank=rank, world=len(devices)
        )
        dist.destroy_process_group()
    except BaseException:
        traceback.print_exc()
        raise


def run_distributed(
    config: TrainingConfig,
    dataset: ImageDataset,
    splits: tuple[DecodedSplit, DecodedSplit],
    *,
    devices: list[torch.device],
    seed: int,
    report: ReportFn | None,
    output_dir: Path | None,
    progress: ProgressFn | None = None,
) -> object:
    """Train on ``devices`` data-parallel; return rank 0's ``TrainResult``."""

    if dist.is_available() and dist.is_initialized():
        raise RuntimeError("a process group is already initialized in this process")
    context = multiprocessing.get_context("spawn")
    threads_before = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="automl_vision_ddp_") as folder:
        init_file = Path(folder) / "rendezvous"
        children = [
            context.Process(
                target=_child,
                args=(rank, devices, init_file, config, dataset, seed),
                name=f"automl_vision-rank{rank}",
            )
            for rank in range(1, len(devices))
        ]
        for child in children:
            child.start()
        try:
            threads = _threads_per_process(devices)
            if threads:
                torch.set_num_threads(threads)
            _init(0, len(devices), devices[0], init_file)
            log.info("data-parallel training on %d processes", len(devices))
            result = run_process(
                config,
                dataset,
                splits,
                device=devices[0],
                seed=seed,
                rank=0,
                world=len(devices),
                report=report,
                output_dir=output_dir,
                on_progress=progress,
            )
            dist.destroy_process_group()
            for child in children:
                child.join()
            failed = [c.name for c in children if c.exitcode != 0]
            if failed:
                raise RuntimeError(f"data-parallel workers failed: {', '.join(failed)}")
            return result
        finally:
            torch.set_num_threads(threads_before)
            if dist.is_initialized():
                dist.destroy_process_group()
            for child in children:
                if child.is_alive():
                    child.terminate()
                    child.join()
