"""Checkpoint retention: only the best ``keep`` trials of a sweep keep their checkpoint files.

``CheckpointRetention`` is a scheduler observer. Each time a trial finishes it ranks every
finished trial that has a checkpoint by its value (best first, by the sweep's goal; ties by
trial index) and deletes the checkpoint (``best.safetensors`` and ``best.onnx`` in the trial's
folder) of every trial outside the top ``keep``. A file that a kept trial still points to (a
reused trial shares its source's checkpoint) is never deleted. The trials of an earlier run of
the sweep (resume) are ranked together with the new ones. ``keep=None`` keeps everything.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from automl_vision.scheduling.observer import SweepObserver
from automl_vision.store.sweep_dir import artifact_path
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["CheckpointRetention", "disk_usage", "ranked_with_checkpoints"]

log = logging.getLogger(__name__)


def ranked_with_checkpoints(
    trials: Iterable[Trial], goal: PrimaryMetricGoal, run_dir: Path | None = None
) -> list[Trial]:
    """Finished trials with a checkpoint file and a finite value, best first (a relative
    checkpoint record is relative to the sweep directory ``run_dir``)."""
    sign = -1.0 if goal is PrimaryMetricGoal.MAXIMIZE else 1.0
    usable = [
        t
        for t in trials
        if t.finished
        and t.value is not None
        and math.isfinite(t.value)
        and (p := artifact_path(t, "checkpoint", run_dir)) is not None
        and p.is_file()
    ]
    return sorted(usable, key=lambda t: (sign * float(t.value), t.index))  # type: ignore[arg-type]


class CheckpointRetention(SweepObserver):
    def __init__(
        self,
        keep: int | None,
        goal: PrimaryMetricGoal,
        history: Sequence[Trial] = (),
        *,
        run_dir: Path | None = None,
    ) -> None:
        if keep is not None and keep < 1:
            raise ValueError(f"keep_checkpoints must be >= 1 or None (keep all), got {keep}")
        self.keep = keep
        self.goal = goal
        self.run_dir = run_dir
        self.trials: dict[str, Trial] = {t.trial_id: t for t in history}
        self.prune()

    def trial_finished(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial
        self.prune()

    def prune(self) -> list[Path]:
        """Delete the checkpoints outside the top ``keep``; return the deleted files."""
        if self.keep is None:
            return []
        ranked = ranked_with_checkpoints(self.trials.values(), self.goal, self.run_dir)
        paths = [artifact_path(t, "checkpoint", self.run_dir) for t in ranked]
        kept = {p.resolve() for p in paths[: self.keep] if p is not None}
        deleted = []
        for trial, path in zip(ranked[self.keep :], paths[self.keep :], strict=True):
            if path is None or path.resolve() in kept:
                continue
            for victim in (path, path.with_name("best.onnx")):
                if victim.is_file():
                    victim.unlink()
                    deleted.append(victim)
            log.info(
                "%s left the top %d: deleted its checkpoint %s", trial.trial_id, self.keep, path
            )
        return deleted


def disk_usage(root: str | Path) -> int:
    """Bytes of the files under ``root`` (symbolic links not followed)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total
