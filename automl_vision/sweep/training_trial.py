"""The trial function of ``tune``: train one configuration with the built-in trainer.

``run_training_trial(params, report, context, job=...)`` is what an executor runs for a trial,
in the sweep's process (inline) or in a pool worker (it is a module-level function and the job
is picklable). It builds a ``TrainingConfig`` from the sampled params and the job's options,
trains, and returns the best evaluation's value and metrics with the checkpoint path. A CUDA
out-of-memory error before the first report is retried once with half the batch size and twice
the gradient accumulation (the same effective batch), and the retry is recorded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.sweep.executors import TrialResult
from automl_vision.sweep.pool import TrialContext

__all__ = [
    "TrainingJob",
    "oom_retry_params",
    "run_training_trial",
    "sweep_relative",
    "trial_seed",
]

log = logging.getLogger("automl_vision.sweep")


@dataclass(frozen=True)
class TrainingJob:
    """Everything a trial needs besides its params (picklable: it travels to pool workers)."""

    dataset: Any  # automl_vision.data.ImageDataset
    primary_metric: str
    seed: int
    device: str = "auto"  # used when the trial's context names no device slot
    options: Mapping[str, Any] = field(default_factory=dict)  # TrainingConfig options
    export_onnx: bool = False
    #: torch's intra-op CPU threads for every trial, whatever runs it (inline or a pool
    #: worker): a seeded CPU trial's result depends on it (floating-point reduction order);
    #: 0 leaves torch's setting alone
    threads: int = 0


def trial_seed(sweep_seed: int, trial_index: int) -> int:
    """The trial's ``random_seed`` when the search space does not set one."""
    return int(np.random.SeedSequence([sweep_seed, trial_index]).generate_state(1)[0] % 2**31)


def oom_retry_params(params: Mapping[str, Any], defaults_batch: int) -> dict[str, Any] | None:
    """Half the batch, twice the accumulation (same effective batch); None if batch is 1."""
    batch = int(params.get("training_batch_size", defaults_batch))
    if batch < 2:
        return None
    accumulation = int(params.get("gradient_accumulation_step", 1))
    return {
        **params,
        "training_batch_size": batch // 2,
        "gradient_accumulation_step": 2 * accumulation,
    }


def sweep_relative(path: str | Path | None, workdir: str | Path) -> str | None:
    """``path`` relative to the sweep directory (``workdir`` is ``<sweep>/trials/<id>``), so
    that a sweep directory can be moved, copied or read from anywhere."""
    if path is None:
        return None
    sweep_dir = Path(workdir).parent.parent
    return Path(os.path.relpath(Path(path).absolute(), sweep_dir.absolute())).as_posix()


def _device(context: TrialContext, job: TrainingJob) -> Any:
    if context.devices in ("", None):
        return job.device
    count = len(context.devices.split(","))
    # the worker sees only its slot's GPUs, renumbered from 0
    return [f"cuda:{i}" for i in range(count)] if count > 1 else "cuda:0"


def run_training_trial(
    params: Mapping[str, Any],
    report: Callable[[int, Mapping[str, float]], bool],
    context: TrialContext,
    *,
    job: TrainingJob,
) -> TrialResult:
    import torch

    threads_before = torch.get_num_threads()
    if job.threads:
        torch.set_num_threads(job.threads)
    try:
        return _run_trial(params, report, context, job)
    finally:
        torch.set_num_threads(threads_before)


def _run_trial(
    params: Mapping[str, Any],
    report: Callable[[int, Mapping[str, float]], bool],
    context: TrialContext,
    job: TrainingJob,
) -> TrialResult:
    import torch

    from automl_vision.training import TrainingConfig, export_onnx, train

    params = dict(params)
    params.setdefault("random_seed", trial_seed(job.seed, context.trial_index))
    reported = False

    def relay(step: int, metrics: Mapping[str, float]) -> bool:
        nonlocal reported
        reported = True
        return report(step, metrics)

    def attempt(values: Mapping[str, Any]) -> Any:
        config = TrainingConfig.from_params(
            values, primary_metric=job.primary_metric, task=job.dataset.task, **job.options
        )
        return config, train(
            config,
            job.dataset,
            report=relay,
            output_dir=context.workdir,
            device=_device(context, job),
        )

    notes: list[str] = []
    try:
        config, result = attempt(params)
    except torch.cuda.OutOfMemoryError:
        config = TrainingConfig.from_params(params, task=job.dataset.task, **job.options)
        retry = oom_retry_params(params, config.training_batch_size)
        if reported or retry is None:
            raise
        note = (
            f"CUDA out of memory with training_batch_size={config.training_batch_size}; retried "
            f"with {retry['training_batch_size']} x gradient_accumulation_step "
            f"{retry['gradient_accumulation_step']} (same effective batch)"
        )
        log.warning("%s: %s", context.trial_id, note)
        notes.append(note)
        torch.cuda.empty_cache()
        config, result = attempt(retry)

    artifacts: dict[str, Any] = {
        "checkpoint": sweep_relative(result.checkpoint_path, context.workdir),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "seconds": result.timings.get("total"),
        "train_seconds": result.timings.get("train"),
        "random_seed": config.random_seed,
        "threads": torch.get_num_threads(),
    }
    if result.stop_reason is not None:
        artifacts["trainer_stop"] = str(result.stop_reason)
    if notes:
        artifacts["notes"] = notes
    if job.export_onnx and result.checkpoint_path:
        artifacts["onnx"] = sweep_relative(
            export_onnx(result.checkpoint_path, Path(context.workdir) / "best.onnx"),
            context.workdir,
        )
    return TrialResult(result.best_value, dict(result.best_metrics), artifacts)
