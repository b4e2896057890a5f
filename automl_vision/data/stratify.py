# STAND-IN for issue 29 piece A: replaced at merge
"""Seeded train/validation/test split (stand-in: a plain seeded permutation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["iterative_split"]


def iterative_split(
    labels: Sequence[tuple[str, ...]], fractions: Sequence[float], seed: int
) -> list[np.ndarray]:
    """Parts in the order of ``fractions``, each a sorted int64 index array."""
    n = len(labels)
    if not fractions or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be positive and sum to 1, got {list(fractions)}")
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.round(np.cumsum(fractions) * n).astype(int)
    parts, start = [], 0
    for i, end in enumerate(bounds):
        part = np.sort(order[start:end]).astype(np.int64)
        if not len(part):
            raise ValueError(f"fractions: part {i} of {n} images would be empty")
        parts.append(part)
        start = end
    return parts
