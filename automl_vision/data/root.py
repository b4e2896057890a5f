"""The data root: the images a dataset description names stay inside the folder that holds it.

A JSONL file, an MLTable folder, a CSV file, a COCO-style JSON file or a Pascal VOC folder's
annotations name image files; an image folder holds them. Every such file must lie inside the
*data root* — the folder holding the description (the MLTable folder; the folder given, for an
image folder or a VOC folder) — after following symbolic links, unless
the caller allows otherwise (``allow_outside_root``). A description that names a file outside
its root (``../../etc/passwd``, an absolute path elsewhere, an ``azureml://`` URL whose path
climbs out, a symbolic link inside the root that points out) refuses the whole dataset with one
``OutsideDataRootError`` naming the description, the line and the value.

A path is checked by walking it one component at a time and reading symbolic links
(``os.readlink``) instead of following them, so only entries inside the root, and the folders on
the way to it, are ever looked at: nothing outside the root is opened or stat'ed before the
refusal, which reads the same whether the target exists or not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataRoot", "OutsideDataRootError"]

#: symbolic links followed in one path before it is refused as a loop (Linux's limit)
_MAX_LINKS = 40


class OutsideDataRootError(ValueError):
    """A dataset description names a file outside its data root (and outside was not allowed)."""


@dataclass(frozen=True)
class DataRoot:
    """The folder a description's images must stay in.

    ``folder``: the root as given, made absolute; ``real``: the same with its symbolic links
    resolved; ``allow_outside``: no check at all (``allow_outside_root=True``).
    """

    folder: Path
    real: Path
    allow_outside: bool = False

    @classmethod
    def of(cls, folder: str | Path, *, allow_outside: bool = False) -> DataRoot:
        absolute = Path(os.path.abspath(Path(folder).expanduser()))
        return cls(absolute, Path(os.path.realpath(absolute)), allow_outside)

    def contains(self, path: Path) -> bool:
        """Whether the resolved ``path`` is the root or inside it."""
        return path == self.real or self.real in path.parents

    def _may_look_at(self, path: Path) -> bool:
        """Whether ``path`` (symbolic links before its last part resolved) may be stat'ed: it is
        inside the root, or a folder on the way to it (which names nothing of the dataset's)."""
        return (
            self.contains(path)
            or path in self.real.parents
            or path == self.folder
            or path in self.folder.parents
        )

    def _resolved(self, start: Path, parts: tuple[str, ...], refuse: str) -> Path | None:
        """``start`` (resolved) joined with ``parts``, symbolic links resolved; None as soon as
        the walk would look at anything outside the root."""
        current = start
        pending = list(reversed(parts))
        links = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            current = current.parent if name == ".." else current / name
            if not self._may_look_at(current):
                return None
            if name == ".." or not os.path.islink(current):  # lstat: inside, or on the way in
                continue
            links += 1
            if links > _MAX_LINKS:
                raise ValueError(f"{refuse}: too many levels of symbolic links")
            target = Path(os.readlink(current))
            current = Path(target.anchor) if target.is_absolute() else current.parent
            pending += reversed(target.parts[1:] if target.is_absolute() else target.parts)
        return current if self.contains(current) else None

    def start(self, base: str | Path) -> Path:
        """Where a description in folder ``base`` (the root or a folder inside it) starts its
        relative paths: ``base`` with its symbolic links resolved."""
        return Path(os.path.realpath(Path(base).expanduser()))

    def check(self, start: Path, path: Path, *, where: str, what: str, value: str) -> None:
        """Nothing if ``path`` (relative to ``start``, from ``start()``, or absolute) leads
        inside the root or outside is allowed; else an ``OutsideDataRootError`` naming ``where``
        (the description and its line), ``what`` was given there and its ``value``."""
        if self.allow_outside:
            return
        refusal = f"{where}: {what} {value!r}"
        if path.is_absolute():
            start, parts = Path(path.anchor), path.parts[1:]
        else:
            parts = path.parts
        if self._resolved(start, parts, refusal) is None:
            raise OutsideDataRootError(
                f"{refusal} leads outside the data root {str(self.folder)!r}, so the whole dataset "
                "is refused (nothing outside the root was opened); if you trust it, pass "
                "allow_outside_root=True (--allow-outside-root on the command line, "
                "allow_outside_root: true in a job file)"
            )
