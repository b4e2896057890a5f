"""Use a trained model: ``load_model(run_dir | best.safetensors)`` -> ``Predictor``.

``Predictor.predict(images)`` takes file paths, PIL images or ``H×W×3`` / ``H×W`` uint8 arrays
and returns one ``Prediction`` per image, in order. Preprocessing is the trainer's validation
path exactly: each image is decoded as the decoded-image cache stores it (``decode_image``, at
the trial's storage size) and goes through the same ``EvalTransform`` (resize, centre crop,
normalize). Multiclass: softmax probabilities, the top class predicted. Multilabel: sigmoid
probabilities, a class predicted when its probability reaches its threshold (the per-class
thresholds tuned at the best epoch, else the fixed threshold).

``onnx=True`` runs the exported ONNX model with onnxruntime instead of PyTorch (the run's
``best.onnx`` when there is one, else an export into a temporary file); it gives the same
probabilities within 1e-4. An image that cannot be read gives a ``Prediction`` with ``error``
set; the others are still predicted.

``Prediction.to_json()`` is Azure's image-classification scoring line, one line of JSON text:
``filename``, ``probs`` (one per class) and ``labels`` (the class names, in the order of
``probs``), plus ``predicted`` (the predicted class names); ``Prediction.to_dict()`` is the same
as a dict.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from automl_vision.data.cache import decode_image
from automl_vision.data.task import Task
from automl_vision.data.transforms import EvalTransform
from automl_vision.storage import write_atomically
from automl_vision.store.database import SweepStore
from automl_vision.store.sweep_dir import read_sweep
from automl_vision.training.checkpoint import (
    BEST_FILE,
    LEGACY_BEST_FILE,
    Checkpoint,
    load_checkpoint,
)
from automl_vision.training.export import export_onnx

__all__ = ["IMAGE_SUFFIXES", "Prediction", "Predictor", "expand_inputs", "load_model"]

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ImageInput = str | Path | Image.Image | np.ndarray


@dataclass
class Prediction:
    filename: str | None
    class_names: list[str] = field(repr=False)
    probs: list[float] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def label(self) -> str | None:
        """The top class (multiclass), or the first predicted label."""
        return self.predicted[0] if self.predicted else None

    def to_dict(self) -> dict[str, Any]:
        """The scoring line as a dict (``error`` in place of the rest for an unreadable image)."""
        if self.error is not None:
            return {"filename": self.filename, "error": self.error}
        return {
            "filename": self.filename,
            "probs": self.probs,
            "labels": self.class_names,
            "predicted": self.predicted,
        }

    def to_json(self) -> str:
        """The scoring line: one line of JSON text (``json.loads`` gives ``to_dict()``)."""
        return json.dumps(self.to_dict())


def _storage_size(checkpoint: Checkpoint) -> int:
    config = checkpoint.config
    return max(int(config.get("training_crop_size", checkpoint.input_size)), checkpoint.resize_size)


class Predictor:
    """A trained model with its preprocessing and decision rule (see the module docstring)."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        *,
        device: str = "auto",
        batch_size: int = 32,
        onnx: bool = False,
        onnx_path: Path | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.class_names = list(checkpoint.class_names)
        self.task = checkpoint.task
        self.batch_size = batch_size
        self.size = _storage_size(checkpoint)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        thresholds = checkpoint.class_thresholds or [checkpoint.threshold] * len(self.class_names)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self._session = None
        mean, std = checkpoint.mean, checkpoint.std
        if onnx:
            import onnxruntime  # lazy: onnxruntime is an optional extra

            if onnx_path is None:
                self._tmp = tempfile.TemporaryDirectory()
                onnx_path = export_onnx(checkpoint, Path(self._tmp.name) / "model.onnx")
            self._session = _onnx_session(onnxruntime, Path(onnx_path))
            meta = self._session.get_modelmeta().custom_metadata_map
            if meta.get("normalization_included") == "true":
                mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
            self.device = torch.device("cpu")
        else:
            self.model = checkpoint.build_model().to(self.device)
        self.transform = EvalTransform(checkpoint.resize_size, checkpoint.input_size, mean, std)

    # -- inference ------------------------------------------------------------------------------
    def _logits(self, batch: np.ndarray) -> np.ndarray:
        x = self.transform(torch.from_numpy(batch).to(self.device))
        if self._session is not None:
            return self._session.run(None, {"input": x.numpy()})[0]
        with torch.no_grad():
            return self.model(x).float().cpu().numpy()

    def _decide(self, logits: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
        logits = logits.astype(np.float64)
        if self.task is Task.MULTICLASS:
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            return probs, [[self.class_names[int(i)]] for i in probs.argmax(axis=1)]
        probs = 1.0 / (1.0 + np.exp(-logits))
        chosen = probs >= self.thresholds[None, :]
        names = self.class_names
        return probs, [[c for c, on in zip(names, row, strict=True) if on] for row in chosen]

    def predict(self, images: Iterable[ImageInput] | ImageInput) -> list[Prediction]:
        """One ``Prediction`` per image, in order; unreadable images carry ``error``."""
        if isinstance(images, (str, Path, Image.Image)) or (
            isinstance(images, np.ndarray) and images.ndim in (2, 3) and images.dtype == np.uint8
        ):
            images = [images]
        items = list(images)
        out: list[Prediction | None] = [None] * len(items)
        decoded: list[tuple[int, np.ndarray]] = []
        for i, image in enumerate(items):
            name = str(image) if isinstance(image, (str, Path)) else None
            try:
                decoded.append((i, decode_image(image, self.size)))
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
                out[i] = Prediction(name, self.class_names, error=f"{type(err).__name__}: {err}")
        for start in range(0, len(decoded), self.batch_size):
            chunk = decoded[start : start + self.batch_size]
            probs, labels = self._decide(self._logits(np.stack([a for _, a in chunk])))
            for (i, _), p, chosen in zip(chunk, probs, labels, strict=True):
                image = items[i]
                name = str(image) if isinstance(image, (str, Path)) else None
                out[i] = Prediction(name, self.class_names, [float(v) for v in p], chosen)
        return [p for p in out if p is not None]


def _onnx_session(onnxruntime: Any, path: Path) -> Any:
    """An onnxruntime session of the model in ``path``, given as bytes: the file is a graph of
    standard operators and nothing else (no external-data file is read from a path it names, no
    custom-operator library is loaded). One ``ValueError`` line naming the file otherwise."""
    if path.is_symlink():
        raise ValueError(f"{path}: a symbolic link; the ONNX model is a file of the run folder")
    try:
        return onnxruntime.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types (Fail, InvalidGraph)
        line = (str(err).splitlines() or [type(err).__name__])[0][:300]
        raise ValueError(f"{path}: not an ONNX model this predictor can run ({line})") from None


def _checkpoint_path(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise ValueError(f"{source}: no such run directory or checkpoint file")
    if (path / BEST_FILE).is_file():
        return path / BEST_FILE
    if (path / SweepStore.FILENAME).is_file():
        best = read_sweep(path).best_checkpoint()
        if best is not None and best.is_file():
            return best
    if (path / LEGACY_BEST_FILE).is_file():  # release 1's: load_checkpoint asks for trust
        return path / LEGACY_BEST_FILE
    raise ValueError(f"{source}: no {BEST_FILE} in this run directory (is the sweep finished?)")


def load_model(
    source: str | Path | Checkpoint,
    *,
    device: str = "auto",
    batch_size: int = 32,
    onnx: bool = False,
    trust_checkpoint: bool = False,
) -> Predictor:
    """A ``Predictor`` from a sweep or training run directory, or a ``best.safetensors`` file.

    Nothing read can run code; ``trust_checkpoint`` allows a release-1 ``best.pt`` pickle,
    which can (see ``training.checkpoint.load_checkpoint``)."""
    if isinstance(source, Checkpoint):
        return Predictor(source, device=device, batch_size=batch_size, onnx=onnx)
    path = _checkpoint_path(source)
    checkpoint = load_checkpoint(path, trust_checkpoint=trust_checkpoint)
    onnx_path = None
    if onnx and Path(source).is_dir() and (Path(source) / "best.onnx").is_file():
        onnx_path = Path(source) / "best.onnx"
    return Predictor(
        checkpoint, device=device, batch_size=batch_size, onnx=onnx, onnx_path=onnx_path
    )


def expand_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; folders expanded to their image files (recursively, sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(p)
    return out


def write_jsonl(predictions: Sequence[Prediction], path: Path | None) -> str:
    text = "".join(p.to_json() + "\n" for p in predictions)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)
    return text
