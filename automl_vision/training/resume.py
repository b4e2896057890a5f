"""The resume checkpoint: ``<output_dir>/resume.pt``, written at the end of every epoch.

It holds everything needed to continue a run from the epoch after the saved one and end bit for
bit where an uninterrupted run would (on the CPU, with a seed): the model and optimizer states,
the optimizer step count (the learning-rate schedule is a function of it), the RNG states (torch's
default generator and the augmentation generator), the epoch, early stopping's state, the best
evaluation so far (its metrics, epoch and the best checkpoint's weights), the evaluation history,
the training losses and the learning-rate history, and why the run stopped (when it did).

The file is written atomically (a temporary file in the same folder, flushed and fsynced, then
renamed over the old one), so only the latest is kept and a kill at any moment leaves either the
old or the new file. Its first line is ``automl_vision-resume <sha256 of the rest>``; a file
whose checksum does not match is reported as corrupt (``CorruptCheckpointError`` naming it).
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path
from typing import Any

import torch

from automl_vision.faults import fault_point

__all__ = ["RESUME_FILE", "CorruptCheckpointError", "load_resume", "save_resume"]

RESUME_FILE = "resume.pt"
_MAGIC = b"automl_vision-resume "


class CorruptCheckpointError(ValueError):
    """A checkpoint file that cannot be read back (bad checksum, truncated, not ours)."""


def save_resume(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically with a checksum; return the path."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(_MAGIC + digest + b"\n")
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        fault_point("checkpoint", path)
        os.replace(tmp, path)
    except OSError as err:  # name the file the user knows, not the temporary one
        raise OSError(err.errno, err.strerror, str(path)) from err
    finally:
        tmp.unlink(missing_ok=True)
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return path


def load_resume(path: str | Path) -> dict[str, Any]:
    """The state saved by ``save_resume``; ``CorruptCheckpointError`` if it does not check out."""
    path = Path(path)
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    if not header.startswith(_MAGIC):
        raise CorruptCheckpointError(f"{path}: not an automl_vision resume checkpoint")
    if hashlib.sha256(payload).hexdigest().encode() != header[len(_MAGIC) :]:
        raise CorruptCheckpointError(
            f"{path}: corrupt resume checkpoint (checksum mismatch); delete it to start the "
            "trial from epoch 1"
        )
    state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "epoch" not in state:
        raise CorruptCheckpointError(f"{path}: not an automl_vision resume checkpoint")
    return state
