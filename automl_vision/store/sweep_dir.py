"""What a sweep directory holds, read back: its trials and settings from the store, and the
files its trials wrote (checkpoints, ONNX models), recorded relative to the directory so that
it can be moved as a whole.

``read_sweep(run_dir)`` rebuilds a sweep (finished, killed or still running) from its store,
read-only; ``best_checkpoint`` is the best trial's ``best.safetensors``. ``predict``,
``TuneResult``, the CLI and the planner (reuse of earlier sweeps) all read a sweep through here.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_vision.artifacts import BEST_FILE, LEGACY_BEST_FILE
from automl_vision.store.database import EventKind, SweepStore, corrupt_store
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus, best_trial

__all__ = [
    "ARTIFACT_FILES",
    "SweepRecord",
    "artifact_path",
    "best_checkpoint",
    "read_sweep",
    "with_absolute_artifacts",
]

#: the artifacts that are files (stored relative to the sweep directory)
ARTIFACT_FILES = ("checkpoint", "onnx")


def artifact_path(trial: Trial, key: str, run_dir: str | Path | None) -> Path | None:
    """The file ``trial.artifacts[key]``: a relative record is relative to the sweep directory
    ``run_dir``; an absolute one (older sweeps, trials reused from another sweep) is kept. A
    release-1 ``best.pt`` that ``automl-vision convert`` replaced is its ``best.safetensors``."""
    value = trial.artifacts.get(key)
    if not value:
        return None
    path = Path(value)
    path = path if path.is_absolute() or run_dir is None else Path(run_dir) / path
    converted = path.with_name(BEST_FILE)
    if path.name == LEGACY_BEST_FILE and not path.exists() and converted.is_file():
        return converted
    return path


def with_absolute_artifacts(trial: Trial, run_dir: str | Path) -> Trial:
    """A copy of ``trial`` whose file artifacts are absolute (to reuse it in another sweep)."""
    artifacts = dict(trial.artifacts)
    for key in ARTIFACT_FILES:
        path = artifact_path(trial, key, run_dir)
        if path is not None:
            artifacts[key] = str(path.absolute())
    return dataclasses.replace(trial, artifacts=artifacts)


def best_checkpoint(
    trials: Sequence[Trial], goal: PrimaryMetricGoal, run_dir: str | Path | None
) -> Path | None:
    """The checkpoint file of the best trial with a value (None when there is none)."""
    best = best_trial(trials, goal)
    return None if best is None else artifact_path(best, "checkpoint", run_dir)


@dataclass
class SweepRecord:
    """A sweep as its store holds it."""

    run_dir: Path
    trials: list[Trial]
    meta: dict[str, Any] = field(default_factory=dict)
    #: why the sweep ended (its last ``sweep_finished`` event), None while it runs or if killed
    end_reason: str | None = None

    @property
    def goal(self) -> PrimaryMetricGoal:
        return PrimaryMetricGoal.parse(self.meta.get("goal", "maximize"))

    @property
    def primary_metric(self) -> str:
        return str(self.meta.get("primary_metric", "value"))

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.meta.get("settings", {}))

    def best_checkpoint(self) -> Path | None:
        return best_checkpoint(self.trials, self.goal, self.run_dir)


def read_sweep(run_dir: str | Path) -> SweepRecord:
    """The sweep in ``run_dir``, read-only. An attempt that has no end record is RUNNING (or
    was, if the sweep died); one that ended unfinished (paused, interrupted) is QUEUED: it
    resumes when the sweep runs again."""
    run_dir = Path(run_dir)
    store = SweepStore.open_readonly(run_dir / SweepStore.FILENAME)
    try:
        meta = store.meta()
        trials = store.load_trials()
        finished = EventKind.SWEEP_FINISHED.value
        ended = [message for _, kind, message in store.events() if kind == finished]
    except (sqlite3.DatabaseError, json.JSONDecodeError, ValueError) as err:
        raise corrupt_store(store.path, err) from None
    finally:
        store.close()
    for t in trials:
        if t.status is TrialStatus.QUEUED and t.started_at is not None and not t.finished_at:
            t.status = TrialStatus.RUNNING
    return SweepRecord(run_dir, trials, meta, ended[-1] if ended else None)
