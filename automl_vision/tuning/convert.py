"""``convert``: rewrite a release-1 sweep or run directory in this release's formats.

Release 1 stored checkpoints and resume states as pickles (``best.pt``, ``resume.pt``) and gave
trial folders no owner record. ``convert_run(path, trust=True)`` takes a sweep directory (its
store gets an id and each trial folder its ``trial.json``, then every pickle becomes a
safetensors file: ``training/legacy.py``), a training run directory or one file. Reading a
pickle can run code, so it is refused without ``trust`` (the user says they made the files).
Afterwards the sweep resumes as if this release had written it (at most one epoch re-done).
"""

from __future__ import annotations

import os
from pathlib import Path

from automl_vision.artifacts import (
    BEST_FILE,
    LEGACY_BEST_FILE,
    LEGACY_RESUME_FILE,
    TRIALS_DIR,
)
from automl_vision.store.database import SweepStore
from automl_vision.store.lock import SweepLock
from automl_vision.store.trial_folders import new_sweep_id, owner_record, write_owner

__all__ = ["convert_run"]

_LEGACY = (LEGACY_RESUME_FILE, LEGACY_BEST_FILE)


def convert_run(path: str | Path, *, trust: bool) -> list[str]:
    """Convert ``path`` (a sweep directory, a training run directory or one ``.pt`` file);
    return one line per thing done. ``ValueError`` (one line) when there is nothing to
    convert, or pickles are found and ``trust`` is not given."""
    from automl_vision.training.legacy import convert_legacy_file  # lazy: torch

    path = Path(path).expanduser()
    if path.is_file():
        return [f"converted {path} to {convert_legacy_file(path, trust=trust)}"]
    if not path.is_dir():
        raise ValueError(f"{path}: no such sweep directory, run directory or file")
    pickles = _pickles(path)
    if pickles and not trust:
        raise ValueError(
            f"{path} holds {len(pickles)} release-1 pickle files ({pickles[0]}, ...); "
            "converting reads them, and reading a pickle can run code: pass --trust "
            "(trust=True) only if you made them"
        )
    lines: list[str] = []
    if (path / SweepStore.FILENAME).is_file():
        with SweepLock(path):
            lines += _record_owners(path)
    for file in pickles:
        if file.is_symlink():  # the sweep's link to its best trial's file: linked anew below
            continue
        lines.append(f"converted {file} to {convert_legacy_file(file, trust=True)}")
    lines += _relink_best(path)
    if not lines:
        raise ValueError(f"{path}: nothing to convert (no release-1 files, owners recorded)")
    return lines


def _pickles(run_dir: Path) -> list[Path]:
    found = [run_dir / name for name in _LEGACY if (run_dir / name).is_file()]
    trials = run_dir / TRIALS_DIR
    if trials.is_dir() and not trials.is_symlink():
        for folder in sorted(trials.iterdir()):
            if folder.is_dir() and not folder.is_symlink():
                found += [folder / n for n in _LEGACY if (folder / n).is_file()]
    return [f for f in found if not f.is_symlink() or (run_dir / LEGACY_BEST_FILE) == f]


def _record_owners(run_dir: Path) -> list[str]:
    """Give the store an id and each of its trials' folders a ``trial.json``."""
    store = SweepStore.open_for_writing(run_dir / SweepStore.FILENAME)
    try:
        meta = store.meta()
        sweep_id = str(meta.get("sweep_id") or new_sweep_id())
        lines = [] if meta.get("sweep_id") else [f"{run_dir}: sweep id {sweep_id} recorded"]
        store.set_meta({"sweep_id": sweep_id})
        for trial in store.load_trials():
            folder = run_dir / TRIALS_DIR / trial.trial_id
            if folder.is_dir() and not folder.is_symlink():
                write_owner(folder, owner_record(sweep_id, trial))
        return lines
    finally:
        store.close()


def _relink_best(run_dir: Path) -> list[str]:
    """The sweep's ``best.pt`` link becomes ``best.safetensors`` to the converted file."""
    link = run_dir / LEGACY_BEST_FILE
    if not link.is_symlink():
        return []
    target = (run_dir / os.readlink(link)).with_name(BEST_FILE)
    link.unlink()
    if not target.is_file():
        return [f"removed the link {link} (its target was not converted)"]
    new = run_dir / BEST_FILE
    new.unlink(missing_ok=True)
    new.symlink_to(os.path.relpath(target.absolute(), run_dir.absolute()))
    return [f"linked {new} to {target}"]
