"""Fixtures for the end-to-end sweep tests: small real digit images and tiny search spaces."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

TINY = {
    "model_name": "test_resnet",
    "number_of_epochs": 2,
    "training_batch_size": 64,
    "validation_batch_size": 256,
    "early_stopping": False,
    "number_of_workers": 0,
    "training_crop_size": 16,
    "validation_crop_size": 16,
    "validation_resize_size": 16,
    "warmup_cosine_lr_warmup_epochs": 0,
}


def tiny_space(**searched) -> dict:
    """A search space of tiny CPU trials (2 epochs of test_resnet on 16 px) plus ``searched``."""
    return {**TINY, **searched}


def write_job(path: Path, data: str, **extra) -> Path:
    job = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json",
        "type": "automl",
        "task": "image_classification",
        "primary_metric": "accuracy",
        "training_data": {"path": data, "type": "uri_folder"},
        "limits": {"max_trials": 2},
        "training_parameters": {k: v for k, v in TINY.items() if k != "model_name"},
        "sweep": {"sampling_algorithm": "random"},
        "search_space": [{"model_name": "test_resnet", "learning_rate": "uniform(0.01, 0.1)"}],
        **extra,
    }
    path.write_text(yaml.safe_dump(job, sort_keys=False))
    return path


def reports_recorded(output: Path) -> int:
    """How many reports the sweep in ``output`` has committed (0 before its store exists)."""
    path = output / "sweep.db"
    if not path.is_file():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT COUNT(*) FROM reports").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:  # created but no table yet
        return 0
