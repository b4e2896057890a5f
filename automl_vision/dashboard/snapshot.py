"""Read a sweep's store read-only into plain data (what the dashboard and the report show).

The store is opened with a ``file:...?mode=ro`` URI on a fresh, short-lived connection, so a
reader never creates, locks or changes the file a running sweep writes (WAL lets readers and
the one writer proceed side by side). Rows a writer has not committed are simply not seen yet.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["RunSnapshot", "TrialView", "load_snapshot", "store_path"]

STORE_FILENAME = "sweep.db"
LOG_TAIL_LINES = 40


@dataclass
class TrialView:
    """One trial as of its latest attempt, with its reports and the policy's decisions."""

    index: int
    trial_id: str
    status: str
    params: dict[str, Any]
    value: float | None
    attempt: int
    started_at: float | None
    finished_at: float | None
    error: str | None
    stop_reason: str | None
    artifacts: dict[str, Any]
    steps: list[int] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    stopped_by_policy: bool = False

    @property
    def epochs(self) -> int:
        return len(self.steps)

    @property
    def node(self) -> str:
        parts = [
            str(self.artifacts[k])
            for k in ("node", "host", "device", "gpu")
            if self.artifacts.get(k)
        ]
        return " ".join(parts)


@dataclass
class RunSnapshot:
    run_dir: Path
    meta: dict[str, Any]
    trials: list[TrialView]
    events: list[tuple[float, str, str]]

    @property
    def goal(self) -> str:
        return str(self.meta.get("goal", "maximize"))

    @property
    def primary_metric(self) -> str:
        return str(self.meta.get("primary_metric", "value"))

    def best(self) -> TrialView | None:
        valued = [
            t for t in self.trials if t.value is not None and t.status in ("COMPLETED", "STOPPED")
        ]
        if not valued:
            return None
        pick = max if self.goal == "maximize" else min
        return pick(valued, key=lambda t: t.value)  # type: ignore[arg-type,return-value]


def store_path(run_dir: str | Path) -> Path:
    """The store of a run directory; a ValueError naming the directory when there is none."""
    path = Path(run_dir) / STORE_FILENAME
    if not path.is_file():
        raise ValueError(
            f"{str(run_dir)!r} holds no sweep (no {STORE_FILENAME}); "
            "give the output directory of an automl-vision tune run"
        )
    return path


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
    db.execute("PRAGMA query_only=ON")
    return db


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def load_snapshot(run_dir: str | Path) -> RunSnapshot:
    """Everything recorded so far in ``run_dir``'s store, read in one read transaction."""
    path = store_path(run_dir)
    db = _connect(path)
    try:
        db.execute("BEGIN")  # one consistent view of the WAL for all the queries below
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
        rows = db.execute(
            "SELECT t.trial_index, t.trial_id, t.params, a.attempt, a.started_at, a.finished_at, "
            "COALESCE(a.status, 'RUNNING'), a.value, a.error, a.stop_reason, a.artifacts "
            "FROM trials t JOIN attempts a ON a.trial_index = t.trial_index "
            "WHERE a.attempt = (SELECT MAX(attempt) FROM attempts b "
            "WHERE b.trial_index = t.trial_index) ORDER BY t.trial_index"
        ).fetchall()
        trials = {
            r[0]: TrialView(
                index=r[0],
                trial_id=r[1],
                params=json.loads(r[2]),
                attempt=r[3],
                started_at=r[4],
                finished_at=r[5],
                status=r[6],
                value=_num(r[7]),
                error=r[8],
                stop_reason=r[9],
                artifacts=json.loads(r[10]) if r[10] else {},
            )
            for r in rows
        }
        for index, attempt, step, value, metrics, stop, reason in db.execute(
            "SELECT trial_index, attempt, step, value, metrics, stop, reason FROM reports ORDER BY seq"
        ):
            trial = trials.get(index)
            if trial is None or attempt != trial.attempt:
                continue
            trial.steps.append(int(step))
            trial.values.append(_num(value))
            trial.metrics.append(json.loads(metrics))
            trial.decisions.append(reason)
            trial.stopped_by_policy = trial.stopped_by_policy or bool(stop)
        events = [
            tuple(e) for e in db.execute("SELECT time, kind, message FROM events ORDER BY seq")
        ]
        db.execute("COMMIT")
    finally:
        db.close()
    return RunSnapshot(Path(run_dir), meta, list(trials.values()), events)  # type: ignore[arg-type]


def log_tail(run_dir: Path, trial: TrialView, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of the trial's log file(s) in its folder, or its error, or ''."""
    folder = run_dir / "trials" / trial.trial_id
    texts: list[str] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.log")) + sorted(folder.glob("*.txt")):
            try:
                texts.extend(path.read_text(errors="replace").splitlines()[-lines:])
            except OSError:
                continue
    if trial.error:
        texts.extend(trial.error.splitlines()[-lines:])
    return "\n".join(texts[-lines:])
