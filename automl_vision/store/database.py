"""One SQLite file per sweep: append-only records of trials, attempts, reports and events.

Only the scheduler's process writes (docs/architecture.md), so SQLite never sees two writers;
WAL mode lets ``automl-vision status`` read while a sweep runs, and every record is committed as it
happens, so a killed sweep loses nothing it had recorded. The state of every trial is rebuilt
by reading the records back (``load_trials``): a trial whose latest attempt has no end record
was RUNNING when the sweep died, and a resumed sweep runs it again as a new attempt.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from automl_vision.faults import fault_point
from automl_vision.policies.base import Decision, Promotion
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.trial import Report, Trial, TrialStatus

__all__ = ["CorruptStoreError", "EventKind", "SweepStore"]

logger = logging.getLogger(__name__)


class EventKind(str, Enum):
    """What an ``events`` row records; the stored text is the member's value."""

    SWEEP_STARTED = "sweep_started"
    SWEEP_RESUMED = "sweep_resumed"
    SWEEP_FINISHED = "sweep_finished"
    TRIAL_PAUSED = "trial_paused"
    TRIAL_PROMOTED = "trial_promoted"
    NOTE = "note"


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    trial_index INTEGER PRIMARY KEY,
    trial_id TEXT NOT NULL UNIQUE,
    space_index INTEGER NOT NULL,
    params TEXT NOT NULL,          -- JSON, active parameters only
    inactive TEXT NOT NULL,        -- JSON list of the space's fields inactive for these params
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    trial_index INTEGER NOT NULL REFERENCES trials(trial_index),
    attempt INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT,                   -- NULL while running; a TrialStatus: COMPLETED / STOPPED /
                                   -- FAILED, or PAUSED (a promotion starts the next attempt)
    value REAL,
    error TEXT,
    stop_reason TEXT,
    artifacts TEXT,                -- JSON: checkpoint path, metrics, notes
    placement TEXT,                -- where it ran, when the executor says (a Ray node, a GPU)
    started_from INTEGER,          -- the report it starts after, as its trial function says
                                   -- when it starts (0: from the beginning); NULL: not said
    PRIMARY KEY (trial_index, attempt)
);
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    trial_index INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    metrics TEXT NOT NULL,         -- JSON
    stop INTEGER NOT NULL,         -- the policy's decision on this report
    reason TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    kind TEXT NOT NULL,            -- an EventKind value
    message TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS trial_status AS
    SELECT t.trial_index, t.trial_id, a.attempt, COALESCE(a.status, 'RUNNING') AS status,
           a.value, a.error, a.stop_reason, a.started_at, a.finished_at, t.params
    FROM trials t JOIN attempts a ON a.trial_index = t.trial_index
    WHERE a.attempt = (SELECT MAX(attempt) FROM attempts b WHERE b.trial_index = t.trial_index);
"""


class CorruptStoreError(ValueError):
    """A ``sweep.db`` that SQLite cannot read as a sweep store."""


def corrupt_store(path: Path, err: Exception) -> CorruptStoreError:
    return CorruptStoreError(
        f"{path} is not a readable sweep store (SQLite: {err}); it is corrupt, truncated or "
        "not a sweep's sweep.db. Restore it from a copy, or start the sweep in a new output_dir"
    )


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that has already read the schema (see ``open_readonly``)."""
    uri = "file:" + quote(str(path.absolute()))
    last: sqlite3.Error | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{flags}", uri=True, check_same_thread=False)
        except sqlite3.Error as err:
            last = err
            continue
        try:
            db.execute("SELECT key FROM meta LIMIT 1").fetchall()
            db.execute("SELECT trial_index FROM attempts LIMIT 1").fetchall()
        except sqlite3.OperationalError as err:  # cannot open (read-only folder), or no table
            db.close()
            last = err
            if "no such table" in str(err):
                break
            continue
        except sqlite3.DatabaseError as err:  # not a database, malformed
            db.close()
            raise corrupt_store(path, err) from None
        wal = path.with_name(path.name + "-wal")
        if "immutable" in flags and wal.is_file() and wal.stat().st_size:
            logger.warning(
                "%s: opened as immutable (its folder is read-only); the latest records in %s "
                "are not seen",
                path,
                wal.name,
            )
        return db
    assert last is not None
    raise corrupt_store(path, last)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


