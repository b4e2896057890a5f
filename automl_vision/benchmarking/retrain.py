"""Retrain one of a cell's top configurations with one seed and evaluate it on the test images.

``retrain(job, dataset, test_inputs)`` builds the ``TrainingConfig`` the tuning trial trained
(its params and the method's ``training_options``, as the sweep's trial function does) with
``random_seed = SEED_BASE + seed``, trains it in ``job.folder`` and predicts the test images.

- ``retrain_on=train``: the tuning dataset (training images; validation images as the
  evaluation set). The trainer keeps its best epoch by the validation primary metric and tunes
  the per-class thresholds on the validation images at that epoch (the checkpoint's
  ``class_thresholds``): those are the model's thresholds.
- ``retrain_on=train_validation``: training and validation images, evaluated only at the last
  epoch (``evaluation_frequency = number_of_epochs``, no early stopping), so the weights kept
  are the last epoch's; the thresholds are those the tuning trial tuned on the validation
  images (given in ``job.thresholds``), never ones fitted on images the model trained on.

Thresholds are never chosen on test images. The test probabilities (N×C: softmax for
multiclass, sigmoid for multilabel, through ``automl_vision.predict``: the trainer's decoding
and evaluation transform) go to ``test_probs.npy`` and the facts to ``result.json``, both
written atomically, ``result.json`` last: its presence means the model is done. A retraining
killed midway continues from its ``resume.safetensors``.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.artifacts import RESUME_FILE
from automl_vision.benchmarking.spec import RetrainOn
from automl_vision.storage import write_atomically

__all__ = ["PROBS_FILE", "RESULT_FILE", "SEED_BASE", "RetrainJob", "read_result", "retrain"]

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
PROBS_FILE = "test_probs.npy"
#: the ``random_seed`` of a benchmark's seed s is ``SEED_BASE + s``: fixed, and away from the
#: small seeds a search space may have tuned with
SEED_BASE = 10_000


@dataclass(frozen=True)
class RetrainJob:
    """One model to retrain: configuration ``rank`` of a cell with benchmark seed ``seed``."""

    cell: str
    rank: int
    seed: int
    trial_id: str
    params: Mapping[str, Any]
    primary_metric: str
    training_options: Mapping[str, Any]
    device: str
    retrain_on: RetrainOn
    thresholds: list[float] | None  # the tuning trial's (used with train_validation)
    folder: Path

    @property
    def random_seed(self) -> int:
        return SEED_BASE + self.seed


def read_result(folder: Path) -> dict[str, Any] | None:
    """``result.json`` of a finished model (None while it is not finished)."""
    try:
        record = json.loads((folder / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_probs(folder: Path) -> np.ndarray:
    """The test probabilities of a finished model (N×C)."""
    return np.load(folder / PROBS_FILE, allow_pickle=False)


def _config(job: RetrainJob, task: Any) -> Any:
    from automl_vision.training import TrainingConfig  # lazy: torch

    values = {**job.params, "random_seed": job.random_seed}
    options = {"primary_metric": job.primary_metric, "task": task, **job.training_options}
    config = TrainingConfig.from_params(values, **options)
    if job.retrain_on is RetrainOn.TRAIN_VALIDATION:
        # one evaluation, after the last epoch: the kept weights are the last epoch's
        values |= {"evaluation_frequency": config.number_of_epochs, "early_stopping": False}
        config = TrainingConfig.from_params(values, **options)
    return config


def _predict(checkpoint: Any, inputs: list[Any], device: str) -> np.ndarray:
    from automl_vision.predict import load_model  # lazy: torch

    predictor = load_model(checkpoint, device=device, batch_size=64)
    predictions = predictor.predict(inputs)
    for p in predictions:
        if p.error is not None:
            raise ValueError(f"test image {p.filename}: {p.error}")
    return np.asarray([p.probs for p in predictions], dtype=np.float64)


def retrain(job: RetrainJob, dataset: Any, test_inputs: list[Any]) -> dict[str, Any]:
    """Train ``job`` on ``dataset``, predict ``test_inputs``, write and return its record."""
    from automl_vision.training import train  # lazy: torch

    start = time.perf_counter()
    config = _config(job, dataset.task)
    result = train(config, dataset, output_dir=job.folder, device=job.device, resume=True)
    if result.checkpoint is None or str(result.stop_reason) == "diverged":
        raise RuntimeError(
            f"cell {job.cell}: retraining rank {job.rank} ({job.trial_id}) with seed {job.seed} "
            f"did not produce a model (training loss {result.train_losses[-1:]}); the "
            "configuration diverges with this seed"
        )
    thresholds = None
    if dataset.multilabel:
        thresholds = (
            result.checkpoint.class_thresholds
            if job.retrain_on is RetrainOn.TRAIN
            else job.thresholds
        )
    probs = _predict(result.checkpoint, test_inputs, job.device)
    buffer = io.BytesIO()
    np.save(buffer, probs, allow_pickle=False)
    write_atomically(job.folder / PROBS_FILE, buffer.getvalue())
    record = {
        "version": 1,
        "rank": job.rank,
        "seed": job.seed,
        "random_seed": job.random_seed,
        "trial_id": job.trial_id,
        "params": dict(job.params),
        "retrain_on": job.retrain_on.value,
        "primary_metric": job.primary_metric,
        "validation_value": _finite(result.best_value),
        "validation_metrics": {k: _finite(v) for k, v in result.best_metrics.items()},
        "thresholds": None if thresholds is None else [float(t) for t in thresholds],
        "class_names": list(dataset.class_names),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "test_images": len(probs),
        "seconds": time.perf_counter() - start,
    }
    write_atomically(job.folder / RESULT_FILE, json.dumps(record, indent=1, default=str))
    (job.folder / RESUME_FILE).unlink(missing_ok=True)  # only a killed run needs it
    return record


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
