"""The best-epoch checkpoint: model weights plus everything needed to rebuild and export it.

A checkpoint file (``torch.save`` of a plain dict, written atomically) holds:

===================  =========================================================================
key                  value
===================  =========================================================================
``format``           1
``state_dict``       the model's weights (CPU tensors)
``config``           the ``TrainingConfig`` as a JSON-able dict (all 31 fields and the options)
``timm_name``        the timm architecture; ``model_kwargs`` extra ``create_model`` arguments
``num_classes``      and ``class_names`` (index order of the outputs)
``task``             ``"multiclass"`` or ``"multilabel"``
``mean``, ``std``    per-channel normalization of inputs in [0, 1] (RGB)
``input_size``       the validation crop size (model input is ``input_size``², after resizing to
                     ``resize_size`` and centre-cropping)
``threshold``        the fixed multilabel threshold (0.5); ``class_thresholds``: per-class
                     thresholds tuned on validation at the best epoch (multilabel, else None)
``epoch``            the best epoch; ``metrics``: its validation metrics
===================  =========================================================================
"""

from __future__ import annotations

import io
import os
import pickle
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automl_vision.data.task import Task
from automl_vision.training.model_factory import build_model
from automl_vision.training.training_config import TrainingConfig

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = 1


@dataclass
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    timm_name: str
    model_kwargs: dict[str, Any]
    num_classes: int
    class_names: list[str]
    task: Task
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    input_size: int
    resize_size: int
    threshold: float = 0.5
    class_thresholds: list[float] | None = None
    epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)

    def build_model(self) -> nn.Module:
        """The model with these weights, in eval mode, on the CPU."""
        model = build_model(self.timm_name, self.num_classes, kwargs=self.model_kwargs)
        model.load_state_dict(self.state_dict)
        return model.eval()

    def training_config(self) -> Any:
        """The ``TrainingConfig`` that trained this model."""
        return TrainingConfig(**self.config)

    def save(self, path: str | Path) -> Path:
        """Write atomically (a temporary file renamed into place); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # no deep copy of weights
        data["task"] = self.task.value
        data["format"] = CHECKPOINT_FORMAT
        buffer = io.BytesIO()
        torch.save(data, buffer)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            # written by Python, not torch's zip writer: a full disk is an OSError(ENOSPC)
            # naming the file, which the sweep tells apart from a trial's failure
            with tmp.open("wb") as f:
                f.write(buffer.getbuffer())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as err:  # name the file the user knows, not the temporary one
            raise OSError(err.errno, err.strerror, str(path)) from err
        finally:
            tmp.unlink(missing_ok=True)
        return path


def load_checkpoint(path: str | Path | Checkpoint) -> Checkpoint:
    """Read a checkpoint written by ``train`` (or return a ``Checkpoint`` as is)."""
    if isinstance(path, Checkpoint):
        return path
    try:
        data = torch.load(Path(path), map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as err:  # truncated, not torch's
        raise ValueError(
            f"{path}: cannot read the checkpoint ({str(err).splitlines()[0]}); it is corrupt "
            "or truncated"
        ) from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not an automl_vision checkpoint (format {CHECKPOINT_FORMAT})")
    data = {k: v for k, v in data.items() if k != "format"}
    data["task"] = Task.parse(data["task"])
    data["mean"], data["std"] = tuple(data["mean"]), tuple(data["std"])
    return Checkpoint(**data)
