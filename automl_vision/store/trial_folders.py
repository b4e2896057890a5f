"""Trial folders that prove whose they are: ``trials/<trial_id>/trial.json``.

Each sweep has an id (``sweep_id``, kept in its store's meta). Before a trial runs,
``TrialFolderRecord`` (a scheduler observer) writes ``trial.json`` in its folder: the sweep's
id, the trial's id and its configuration's key (``config_digest``: a digest of its active
params). The trainer copies that record into every resume state it writes there
(``training/resume.py``), and refuses a resume state whose copy differs.

Before a sweep starts or resumes, ``check_trial_folders`` compares every folder under
``trials/`` with the store, so that no trial ever adopts a checkpoint another sweep, another
trial or another configuration wrote:

* a new sweep (no store, or a store never started) with folders in ``trials/`` is refused;
* on resume, a folder that is not a trial of this store, whose ``trial.json`` names another
  sweep or configuration, that holds checkpoints without a ``trial.json``, or whose resume
  state names another owner, is refused; so is a release-1 pickle (``automl-vision convert``);
* each refusal is one line naming the folder. With ``force`` the offending folders are moved
  aside (``trials.aside/``, nothing is deleted) and their trials start afresh.

Only headers are read (JSON, no tensor, no pickle), so this module never loads torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automl_vision.artifacts import (
    BEST_FILE,
    LEGACY_BEST_FILE,
    LEGACY_RESUME_FILE,
    OWNER_FILE,
    RESUME_FILE,
    TRIALS_DIR,
)
from automl_vision.sampling.configs import trial_config
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.storage import write_atomically
from automl_vision.trial import Trial

__all__ = [
    "ASIDE_DIR",
    "ForeignTrialFolderError",
    "TrialFolderRecord",
    "check_trial_folders",
    "config_digest",
    "new_sweep_id",
    "owner_record",
    "write_owner",
]

ASIDE_DIR = "trials.aside"
_CHECKPOINTS = (BEST_FILE, RESUME_FILE, LEGACY_BEST_FILE, LEGACY_RESUME_FILE)


class ForeignTrialFolderError(ValueError):
    """A trial folder that this sweep did not write (the message names it)."""


def new_sweep_id() -> str:
    """A fresh sweep id (random: two sweeps never share one)."""
    return uuid.uuid4().hex


def config_digest(params: Mapping[str, Any]) -> str:
    """The configuration's key: a digest of its params (order of keys does not matter)."""
    text = json.dumps(dict(params), sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars, as the store writes them
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def owner_record(sweep_id: str, trial: Trial) -> dict[str, str]:
    """What ``trial.json`` holds for ``trial`` of sweep ``sweep_id``."""
    return {
        "sweep_id": sweep_id,
        "trial_id": trial.trial_id,
        "config_key": config_digest(trial_config(trial)),
    }


def write_owner(folder: Path, record: Mapping[str, str]) -> None:
    """Write ``trial.json`` atomically (unless it already says the same)."""
    path = folder / OWNER_FILE
    if _read_json(path) == dict(record):
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(dict(record), sort_keys=True, indent=1) + "\n")


class TrialFolderRecord(SweepObserver):
    """Writes ``trial.json`` in each trial's folder before the trial runs (a trial reused from
    an earlier sweep runs nothing and gets no folder)."""

    def __init__(self, run_dir: Path, sweep_id: str) -> None:
        self.run_dir = run_dir
        self.sweep_id = sweep_id

    def trial_dispatched(self, trial: Trial) -> None:
        write_owner(self.run_dir / TRIALS_DIR / trial.trial_id, owner_record(self.sweep_id, trial))


# -- checking --------------------------------------------------------------------------------
def check_trial_folders(
    run_dir: Path, sweep_id: str | None, trials: Sequence[Trial], *, force: bool
) -> list[str]:
    """Refuse (or, with ``force``, move aside) every folder under ``trials/`` that this sweep
    did not write; return the notes of what was moved. ``sweep_id`` None: a new sweep."""
    root = run_dir / TRIALS_DIR
    if root.is_symlink():
        raise ForeignTrialFolderError(f"{root}: a symbolic link; a sweep's trials/ is a folder")
    if not root.is_dir():
        return []
    folders = sorted(p for p in root.iterdir())
    if sweep_id is None:
        if not folders:
            return []
        if not force:
            raise ForeignTrialFolderError(
                f"{root} holds {len(folders)} trial folders but {run_dir} has no sweep record "
                "(sweep.db missing or empty): they belong to another sweep; choose another "
                "output_dir, or pass force=True (--force) to move them aside"
            )
        return [_set_aside(run_dir, root, "trials of an unrecorded sweep")]
    by_id = {t.trial_id: t for t in trials}
    notes = []
    for folder in folders:
        problem = _problem(folder, by_id.get(folder.name), sweep_id)
        if problem is None:
            continue
        if not force:
            raise ForeignTrialFolderError(
                f"{folder}: {problem}; move it away, or pass force=True (--force) to move it "
                f"aside ({ASIDE_DIR}/) and run its trial afresh"
            )
        notes.append(_set_aside(run_dir, folder, problem))
    return notes


def _problem(folder: Path, trial: Trial | None, sweep_id: str) -> str | None:
    if folder.is_symlink() or not folder.is_dir():
        return "not a trial folder of this sweep (a link or a file)"
    if trial is None:
        return "not a trial of this sweep"
    record = _read_json(folder / OWNER_FILE)
    if record is None:
        held = [name for name in _CHECKPOINTS if (folder / name).exists()]
        if any(name in (LEGACY_BEST_FILE, LEGACY_RESUME_FILE) for name in held):
            return (
                "written by an earlier automl_vision release (pickle checkpoints, which can run "
                f"code); if you made it, run `automl-vision convert {folder.parent.parent} "
                "--trust` first"
            )
        if held:
            return f"holds {', '.join(held)} but no {OWNER_FILE} saying which sweep wrote it"
        return None  # a trial that never got to write anything: it is adopted
    expected = owner_record(sweep_id, trial)
    if record != expected:
        return f"its {OWNER_FILE} names {_who(record)}, not {_who(expected)}"
    resume = folder / RESUME_FILE
    if resume.is_file():
        stamped = _safetensors_metadata(resume).get("owner")
        if stamped is None or _loads(stamped) != expected:
            return f"its {RESUME_FILE} was written for {_who(_loads(stamped))}"
    return None


def _who(record: Any) -> str:
    if not isinstance(record, dict):
        return "no trial of a sweep"
    return (
        f"trial {record.get('trial_id')} of sweep {record.get('sweep_id')} "
        f"(configuration {record.get('config_key')})"
    )


def _set_aside(run_dir: Path, source: Path, why: str) -> str:
    aside = run_dir / ASIDE_DIR
    aside.mkdir(exist_ok=True)
    target = aside / f"{source.name}.{time.strftime('%Y%m%d-%H%M%S')}.{uuid.uuid4().hex[:6]}"
    os.replace(source, target)
    return f"moved {source} aside to {target} ({why})"


def _read_json(path: Path) -> Any:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unreadable"


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _safetensors_metadata(path: Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors header, read as JSON ({} if it is not one)."""
    try:
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if size > 256 * 2**20:
                return {}
            header = json.loads(f.read(size))
    except (OSError, ValueError):
        return {}
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else {}
