"""Seeded stratified train/validation split.

Images are grouped by their rarest label (the class itself for multiclass; for multilabel, the
label of the image that fewest images carry, ties by name; images without labels form one
group). Each group is shuffled with ``numpy.random.default_rng(seed)`` and
``round(len(group) * validation_size)`` of its images go to validation, so every class keeps its
share in both parts. Groups too small to give one image are pooled and the pool is split the
same way. The result depends only on the labels, ``validation_size`` and ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["stratified_split"]


def stratified_split(
    labels: Sequence[tuple[str, ...]], validation_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), each sorted ascending."""
    if not 0.0 < validation_size < 1.0:
        raise ValueError(
            f"validation_size={validation_size!r} is not allowed; it must be in (0, 1)"
        )
    counts: dict[str, int] = {}
    for label in labels:
        for name in label:
            counts[name] = counts.get(name, 0) + 1
    groups: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        key = min(label, key=lambda name: (counts[name], name)) if label else ""
        groups.setdefault(key, []).append(index)
    rng = np.random.default_rng(seed)
    validation: list[int] = []
    pool: list[int] = []
    for key in sorted(groups):
        members = groups[key]
        if round(len(members) * validation_size) == 0:
            pool += members
        else:
            validation += _take(members, validation_size, rng)
    validation += _take(sorted(pool), validation_size, rng)
    val = np.sort(np.asarray(validation, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(labels), dtype=np.int64), val)
    if not len(train) or not len(val):
        raise ValueError(
            f"cannot split {len(labels)} images with validation_size={validation_size}: one part "
            "would be empty; give more images or a separate validation set"
        )
    return train, val


def _take(members: list[int], validation_size: float, rng: np.random.Generator) -> list[int]:
    take = round(len(members) * validation_size)
    return rng.permutation(np.asarray(members, dtype=np.int64))[:take].tolist() if take else []
