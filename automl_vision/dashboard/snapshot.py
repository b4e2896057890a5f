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

__all__ = ["RunSnapshot", "SnapshotError", "TrialView", "load_snapshot", "store_path"]

STORE_FILENAME = "sweep.db"
MAX_JSON_DEPTH = 32


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
    """The store of a run directory; a ValueError naming the directory when there is none, or
    the file when it is a symbolic link (it would show a store from somewhere else)."""
    path = Path(run_dir) / STORE_FILENAME
    if path.is_symlink():
        raise ValueError(
            f"{path} is a symbolic link; the dashboard reads only a sweep.db that is a file "
            "inside the sweep folder, never a link to another place"
        )
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


class SnapshotError(ValueError):
    """A store whose content the dashboard refuses to show: one line naming the file, the row
    and the field (a store not written by automl-vision, damaged, or made to attack the page)."""


def _refuse(path: Path, where: str, problem: str) -> SnapshotError:
    return SnapshotError(
        f"{path}: {where} {problem}; the dashboard shows only what automl-vision records in a "
        "sweep store"
    )


def _shown(value: Any) -> str:
    """A short, printable form of a stored value for an error line (no control characters)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    return {bytes: "binary data", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _check_json_value(value: Any, path: Path, where: str) -> None:
    """Nesting at most ``MAX_JSON_DEPTH`` deep and every number within a float's range."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _refuse(path, where, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            try:
                float(item)
            except OverflowError:
                raise _refuse(path, where, "holds a number too large for a float") from None
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _json(text: Any, path: Path, where: str, *, mapping: bool = True) -> Any:
    """``text`` parsed as JSON (an object unless ``mapping`` is False), or a ``SnapshotError``."""
    if not isinstance(text, str):
        raise _refuse(path, where, f"is {_kind(text)}, not JSON text")
    try:
        value = json.loads(text)
    except RecursionError:
        raise _refuse(path, where, f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as err:  # invalid JSON, or an integer of thousands of digits
        reason = str(err).split(";")[0]
        raise _refuse(path, where, f"is not valid JSON ({reason})") from None
    if mapping and not isinstance(value, dict):
        raise _refuse(path, where, f"is not a JSON object (got {type(value).__name__})")
    _check_json_value(value, path, where)
    return value


def _typed(value: Any, kinds: tuple[type, ...], path: Path, where: str, wanted: str) -> Any:
    """``value`` when it is one of ``kinds`` (``bool`` never counts as a number)."""
    if isinstance(value, kinds) and not isinstance(value, bool):
        return value
    raise _refuse(path, where, f"must be {wanted}, got {_kind(value)} {_shown(value)}")


def _int(value: Any, path: Path, where: str) -> int:
    return int(_typed(value, (int,), path, where, "a whole number"))


def _text(value: Any, path: Path, where: str) -> str | None:
    return None if value is None else str(_typed(value, (str,), path, where, "text or NULL"))


def _time(value: Any, path: Path, where: str) -> float | None:
    if value is None:
        return None
    number = float(_typed(value, (int, float), path, where, "a time in seconds or NULL"))
    return number if math.isfinite(number) else None


def _num(value: Any, path: Path, where: str) -> float | None:
    if value is None:
        return None
    number = float(_typed(value, (int, float), path, where, "a number or NULL"))
    return number if math.isfinite(number) else None


def _meta(rows: list[tuple[Any, Any]], path: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, text in rows:
        name = _typed(key, (str,), path, "a meta key", "text")
        meta[name] = _json(text, path, f"meta {name!r}", mapping=False)
    goal = meta.get("goal", "maximize")
    if goal not in ("maximize", "minimize"):
        raise _refuse(path, "meta 'goal'", f"must be 'maximize' or 'minimize', got {_shown(goal)}")
    if meta.get("primary_metric") is not None:
        _typed(meta["primary_metric"], (str,), path, "meta 'primary_metric'", "text")
    for key in ("definition", "settings"):
        _typed(meta.get(key) or {}, (dict,), path, f"meta {key!r}", "a JSON object")
    return meta


def _trial(row: tuple[Any, ...], path: Path) -> TrialView:
    index = _int(row[0], path, "trial_index of a trial")
    where = f"trial {index}:"
    return TrialView(
        index=index,
        trial_id=str(_typed(row[1], (str,), path, f"{where} trial_id", "text")),
        params=_json(row[2], path, f"{where} params"),
        attempt=_int(row[3], path, f"{where} attempt"),
        started_at=_time(row[4], path, f"{where} started_at"),
        finished_at=_time(row[5], path, f"{where} finished_at"),
        status=str(_typed(row[6], (str,), path, f"{where} status", "text")),
        value=_num(row[7], path, f"{where} value"),
        error=_text(row[8], path, f"{where} error"),
        stop_reason=_text(row[9], path, f"{where} stop_reason"),
        artifacts=_json(row[10], path, f"{where} artifacts") if row[10] else {},
    )


def load_snapshot(run_dir: str | Path) -> RunSnapshot:
    """Everything recorded so far in ``run_dir``'s store, read in one read transaction.

    Every value is checked for the type the store writes (and JSON for nesting and number
    range) before anything shows it: a store holding anything else raises ``SnapshotError``
    naming the file, the row and the field. Text is shown as it is and escaped by the renderer.
    """
    path = store_path(run_dir)
    db = _connect(path)
    try:
        db.execute("BEGIN")  # one consistent view of the WAL for all the queries below
        meta = _meta(db.execute("SELECT key, value FROM meta").fetchall(), path)
        rows = db.execute(
            "SELECT t.trial_index, t.trial_id, t.params, a.attempt, a.started_at, a.finished_at, "
            "COALESCE(a.status, 'RUNNING'), a.value, a.error, a.stop_reason, a.artifacts "
            "FROM trials t JOIN attempts a ON a.trial_index = t.trial_index "
            "WHERE a.attempt = (SELECT MAX(attempt) FROM attempts b "
            "WHERE b.trial_index = t.trial_index) ORDER BY t.trial_index"
        ).fetchall()
        trials = {view.index: view for view in (_trial(r, path) for r in rows)}
        for seq, index, attempt, step, value, metrics, stop, reason in db.execute(
            "SELECT seq, trial_index, attempt, step, value, metrics, stop, reason "
            "FROM reports ORDER BY seq"
        ):
            trial = trials.get(index)
            if trial is None or attempt != trial.attempt:
                continue
            where = f"report {seq}:"
            trial.steps.append(_int(step, path, f"{where} step"))
            trial.values.append(_num(value, path, f"{where} value"))
            trial.metrics.append(_json(metrics, path, f"{where} metrics"))
            trial.decisions.append(_text(reason, path, f"{where} reason") or "")
            trial.stopped_by_policy = trial.stopped_by_policy or bool(
                _int(stop, path, f"{where} stop")
            )
        events = [
            (
                _time(t, path, f"event {seq}: time") or 0.0,
                str(_typed(k, (str,), path, f"event {seq}: kind", "text")),
                str(_typed(m, (str,), path, f"event {seq}: message", "text")),
            )
            for seq, t, k, m in db.execute(
                "SELECT seq, time, kind, message FROM events ORDER BY seq"
            )
        ]
        db.execute("COMMIT")
    except sqlite3.DatabaseError as err:
        raise SnapshotError(
            f"{path} is not a readable sweep store (SQLite: {err}); it is corrupt, truncated or "
            "not a sweep's sweep.db"
        ) from None
    finally:
        db.close()
    return RunSnapshot(Path(run_dir), meta, list(trials.values()), events)
