"""The best-epoch checkpoint: model weights plus everything needed to rebuild and export it.

A checkpoint file, ``best.safetensors`` (``tensor_file.py``: safetensors with JSON metadata,
written atomically; nothing in it can run code), holds the model's weights under their state-dict
names, so any safetensors reader loads them, and in its metadata:

===================  =========================================================================
key                  value
===================  =========================================================================
``config``           the ``TrainingConfig`` as a JSON-able dict (every field and the options)
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

Release 1 wrote ``best.pt``, a pickle; ``load_checkpoint`` refuses it (``LegacyCheckpointError``)
unless ``trust_checkpoint=True``, since unpickling can run code (``automl-vision convert``
rewrites one in this format).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automl_vision.artifacts import BEST_FILE, LEGACY_BEST_FILE
from automl_vision.data.task import Task
from automl_vision.training.model_factory import build_model
from automl_vision.training.tensor_file import (
    CorruptCheckpointError,
    TensorFileKind,
    is_legacy_pickle,
    read_legacy_pickle,
    read_tensor_file,
    write_tensor_file,
)
from automl_vision.training.training_config import TrainingConfig

__all__ = ["BEST_FILE", "LEGACY_BEST_FILE", "Checkpoint", "load_checkpoint"]

_LEGACY_FORMAT = 1


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

    def to_tree(self) -> dict[str, Any]:
        """Every field but the weights, as plain data (``task`` by its value)."""
        tree = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "state_dict"}
        tree["task"] = self.task.value
        return tree

    @classmethod
    def from_tree(
        cls, tree: Any, state_dict: dict[str, torch.Tensor], where: str | Path
    ) -> Checkpoint:
        """The checkpoint of ``to_tree``'s data; ``CorruptCheckpointError`` naming ``where``
        if a field is missing or of the wrong kind (the data may come from anyone)."""
        try:
            if not isinstance(tree, dict):
                raise TypeError("its metadata is not a mapping")
            unknown = set(tree) - {f.name for f in fields(cls)}
            if unknown:
                raise KeyError(f"unknown fields {sorted(unknown)}")
            checkpoint = cls(
                state_dict=dict(state_dict),
                config=_mapping(tree["config"], "config"),
                timm_name=_text(tree["timm_name"], "timm_name"),
                model_kwargs=_mapping(tree.get("model_kwargs", {}), "model_kwargs"),
                num_classes=_count(tree["num_classes"], "num_classes"),
                class_names=[_text(c, "class_names") for c in _sequence(tree["class_names"])],
                task=Task.parse(tree["task"]),
                mean=_triple(tree["mean"], "mean"),
                std=_triple(tree["std"], "std"),
                input_size=_count(tree["input_size"], "input_size"),
                resize_size=_count(tree["resize_size"], "resize_size"),
                threshold=_number(tree.get("threshold", 0.5), "threshold"),
                class_thresholds=(
                    None
                    if tree.get("class_thresholds") is None
                    else [_number(t, "class_thresholds") for t in tree["class_thresholds"]]
                ),
                epoch=_count(tree.get("epoch", 0), "epoch", minimum=0),
                metrics={
                    _text(k, "metrics"): _number(v, "metrics")
                    for k, v in _mapping(tree.get("metrics", {}), "metrics").items()
                },
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CorruptCheckpointError(
                f"{where}: not an automl_vision checkpoint ({_reason(err)})"
            ) from None
        if len(checkpoint.class_names) != checkpoint.num_classes:
            raise CorruptCheckpointError(
                f"{where}: not an automl_vision checkpoint ({len(checkpoint.class_names)} class "
                f"names for {checkpoint.num_classes} classes)"
            )
        return checkpoint

    def save(self, path: str | Path) -> Path:
        """Write atomically (a temporary file renamed into place); return the path."""
        return write_tensor_file(
            path, TensorFileKind.CHECKPOINT, self.to_tree(), weights=self.state_dict
        )


def _reason(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"missing {err.args[0]}" if err.args and isinstance(err.args[0], str) else str(err)
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{name} is not a mapping")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} holds a {type(value).__name__}, not text")
    return value


def _sequence(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise TypeError("class_names is not a list")
    return list(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} holds a {type(value).__name__}, not a number")
    return float(value)


def _count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 2**31:
        raise ValueError(f"{name} is {value!r}, not a whole number >= {minimum}")
    return value


def _triple(value: Any, name: str) -> tuple[float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise TypeError(f"{name} is not three numbers")
    a, b, c = (_number(v, name) for v in value)
    return a, b, c


def load_checkpoint(path: str | Path | Checkpoint, *, trust_checkpoint: bool = False) -> Checkpoint:
    """Read a checkpoint written by ``train`` (or return a ``Checkpoint`` as is).

    Nothing in the file can run code. A release-1 pickle (``best.pt``) raises
    ``LegacyCheckpointError`` unless ``trust_checkpoint`` (then it is unpickled: only for a
    file you made yourself); anything else that is not a whole checkpoint raises
    ``CorruptCheckpointError`` naming the file.
    """
    if isinstance(path, Checkpoint):
        return path
    path = Path(path)
    if path.is_file() and is_legacy_pickle(path):
        data = read_legacy_pickle(path, trust=trust_checkpoint, classes=LEGACY_CLASSES)
        return _legacy_checkpoint(path, data)
    stored = read_tensor_file(path, TensorFileKind.CHECKPOINT)
    return Checkpoint.from_tree(stored.tree, stored.weights, path)


#: what release 1 pickled besides tensors and plain data (read only when trusted)
LEGACY_CLASSES = (Checkpoint, Task)


def _legacy_checkpoint(path: Path, data: Any) -> Checkpoint:
    """Release 1's checkpoint dict (``format`` 1) as a ``Checkpoint``."""
    if not isinstance(data, dict) or data.get("format") != _LEGACY_FORMAT:
        raise CorruptCheckpointError(f"{path}: not an automl_vision checkpoint")
    state = data.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CorruptCheckpointError(f"{path}: not an automl_vision checkpoint (no weights)")
    tree = {k: v for k, v in data.items() if k not in ("format", "state_dict")}
    if isinstance(tree.get("task"), Task):
        tree["task"] = tree["task"].value
    if isinstance(tree.get("mean"), tuple):
        tree["mean"], tree["std"] = list(tree["mean"]), list(tree.get("std", ()))
    return Checkpoint.from_tree(tree, state, path)
