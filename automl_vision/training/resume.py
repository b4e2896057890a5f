"""The resume state: ``<output_dir>/resume.safetensors``, written at the end of every epoch.

It holds everything needed to continue a run from the epoch after the saved one and end bit for
bit where an uninterrupted run would (on the CPU, with a seed): the model and optimizer states,
the optimizer step count (the learning-rate schedule is a function of it), the RNG states (torch's
default generator and the augmentation generator), the epoch, early stopping's state, the best
evaluation so far (its metrics, epoch and the best checkpoint's weights), the evaluation history,
the training losses and the learning-rate history, and why the run stopped (when it did).

The file is a ``tensor_file.py`` file (safetensors with a JSON tree and a SHA-256 over both:
nothing in it can run code, and a damaged file is reported as ``CorruptCheckpointError`` naming
it), written atomically, so only the latest is kept and a kill at any moment leaves either the
old or the new file.

**Owner.** A folder that belongs to a sweep's trial holds ``trial.json`` (``OWNER_FILE``: the
sweep's id, the trial's id and its configuration's key, written by the sweep). Each resume state
written there carries a copy, and ``load_resume`` refuses one whose copy differs from the
folder's (``ForeignResumeError``): a trial never continues another sweep's or another
configuration's run. Release 1's ``resume.pt`` pickle is refused (``LegacyCheckpointError``)
unless ``trust=True``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from automl_vision.artifacts import LEGACY_RESUME_FILE, OWNER_FILE, RESUME_FILE
from automl_vision.training.checkpoint import LEGACY_CLASSES
from automl_vision.training.tensor_file import (
    CorruptCheckpointError,
    LegacyCheckpointError,
    TensorFileKind,
    is_legacy_pickle,
    legacy_message,
    read_legacy_pickle,
    read_metadata,
    read_tensor_file,
    write_tensor_file,
)

__all__ = [
    "LEGACY_RESUME_FILE",
    "OWNER_FILE",
    "RESUME_FILE",
    "CorruptCheckpointError",
    "ForeignResumeError",
    "check_owner",
    "load_resume",
    "read_owner",
    "save_resume",
    "saved_epoch",
]


class ForeignResumeError(ValueError):
    """A resume state written for another sweep, trial or configuration than its folder's."""


def read_owner(folder: str | Path) -> dict[str, str] | None:
    """The folder's ``trial.json`` (None without one); ``CorruptCheckpointError`` if it is not
    a mapping of text to text."""
    path = Path(folder) / OWNER_FILE
    if not path.is_file() or path.is_symlink():
        return None
    try:
        owner = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CorruptCheckpointError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(owner, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in owner.items()
    ):
        raise CorruptCheckpointError(f"{path}: not a mapping of text to text")
    return owner


def save_resume(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically, stamped with its folder's owner; return it."""
    path = Path(path)
    weights = state.get("model") or {}
    tree = {k: v for k, v in state.items() if k != "model"}
    owner = read_owner(path.parent)
    meta = {"owner": json.dumps(owner, sort_keys=True)} if owner is not None else {}
    return write_tensor_file(
        path, TensorFileKind.RESUME, tree, weights=weights, meta=meta, fault="checkpoint"
    )


def load_resume(path: str | Path, *, trust: bool = False) -> dict[str, Any]:
    """The state saved by ``save_resume``.

    ``CorruptCheckpointError`` if it does not check out, ``ForeignResumeError`` if its owner is
    not its folder's, ``LegacyCheckpointError`` for release 1's pickle unless ``trust``.
    """
    path = Path(path)
    if path.is_file() and is_legacy_pickle(path):
        state = read_legacy_pickle(path, trust=trust, classes=LEGACY_CLASSES)
    else:
        stored = read_tensor_file(path, TensorFileKind.RESUME)
        check_owner(path, stored.meta.get("owner"))
        state = stored.tree
        if isinstance(state, dict):
            state["model"] = stored.weights
    if not isinstance(state, dict) or "epoch" not in state:
        raise CorruptCheckpointError(f"{path}: not an automl_vision resume state")
    return state


def saved_epoch(path: str | Path) -> int:
    """The epoch of the resume state at ``path`` (0 when there is none), read from its header
    only: no tensor is read (``load_resume`` checks the whole file)."""
    path = Path(path)
    if not path.exists():
        return 0
    if is_legacy_pickle(path):
        raise LegacyCheckpointError(legacy_message(path))
    try:
        epoch = json.loads(read_metadata(path, TensorFileKind.RESUME).get("tree", ""))["epoch"]
    except (ValueError, TypeError, KeyError):
        raise CorruptCheckpointError(f"{path}: not an automl_vision resume state") from None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CorruptCheckpointError(f"{path}: not an automl_vision resume state (epoch)")
    return epoch


def check_owner(path: Path, stamped: str | None) -> None:
    """Refuse a resume state whose stamped owner differs from its folder's ``trial.json``."""
    folder = read_owner(path.parent)
    mine = json.loads(stamped) if stamped else None
    if folder != mine:
        raise ForeignResumeError(
            f"{path.parent}: {path.name} was written for {_who(mine)}, but this folder belongs "
            f"to {_who(folder)}; move the folder away to start the trial afresh"
        )


def _who(owner: dict[str, str] | None) -> str:
    if not owner:
        return "no sweep's trial"
    return (
        f"trial {owner.get('trial_id')} of sweep {owner.get('sweep_id')} "
        f"(configuration {owner.get('config_key')})"
    )
