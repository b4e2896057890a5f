"""Failures of the machine's storage, told apart from failures of a trial.

A full disk or a read-only output directory is not a trial's fault: counting it as one would
fail every trial in a row and end the sweep as if its configurations were bad. ``storage_problem``
recognises such an error (``OSError`` with ENOSPC / EDQUOT / EROFS anywhere in the exception's
chain, SQLite's "database or disk is full" / "readonly database", torch's "file write failed"
from its zip writer) and says it in one line naming the file; the scheduler then pauses the
sweep (its trials stay resumable) and ``tune`` raises ``StorageError`` with that line.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from pathlib import Path

from automl_vision.faults import fault_point

__all__ = ["StorageError", "check_writable", "storage_problem", "write_atomically"]

_ERRNO_TEXT = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
}
_SQLITE_TEXT = {
    "database or disk is full": "no space left on the device",
    "readonly database": "the file system is read-only",
}
#: torch.save to a path reports a failed write without its errno
_TORCH_WRITE_FAILED = "file write failed"


class StorageError(OSError):
    """The sweep cannot write its files (disk full, read-only). Nothing recorded is lost:
    free space (or make the folder writable) and run the same sweep again to resume it."""


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def storage_problem(err: BaseException, where: str | Path | None = None) -> str | None:
    """One line saying what is wrong with the storage, or None when ``err`` is not about it."""
    for item in _chain(err):
        if isinstance(item, OSError) and item.errno in _ERRNO_TEXT:
            name = item.filename or where
            return f"{_ERRNO_TEXT[item.errno]}" + (f" (writing {name})" if name else "")
        if isinstance(item, sqlite3.OperationalError):
            for text, meaning in _SQLITE_TEXT.items():
                if text in str(item):
                    return meaning + (f" (writing {where})" if where else " (writing sweep.db)")
        if isinstance(item, RuntimeError) and _TORCH_WRITE_FAILED in str(item):
            free = _free_bytes(where)
            if free is not None and free < 64 * 2**20:
                return "no space left on the device" + (f" (writing {where})" if where else "")
    return None


def _free_bytes(where: str | Path | None) -> int | None:
    if where is None:
        return None
    path = Path(where)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stats = os.statvfs(path)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def check_writable(directory: str | Path) -> None:
    """Raise ``StorageError`` naming ``directory`` when files cannot be created in it."""
    directory = Path(directory)
    probe = directory / f".write-test-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        problem = storage_problem(err, directory)
        reason = problem or (err.strerror or str(err)).lower()
        raise StorageError(
            f"cannot write the sweep's files in {directory}: {reason}; choose another "
            "output_dir (--output-dir) or make it writable"
        ) from None


def write_atomically(path: str | Path, data: str | bytes, *, fault: str | None = None) -> Path:
    """``data`` into ``path`` through a temporary file in the same folder, flushed and renamed
    into place: a kill or a full disk leaves the previous file (or none), never a truncated one;
    a link at ``path`` is replaced, not written through. An OSError names ``path``, not the
    temporary file. Every output of a sweep (metrics, plots, reports, caches, checkpoints) is
    written so. ``fault`` names a ``faults.fault_point`` hit between the write and the rename
    (a kill point of the fault suite)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("xb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        if fault is not None:
            fault_point(fault, path)
        os.replace(tmp, path)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from err
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    """Make a rename into ``folder`` durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
