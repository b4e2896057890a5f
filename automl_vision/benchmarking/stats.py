# STAND-IN for issue 29 piece C: replaced at merge
"""Confidence intervals and paired comparisons (stand-in: percentile bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Comparison", "Interval", "compare", "interval"]


@dataclass(frozen=True)
class Interval:
    mean: Any
    ci_low: Any
    ci_high: Any
    n_seeds: int
    n_images: int


@dataclass(frozen=True)
class Comparison:
    difference: float
    ci_low: float
    ci_high: float
    p_value: float


def interval(seed_values: np.ndarray, boot_values: np.ndarray, level: float = 0.95) -> Interval:
    seed_values, boot_values = np.asarray(seed_values), np.asarray(boot_values)
    means = boot_values.mean(axis=0)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return Interval(seed_values.mean(axis=0), low, high, len(seed_values), boot_values.shape[1])


def compare(a_seed, a_boot, b_seed, b_boot, level: float = 0.95) -> Comparison:
    diff = np.asarray(a_boot).mean(0) - np.asarray(b_boot).mean(0)
    alpha = (1 - level) / 2
    low, high = np.quantile(diff, [alpha, 1 - alpha])
    p = min(1.0, 2 * min(float((diff <= 0).mean()), float((diff >= 0).mean())))
    d = float(np.mean(a_seed) - np.mean(b_seed))
    return Comparison(d, float(low), float(high), p)
