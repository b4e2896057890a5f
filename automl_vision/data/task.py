"""The classification task: one label per image, or a set of labels per image."""

from __future__ import annotations

import enum

__all__ = ["Task"]


class Task(str, enum.Enum):
    """``multiclass``: exactly one label per image; ``multilabel``: any set of labels."""

    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"

    @classmethod
    def parse(cls, value: Task | str) -> Task:
        """``Task`` or its name in any case (``"multi-label"`` and ``"multi_label"`` too)."""
        if isinstance(value, Task):
            return value
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "").replace("_", "")
            for member in cls:
                if member.value == key:
                    return member
        raise ValueError(
            f"task={value!r} is not allowed; task must be 'multiclass' or 'multilabel'"
        )

    def __str__(self) -> str:
        return self.value
