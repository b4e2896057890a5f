"""ONNX export of a checkpoint, with the preprocessing recorded in the model's metadata.

Input ``input``: float32, NCHW, RGB, ``batch × 3 × input_size × input_size`` (the image resized
so that its shorter side is ``resize_size`` and centre-cropped to ``input_size``); the batch
dimension is dynamic. Output ``logits``: ``batch × num_classes`` (apply softmax for multiclass,
sigmoid and the thresholds for multilabel).

- ``enable_onnx_normalization=False``: the input is already normalized,
  ``(pixel / 255 - mean) / std``.
- ``enable_onnx_normalization=True``: the model normalizes; the input is the raw image scaled to
  [0, 1] (``pixel / 255``).

``metadata_props``: ``input_size``, ``resize_size``, ``mean``, ``std`` (JSON lists),
``class_names`` (JSON list), ``task``, ``threshold`` (multilabel fixed threshold),
``class_thresholds`` (JSON list, multilabel tuned thresholds, or ``null``),
``normalization_included`` (``true``/``false``), ``input_range`` (``0..1`` or ``normalized``),
``input_layout`` (``NCHW``), ``model_name``, ``timm_name``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import nn

from automl_vision.training.checkpoint import Checkpoint, load_checkpoint

__all__ = ["NormalizedModel", "export_onnx", "write_onnx"]


class NormalizedModel(nn.Module):
    """``model((x - mean) / std)`` for inputs in [0, 1]."""

    def __init__(self, model: nn.Module, mean: tuple, std: tuple) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.mean) / self.std)


def metadata(checkpoint: Checkpoint, normalization: bool) -> dict[str, str]:
    """The ``metadata_props`` written into the ONNX model."""
    return {
        "input_size": str(checkpoint.input_size),
        "resize_size": str(checkpoint.resize_size),
        "mean": json.dumps(list(checkpoint.mean)),
        "std": json.dumps(list(checkpoint.std)),
        "class_names": json.dumps(list(checkpoint.class_names)),
        "task": checkpoint.task.value,
        "threshold": str(checkpoint.threshold),
        "class_thresholds": json.dumps(checkpoint.class_thresholds),
        "normalization_included": "true" if normalization else "false",
        "input_range": "0..1" if normalization else "normalized",
        "input_layout": "NCHW",
        "model_name": str(checkpoint.config.get("model_name", "")),
        "timm_name": checkpoint.timm_name,
    }


def write_onnx(model: nn.Module, path: str | Path, input_size: int, *, opset: int = 17) -> Path:
    """``model`` (in eval mode) written to ``path`` as ONNX: input ``input`` (``batch × 3 ×
    input_size × input_size``, the batch dynamic), output ``logits``; no metadata. The one
    exporter call of the project: a checkpoint's export and the deployment measurement
    (``training/deployment.py``) both go through it. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 3, input_size, input_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter (dynamo=False) is deprecated and warns about traced shape
        # checks that are constant for a fixed input size; neither matters here
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    return path


def export_onnx(
    checkpoint: str | Path | Checkpoint,
    path: str | Path,
    *,
    enable_onnx_normalization: bool | None = None,
    opset: int = 17,
) -> Path:
    """Export ``checkpoint`` to ``path``; normalization folded in as the config (or the
    argument, when given) says. Returns ``path``."""
    import onnx  # lazy: onnx is an optional extra

    ckpt = load_checkpoint(checkpoint)
    if enable_onnx_normalization is None:
        enable_onnx_normalization = bool(ckpt.config.get("enable_onnx_normalization", False))
    model = ckpt.build_model()
    if enable_onnx_normalization:
        model = NormalizedModel(model, ckpt.mean, ckpt.std).eval()
    path = write_onnx(model, path, ckpt.input_size, opset=opset)
    proto = onnx.load(str(path))
    for key, value in metadata(ckpt, enable_onnx_normalization).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path
