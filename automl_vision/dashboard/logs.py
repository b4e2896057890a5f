"""A trial's log tail, read only from regular files inside its sweep folder.

The page and ``report.html`` show the end of each ``*.log`` / ``*.txt`` file in
``RUN_DIR/trials/TRIAL_ID/``. Whoever can write into a sweep folder must not make them show
another file (``ln -s /etc/passwd trial.log``), so no symbolic link under the sweep folder is
followed: ``trials``, the trial's folder and each file are opened one below the other
(``dir_fd``) with ``O_NOFOLLOW``; a link, a FIFO, a device or a trial id that is not a plain
folder name is refused and shown as a one-line note instead. Only a file's last ``TAIL_BYTES``
are read, so a huge log costs nothing. The sweep folder itself is the one the user named (it may
be a link).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOG_TAIL_LINES", "TAIL_BYTES", "log_tail"]

LOG_TAIL_LINES = 40
TAIL_BYTES = 64 * 1024
SUFFIXES = (".log", ".txt")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once (then fstat refuses it)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_SAFE = os.open in os.supports_dir_fd and os.scandir in os.supports_fd


class _Refused(Exception):
    """A file or folder the dashboard does not read; its message is the note shown instead."""


def _note(name: str, why: str) -> str:
    return (
        f"[{name} not shown: {why}; the dashboard reads only regular files inside the sweep folder]"
    )


@contextlib.contextmanager
def _opened(name: str, dir_fd: int, *, folder: bool) -> Iterator[int]:
    """``name`` (in ``dir_fd``) opened without following a link; ``_Refused`` says why not."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise  # nothing there: no logs, no note
    except OSError as err:
        raise _Refused(err.strerror or str(err)) from None
    if stat.S_ISLNK(info.st_mode):
        raise _Refused("it is a symbolic link")
    wanted = stat.S_ISDIR if folder else stat.S_ISREG
    if not wanted(info.st_mode):
        raise _Refused("it is not a folder" if folder else "it is not a regular file")
    flags = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | (_DIRECTORY if folder else _NONBLOCK)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as err:  # replaced by a link since the check: ELOOP
        raise _Refused(err.strerror or str(err)) from None
    try:
        if not wanted(os.fstat(fd).st_mode):
            raise _Refused("it changed while being opened")
        yield fd
    finally:
        os.close(fd)


def _tail(fd: int, lines: int) -> list[str]:
    size = os.fstat(fd).st_size
    start = max(0, size - TAIL_BYTES)
    os.lseek(fd, start, os.SEEK_SET)
    chunks: list[bytes] = []
    left = TAIL_BYTES
    while left > 0:
        chunk = os.read(fd, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    text = b"".join(chunks).decode("utf-8", errors="replace").splitlines()
    return (text[1:] if start else text)[-lines:]  # a cut first line is left out


def _log_names(folder_fd: int) -> list[str]:
    with os.scandir(folder_fd) as entries:
        names = [e.name for e in entries if e.name.endswith(SUFFIXES)]
    return sorted(names, key=lambda n: (SUFFIXES.index(Path(n).suffix), n))


def _is_folder_name(trial_id: str) -> bool:
    return (
        trial_id not in ("", ".", "..")
        and not any(c in trial_id for c in "/\\\0")
        and len(trial_id.encode("utf-8", "replace")) <= 255
    )


def _root(run_dir: Path) -> int:
    """The sweep folder the user named, opened as a folder (a link to it is the user's choice)."""
    return os.open(run_dir, os.O_RDONLY | _DIRECTORY | _CLOEXEC)


def _files(folder: int, lines: int) -> list[str]:
    texts: list[str] = []
    for name in _log_names(folder):
        try:
            with _opened(name, folder, folder=False) as fd:
                texts.extend(_tail(fd, lines))
        except FileNotFoundError:  # removed since the listing
            continue
        except _Refused as why:
            texts.append(_note(name, str(why)))
        except OSError as err:
            texts.append(_note(name, err.strerror or str(err)))
    return texts


def _read_logs(run_dir: Path, trial_id: str, lines: int) -> list[str]:
    if not _is_folder_name(trial_id):
        return [_note("the trial's logs", "its trial id is not a plain folder name")]
    if not _SAFE:  # no dir_fd here (Windows): no logs rather than logs that might follow links
        return [_note("the trial's logs", "this system cannot open files without following links")]
    try:
        root = _root(run_dir)
    except OSError:
        return []
    try:
        with _opened("trials", root, folder=True) as trials:
            try:
                with _opened(trial_id, trials, folder=True) as folder:
                    return _files(folder, lines)
            except _Refused as why:
                return [_note(f"trials/{trial_id}", str(why))]
    except FileNotFoundError:  # no trials folder or no trial folder (yet): no logs
        return []
    except _Refused as why:
        return [_note("trials", str(why))]
    finally:
        os.close(root)


def log_tail(run_dir: Path, trial_id: str, error: str | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of the trial's log files (each refused file a one-line note),
    then of its error, or ''."""
    texts = _read_logs(run_dir, trial_id, lines)
    if error:
        texts.extend(error.splitlines()[-lines:])
    return "\n".join(texts[-lines:])
