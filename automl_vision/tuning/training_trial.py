"""The trial function of ``tune``: train one configuration with the built-in trainer.

``run_training_trial(params, report, context, job=...)`` is what an executor runs for a trial,
in the sweep's process (inline) or in a pool worker (it is a module-level function and the job
is picklable). It builds a ``TrainingConfig`` from the sampled params and the job's options,
trains, and returns the best evaluation's value and metrics with the checkpoint path.

Resume: the trainer writes ``resume.safetensors`` in the trial's workdir after every epoch; a trial
started again (a killed sweep, a dead worker) continues after the last saved epoch, and the
reports of the epochs it covers are not sent again; a trial promoted from a pause continues the
run its pausing report stopped. A CUDA out-of-memory error is retried with
half the batch size and twice the gradient accumulation (the same effective batch), from the last
checkpoint when reports began (until the batch is 1); every attempt is recorded in the
artifacts' ``attempts`` (the epoch it started from and why it ended).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.executors.base import TrialContext, TrialReturn

__all__ = [
    "TrainingDiverged",
    "TrainingJob",
    "TrainingTarget",
    "oom_retry_params",
    "run_training_trial",
    "sweep_relative",
    "trial_seed",
]

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class TrainingTarget:
    """The trial target of a training sweep (``executors.base.TrialTarget``): the built-in
    trainer on one configuration. It carries its dataset (``executors.base.CarriesData``), so
    an executor whose workers cannot read the image files sends them and runs ``on_node``."""

    job: TrainingJob

    @property
    def dataset(self) -> Any:
        return self.job.dataset

    def on_node(self, dataset: Any) -> TrainingTarget:
        """This target reading ``dataset`` (a node's own copy of the files)."""
        return TrainingTarget(dataclasses.replace(self.job, dataset=dataset))

    def __call__(
        self,
        params: Mapping[str, Any],
        report: Callable[[int, Mapping[str, float]], Any],
        context: TrialContext,
    ) -> TrialReturn:
        return run_training_trial(params, report, context, job=self.job)


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite: the trial fails (it has no value)."""


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


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _check_resume(path: Path) -> None:
    """Read the whole resume state at ``path`` (if any): ``CorruptCheckpointError`` if it does
    not check out."""
    from automl_vision.training.resume import load_resume  # lazy: torch

    if path.exists():
        load_resume(path)


def run_training_trial(
    params: Mapping[str, Any],
    report: Callable[[int, Mapping[str, float]], bool],
    context: TrialContext,
    *,
    job: TrainingJob,
) -> TrialReturn:
    import torch  # lazy: torch only where a trial trains, not on `automl-vision --help`

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
) -> TrialReturn:
    import torch  # lazy: as in run_training_trial

    from automl_vision.training import TrainingConfig, export_onnx, train  # lazy: torch
    from automl_vision.training.resume import (  # lazy: torch
        RESUME_FILE,
        CorruptCheckpointError,
        saved_epoch,
    )

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
            resume=True,  # continue from the workdir's resume state when an earlier attempt died
            progress=context.on_progress,
        )

    notes: list[str] = []
    attempts: list[dict[str, Any]] = []
    resume_file = Path(context.workdir) / RESUME_FILE
    values = params
    try:
        _check_resume(resume_file)
    except CorruptCheckpointError as err:
        # its reports stay in the store; the run starts over and sends them again as replays
        aside = resume_file.with_name(RESUME_FILE + ".corrupt")
        os.replace(resume_file, aside)
        note = f"{err}; it was moved to {aside.name} and the trial started again from epoch 1"
        log.warning("%s: %s", context.trial_id, note)
        notes.append(note)
    while True:
        started_from = saved_epoch(resume_file)
        if not attempts and context.on_start is not None:
            context.on_start(started_from)  # recorded now: the attempt may die before a report
        try:
            config, result = attempt(values)
            attempts.append({"started_from_epoch": started_from, "ended": "finished"})
            break
        except torch.cuda.OutOfMemoryError:
            config = TrainingConfig.from_params(values, task=job.dataset.task, **job.options)
            retry = oom_retry_params(values, config.training_batch_size)
            resumable = resume_file.exists()
            if retry is None or (reported and not resumable):
                raise
            note = (
                f"CUDA out of memory with training_batch_size={config.training_batch_size}; "
                f"retried with {retry['training_batch_size']} x gradient_accumulation_step "
                f"{retry['gradient_accumulation_step']} (same effective batch)"
                + (f" from the checkpoint of epoch {saved_epoch(resume_file)}" * resumable)
            )
            log.warning("%s: %s", context.trial_id, note)
            notes.append(note)
            attempts.append(
                {
                    "started_from_epoch": started_from,
                    "ended": "cuda out of memory",
                    "training_batch_size": config.training_batch_size,
                }
            )
            torch.cuda.empty_cache()
            values = retry

    if str(result.stop_reason) == "diverged":
        # never COMPLETED and never best: the weights are NaN (its reports stay recorded)
        raise TrainingDiverged(
            f"training diverged: the training loss is {result.train_losses[-1]} at epoch "
            f"{result.epochs_run} (try a lower learning_rate or gradient_clipping)"
        )
    artifacts: dict[str, Any] = {
        "checkpoint": sweep_relative(result.checkpoint_path, context.workdir),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "number_of_epochs": config.number_of_epochs,
        "seconds": result.timings.get("total"),
        "train_seconds": result.timings.get("train"),
        "random_seed": config.random_seed,
        "threads": torch.get_num_threads(),
        "peak_memory_bytes": _finite(result.timings.get("peak_memory_bytes")),
    }
    thresholds = result.checkpoint.class_thresholds if result.checkpoint is not None else None
    if thresholds is not None:  # multilabel: the per-class thresholds the model predicts with
        artifacts["class_thresholds"] = dict(zip(result.class_names, thresholds, strict=True))
    if result.stop_reason is not None:
        artifacts["trainer_stop"] = str(result.stop_reason)
    if notes:
        artifacts["notes"] = notes
    artifacts["attempts"] = attempts
    artifacts["resumed_from_epoch"] = attempts[0]["started_from_epoch"]
    if job.export_onnx and result.checkpoint_path:
        artifacts["onnx"] = sweep_relative(
            export_onnx(result.checkpoint_path, Path(context.workdir) / "best.onnx"),
            context.workdir,
        )
    return TrialReturn(result.best_value, dict(result.best_metrics), artifacts)
