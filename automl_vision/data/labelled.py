"""``LabelledImages``: images with their labels, not yet decoded, as every reader returns them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LabelledImages", "concat"]


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """Images with their labels, not yet decoded.

    ``images`` is a tuple of file paths or one ``N×H×W×C`` uint8 array; ``labels[i]`` is image
    i's labels; ``multilabel`` says whether the source's syntax was multilabel; ``origin`` names
    the source in messages.
    """

    images: tuple[Path, ...] | np.ndarray
    labels: tuple[tuple[str, ...], ...]
    origin: str
    multilabel: bool = False
    class_names: tuple[str, ...] = field(default=())  # known classes beyond those present

    def __post_init__(self) -> None:
        if len(self.images) != len(self.labels):
            raise ValueError(
                f"{self.origin}: {len(self.images)} images but {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def in_memory(self) -> bool:
        return isinstance(self.images, np.ndarray)

    def name(self, index: int) -> str:
        """How image ``index`` is named in messages: its path, or ``origin[index]``."""
        if isinstance(self.images, np.ndarray):
            return f"{self.origin}[{index}]"
        return str(self.images[index])

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabelledImages:
        idx = np.asarray(indices, dtype=np.int64)
        images = (
            self.images[idx]
            if isinstance(self.images, np.ndarray)
            else tuple(self.images[i] for i in idx)
        )
        return LabelledImages(
            images, tuple(self.labels[i] for i in idx), self.origin, self.multilabel,
            self.class_names,
        )  # fmt: skip


def concat(parts: Sequence[LabelledImages], origin: str) -> LabelledImages:
    """One ``LabelledImages`` holding ``parts`` in order (all files, or all arrays)."""
    kinds = {p.in_memory for p in parts}
    if len(kinds) != 1:
        raise ValueError(f"{origin}: cannot mix in-memory arrays and image files")
    if kinds == {True}:
        shapes = {p.images.shape[1:] for p in parts}  # type: ignore[union-attr]
        if len(shapes) != 1:
            raise ValueError(f"{origin}: the arrays' image shapes differ: {sorted(shapes)}")
        images: Any = np.concatenate([p.images for p in parts])
    else:
        images = tuple(path for p in parts for path in p.images)
    names: dict[str, None] = {}
    for p in parts:
        names.update(dict.fromkeys(p.class_names))
    return LabelledImages(
        images,
        tuple(label for p in parts for label in p.labels),
        origin,
        any(p.multilabel for p in parts),
        tuple(names),
    )
