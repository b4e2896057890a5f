"""Release 1's pickle files, converted to this release's safetensors files.

Release 1 wrote ``best.pt`` (a checkpoint dict, ``format`` 1) and ``resume.pt`` (a checksum line
and a pickled resume state whose ``best`` was a ``Checkpoint`` object) with ``torch.save``.
Unpickling runs whatever code a file names, so both are read only here and only with
``trust=True``: the caller states that the file was made by them. ``convert_legacy_file``
writes the same content as ``best.safetensors`` / ``resume.safetensors`` beside it (read back
and compared before the pickle is deleted), after which nothing needs trust again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from automl_vision.artifacts import BEST_FILE, LEGACY_BEST_FILE, LEGACY_RESUME_FILE, RESUME_FILE
from automl_vision.training.checkpoint import LEGACY_CLASSES, Checkpoint, load_checkpoint
from automl_vision.training.resume import load_resume, save_resume
from automl_vision.training.tensor_file import (
    CorruptCheckpointError,
    LegacyCheckpointError,
    is_legacy_pickle,
    legacy_message,
    read_legacy_pickle,
)

__all__ = ["convert_legacy_file"]

log = logging.getLogger(__name__)


def convert_legacy_file(path: str | Path, *, trust: bool, keep: bool = False) -> Path:
    """Rewrite release 1's ``path`` (``best.pt``, ``resume.pt`` or another ``.pt`` checkpoint
    of this project) as a safetensors file beside it; return the new file's path.

    Refused (``LegacyCheckpointError``) without ``trust``. The pickle is deleted once the new
    file reads back equal, unless ``keep``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if not is_legacy_pickle(path):
        raise ValueError(f"{path}: not a release-1 pickle (nothing to convert)")
    if not trust:
        raise LegacyCheckpointError(legacy_message(path))
    data = read_legacy_pickle(path, trust=True, classes=LEGACY_CLASSES)
    if isinstance(data, dict) and "optimizer" in data and "epoch" in data:
        target = path.with_name(RESUME_FILE if path.name == LEGACY_RESUME_FILE else _renamed(path))
        save_resume(target, _resume_state(data, path))
        _same_state(load_resume(target), data, path)
    elif isinstance(data, dict) and data.get("format") == 1 and "state_dict" in data:
        target = path.with_name(BEST_FILE if path.name == LEGACY_BEST_FILE else _renamed(path))
        checkpoint = load_checkpoint(path, trust_checkpoint=True)
        checkpoint.save(target)
        _same_weights(load_checkpoint(target).state_dict, checkpoint.state_dict, path)
    else:
        raise CorruptCheckpointError(f"{path}: not an automl_vision checkpoint or resume state")
    if not keep:
        path.unlink()
    log.info("converted %s to %s", path, target)
    return target


def _renamed(path: Path) -> str:
    return path.with_suffix(".safetensors").name


def _resume_state(data: dict[str, Any], path: Path) -> dict[str, Any]:
    state = dict(data)
    progress = dict(state.get("progress") or {})
    best = progress.get("best")
    if isinstance(best, Checkpoint):
        progress["best"] = {"fields": best.to_tree(), "state_dict": best.state_dict}
    elif best is not None and not isinstance(best, dict):
        raise CorruptCheckpointError(f"{path}: its best checkpoint is of an unknown kind")
    state["progress"] = progress
    state["format"] = 2
    return state


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], path: Path) -> None:
    if a.keys() != b.keys() or not all(torch.equal(a[k], b[k]) for k in a):
        raise CorruptCheckpointError(f"{path}: the converted file does not read back equal")


def _same_state(new: dict[str, Any], old: dict[str, Any], path: Path) -> None:
    if int(new["epoch"]) != int(old["epoch"]) or int(new["step"]) != int(old["step"]):
        raise CorruptCheckpointError(f"{path}: the converted file does not read back equal")
    _same_weights(new["model"], old["model"], path)
