"""The built-in trainer: timm models, every search-space field honoured, ONNX export.

``train(TrainingConfig(...), data, report=..., output_dir=..., device=...) -> TrainResult``.
May import the foundations, ``space``, ``data``, ``metric_catalog`` and ``weights``; never a
sweep package (executors, scheduling, store, config, planning, tuning).
"""

from automl_vision.training.checkpoint import Checkpoint, load_checkpoint
from automl_vision.training.early_stopping import EarlyStopping
from automl_vision.training.evaluation import StopReason
from automl_vision.training.export import export_onnx
from automl_vision.training.metrics import METRICS, PRIMARY_METRIC, MetricSpec, metric_spec
from automl_vision.training.train import TrainResult, train
from automl_vision.training.training_config import TrainingConfig

__all__ = [
    "METRICS",
    "PRIMARY_METRIC",
    "Checkpoint",
    "EarlyStopping",
    "MetricSpec",
    "StopReason",
    "TrainResult",
    "TrainingConfig",
    "export_onnx",
    "load_checkpoint",
    "metric_spec",
    "train",
]
