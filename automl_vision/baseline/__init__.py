"""The trivial baseline of a sweep's primary metric, and whether the best trial beats it.

``trivial.py`` scores the best constant prediction (the training split's majority class, or its
best constant label set) on the validation split, from labels alone; ``verdict.py`` compares a
trial's value with it and names the likely causes when it does not beat it. Pure Python and
numpy (no torch); imports ``data``, ``space`` and ``metric_catalog`` only.
"""

from automl_vision.baseline.trivial import Baseline, trivial_baseline
from automl_vision.baseline.verdict import (
    BaselineVerdict,
    Cause,
    SweepFacts,
    beats_baseline,
    check_baseline,
    margin,
    recorded_baseline,
)

__all__ = [
    "Baseline",
    "BaselineVerdict",
    "Cause",
    "SweepFacts",
    "beats_baseline",
    "check_baseline",
    "margin",
    "recorded_baseline",
    "trivial_baseline",
]