class SweepStore(SweepObserver):
    """The sweep's SQLite file. Use as an observer of the ``Scheduler``."""

    FILENAME = "sweep.db"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = self._attempt_columns()
        for name, kind in (("placement", "TEXT"), ("started_from", "INTEGER")):
            if name not in columns:  # a store of an earlier version: the column is added
                self._db.execute(f"ALTER TABLE attempts ADD COLUMN {name} {kind}")

    def _attempt_columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(attempts)").fetchall()}

    def _column(self, name: str) -> str:
        """``a.<name>`` of the attempts, or NULL for a store (read only) written before that
        column existed."""
        return f"a.{name}" if name in self._attempt_columns() else "NULL"

    def _placement_column(self) -> str:
        """``a.placement``, or NULL for a store (read only) written before it existed."""
        return self._column("placement")

    @classmethod
    def open_for_writing(cls, path: str | Path) -> SweepStore:
        """Open an existing store to continue its sweep, after SQLite's ``integrity_check``:
        a corrupt file raises ``CorruptStoreError`` naming it and is never written to (nor
        replaced: its finished trials may still be recovered from it)."""
        path = Path(path)
        try:
            db = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=rw", uri=True)
            try:
                verdict = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
            finally:
                db.close()
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and "readonly" in str(err):
                raise
            raise corrupt_store(path, err) from None
        if verdict != ["ok"]:
            raise corrupt_store(path, sqlite3.DatabaseError("; ".join(verdict[:3])))
        return cls(path)

    @classmethod
    def exists(cls, path: str | Path) -> bool:
        return Path(path).is_file()

    @classmethod
    def read_only(cls, path: str | Path) -> SweepStore:
        """Open an existing store without creating anything (for status/report)."""
        return cls.open_readonly(path)

    @classmethod
    def open_readonly(cls, path: str | Path) -> SweepStore:
        """Open an existing store for reading only: nothing is created or written, so a
        read-only copy works and a running sweep's writer is never blocked.

        SQLite's ``mode=ro`` first (it sees a running sweep's latest commits through the WAL);
        where that cannot open the file (a WAL store in a read-only folder without its
        ``-shm`` file), ``immutable=1``. A file that is not a readable sweep store raises
        ``CorruptStoreError``.
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"no sweep store at {str(path)!r}")
        store = cls.__new__(cls)
        store.path = path
        store._db = _connect_readonly(path)
        return store

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta --------------------------------------------------------------------------------
    def set_meta(self, values: Mapping[str, Any]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, _json(v)) for k, v in values.items()],
            )

    def meta(self) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def log(self, kind: EventKind, message: str) -> None:
        self._db.execute(
            "INSERT INTO events (time, kind, message) VALUES (?, ?, ?)",
            (time.time(), EventKind(kind).value, message),
        )

    def events(self) -> list[tuple[float, str, str]]:
        return self._db.execute("SELECT time, kind, message FROM events ORDER BY seq").fetchall()

    # -- observer hooks (the scheduler's thread) ----------------------------------------------
    def trial_started(self, trial: Trial) -> None:
        self._start_attempt(trial)

    def trial_promoted(self, trial: Trial, promotion: Promotion) -> None:
        self.log(EventKind.TRIAL_PROMOTED, f"{trial.trial_id}: {promotion.reason}")
        self._start_attempt(trial)

    def trial_paused(self, trial: Trial) -> None:
        self._end_attempt(trial)
        self.log(EventKind.TRIAL_PAUSED, f"{trial.trial_id}: {trial.stop_reason or 'paused'}")

    def _start_attempt(self, trial: Trial) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO trials VALUES (?, ?, ?, ?, ?, ?)",
                (
                    trial.index,
                    trial.trial_id,
                    trial.space_index,
                    _json(trial.params),
                    _json(sorted(trial.inactive)),
                    time.time(),
                ),
            )
            (attempt,) = db.execute(
                "SELECT COALESCE(MAX(attempt), 0) + 1 FROM attempts WHERE trial_index = ?",
                (trial.index,),
            ).fetchone()
            db.execute(
                "INSERT INTO attempts (trial_index, attempt, started_at) VALUES (?, ?, ?)",
                (trial.index, attempt, trial.started_at or time.time()),
            )
            fault_point("commit")

    def _attempt(self, trial_index: int) -> int:
        (attempt,) = self._db.execute(
            "SELECT MAX(attempt) FROM attempts WHERE trial_index = ?", (trial_index,)
        ).fetchone()
        return int(attempt)

    def trial_placed(self, trial: Trial) -> None:
        self._db.execute(
            "UPDATE attempts SET placement = ? WHERE trial_index = ? AND attempt = ?",
            (trial.placement, trial.index, self._attempt(trial.index)),
        )

    def attempt_starts(self, trial: Trial, step: int) -> None:
        self._db.execute(
            "UPDATE attempts SET started_from = ? WHERE trial_index = ? AND attempt = ?",
            (int(step), trial.index, self._attempt(trial.index)),
        )

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        self._db.execute(
            "INSERT INTO reports (trial_index, attempt, step, value, metrics, stop, reason, time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                trial.index,
                self._attempt(trial.index),
                report.step,
                _num(report.value),
                _json(dict(report.metrics)),
                int(decision.stop),
                decision.reason,
                time.time(),
            ),
        )

    def trial_finished(self, trial: Trial) -> None:
        fault_point("finish")
        self._end_attempt(trial)

    def _end_attempt(self, trial: Trial) -> None:
        self._db.execute(
            "UPDATE attempts SET finished_at = ?, status = ?, value = ?, error = ?, "
            "stop_reason = ?, artifacts = ? WHERE trial_index = ? AND attempt = ?",
            (
                trial.finished_at or time.time(),
                trial.status.value,
                _num(trial.value),
                trial.error,
                trial.stop_reason,
                _json(trial.artifacts),
                trial.index,
                self._attempt(trial.index),
            ),
        )

    def trial_requeued(self, trial: Trial, reason: str) -> None:
        """The attempt ended unfinished (interrupted, paused): status QUEUED, the reason kept;
        the next run starts a new attempt that resumes after the recorded reports."""
        self._db.execute(
            "UPDATE attempts SET finished_at = ?, status = ?, stop_reason = ? "
            "WHERE trial_index = ? AND attempt = ?",
            (
                time.time(),
                TrialStatus.QUEUED.value,
                reason,
                trial.index,
                self._attempt(trial.index),
            ),
        )

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        self.log(EventKind.SWEEP_FINISHED, reason)

    # -- reading back ------------------------------------------------------------------------
    def load_trials(self) -> list[Trial]:
        """Every trial as of its latest attempt; an unfinished attempt reads as QUEUED."""
        trials: list[Trial] = []
        rows = self._db.execute(
            "SELECT t.trial_index, t.trial_id, t.space_index, t.params, t.inactive, a.attempt, "
            "a.started_at, a.finished_at, a.status, a.value, a.error, a.stop_reason, a.artifacts, "
            f"{self._placement_column()} "
            "FROM trials t JOIN attempts a ON a.trial_index = t.trial_index "
            "WHERE a.attempt = "
            "(SELECT MAX(attempt) FROM attempts b WHERE b.trial_index = t.trial_index) "
            "ORDER BY t.trial_index"
        ).fetchall()
        for (
            index,
            trial_id,
            space,
            params,
            inactive,
            _attempt,
            start,
            end,
            status,
            value,
            error,
            reason,
            art,
            placement,
        ) in rows:
            unfinished = not status or status == TrialStatus.QUEUED.value
            if unfinished:  # an interrupted attempt: why it ended is the attempt's, but a stop
                # decided before the sweep died stays decided (its trial ends STOPPED)
                error, reason = None, self._pending_stop(index)
            trial = Trial(
                index=index,
                params=json.loads(params),
                space_index=space,
                status=TrialStatus(status) if status else TrialStatus.QUEUED,
                value=value,
                error=error,
                stop_reason=reason,
                inactive=frozenset(json.loads(inactive)),
                started_at=start,
                finished_at=end,
                trial_id=trial_id,
                placement=placement,
            )
            # every attempt's reports count: a re-run attempt resumes after them
            trial.reports = self.trial_reports(index)
            if not unfinished:
                trial.artifacts = json.loads(art) if art else {}
            trials.append(trial)
        return trials

    def _pending_stop(self, trial_index: int) -> str | None:
        """The reason of a stop decision on the trial's last report, if that was a stop."""
        row = self._db.execute(
            "SELECT stop, reason FROM reports WHERE trial_index = ? ORDER BY seq DESC LIMIT 1",
            (trial_index,),
        ).fetchone()
        return row[1] if row and row[0] else None

    def reports(self, trial_index: int, attempt: int | None = None) -> list[Report]:
        attempt = self._attempt(trial_index) if attempt is None else attempt
        rows = self._db.execute(
            "SELECT step, value, metrics FROM reports "
            "WHERE trial_index = ? AND attempt = ? ORDER BY seq",
            (trial_index, attempt),
        ).fetchall()
        return [Report(step, math.nan if v is None else v, json.loads(m)) for step, v, m in rows]

    def trial_reports(self, trial_index: int) -> list[Report]:
        """The trial's reports over all its attempts, one per step (the first recorded)."""
        rows = self._db.execute(
            "SELECT step, value, metrics FROM reports WHERE trial_index = ? ORDER BY seq",
            (trial_index,),
        ).fetchall()
        reports: list[Report] = []
        for step, v, m in rows:
            if not reports or step > reports[-1].step:
                reports.append(Report(step, math.nan if v is None else v, json.loads(m)))
        return reports

    def attempts(self, trial_index: int) -> list[dict[str, Any]]:
        """Each attempt of a trial: number, start/end times, status, why it ended, the epoch
        it started from (recorded when it started; a store written before that was recorded:
        from its finished record, else its first report)."""
        rows = self._db.execute(
            "SELECT a.attempt, a.started_at, a.finished_at, a.status, a.error, a.stop_reason, "
            "(SELECT MIN(step) FROM reports r WHERE r.trial_index = a.trial_index "
            f" AND r.attempt = a.attempt), a.artifacts, {self._placement_column()}, "
            f"{self._column('started_from')} "
            "FROM attempts a WHERE a.trial_index = ? ORDER BY a.attempt",
            (trial_index,),
        ).fetchall()
        out = []
        for row in rows:
            attempt, start, end, status, error, reason, first_step, art, placement, began = row
            unfinished = not status or status == TrialStatus.QUEUED.value
            artifacts = json.loads(art) if art else {}
            inner = artifacts.get("attempts") or [{}]
            if began is None:
                began = inner[0].get("started_from_epoch", max(0, (first_step or 1) - 1))
            out.append(
                {
                    "attempt": attempt,
                    "started_at": start,
                    "finished_at": end,
                    "started_from_epoch": began,
                    "status": "INTERRUPTED" if unfinished else status,
                    "ended": error
                    or reason
                    or ("interrupted (the sweep stopped)" if unfinished else status),
                    "retries": inner[1:] if len(inner) > 1 else [],
                    "placement": placement,
                }
            )
        return out

    def attempt_counts(self) -> dict[int, int]:
        """trial index -> how many times it was started (tests assert no completed trial re-ran)."""
        rows = self._db.execute("SELECT trial_index, COUNT(*) FROM attempts GROUP BY trial_index")
        return dict(rows.fetchall())

    def decisions(self) -> list[tuple[str, int, bool, str]]:
        """(trial id, step, stop, reason) of every report, in order."""
        rows = self._db.execute(
            "SELECT t.trial_id, r.step, r.stop, r.reason FROM reports r "
            "JOIN trials t ON t.trial_index = r.trial_index ORDER BY r.seq"
        ).fetchall()
        return [(tid, step, bool(stop), reason) for tid, step, stop, reason in rows]
