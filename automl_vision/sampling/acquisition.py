"""Maximizing expected improvement over a (union of) mixed space(s).

1. Score many candidates: uniform random points of every sub-space and perturbations of the
   best observed points (numeric columns jittered, now and then a categorical re-drawn), all
   snapped to real configurations by the encoder.
2. Polish the best few with L-BFGS-B on their numeric columns (analytic gradient of log EI;
   categorical columns and inactive parameters stay fixed; discrete numeric columns are
   relaxed, then snapped back).
3. Return every distinct scored point, best first, so the caller can skip configurations it
   has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from automl_vision.sampling.encoding import UnitEncoder
from automl_vision.sampling.gp import GaussianProcess, log_expected_improvement

__all__ = ["Candidate", "LogEI", "local_rows", "maximize_log_ei", "score_rows"]

_LOCAL_SCALES = (0.02, 0.08, 0.25)


@dataclass(frozen=True)
class LogEI:
    """log expected improvement of ``model`` over ``best`` (maximization)."""

    model: GaussianProcess
    best: float

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        mean, var = self.model.predict(rows)
        return log_expected_improvement(mean, var, self.best)[0]

    def with_gradient(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var, d_mean, d_var = self.model.predict_with_gradient(rows)
        value, by_mean, by_var = log_expected_improvement(mean, var, self.best)
        return value, by_mean[:, None] * d_mean + by_var[:, None] * d_var


@dataclass(frozen=True)
class Candidate:
    score: float
    row: np.ndarray
    space_index: int


def score_rows(acq: LogEI, rows: np.ndarray, space_index: int) -> list[Candidate]:
    scores = acq(rows) if len(rows) else np.empty(0)
    return [Candidate(float(s), r, space_index) for s, r in zip(scores, rows, strict=True)]


def local_rows(
    encoder: UnitEncoder, anchor: np.ndarray, space_index: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Perturbations of one encoded point (raw: canonicalize before scoring)."""
    rows = np.tile(anchor, (count, 1))
    columns = encoder.numeric_columns(space_index)
    if columns:
        scales = rng.choice(_LOCAL_SCALES, size=(count, 1))
        rows[:, columns] += scales * rng.standard_normal((count, len(columns)))
    n_params = max(len(encoder.dims[space_index]), 1)
    for dim in encoder.categorical_dims(space_index):
        redraw = rng.random(count) < 1.0 / n_params
        noise = rng.random((int(redraw.sum()), len(dim.options)))
        rows[np.ix_(redraw, range(dim.start, dim.start + len(dim.options)))] = noise
    return rows


def _polish(
    acq: LogEI, encoder: UnitEncoder, starts: Sequence[Candidate], max_iter: int
) -> list[Candidate]:
    """L-BFGS-B on the numeric columns of several start points at once (their sum decouples)."""
    if not starts:
        return []
    width = encoder.width
    x0 = np.concatenate([c.row for c in starts])
    lower, upper = x0.copy(), x0.copy()
    for i, cand in enumerate(starts):
        # inactive parameters sit at their constant and stay there
        for column in encoder.active_numeric_columns(cand.row, cand.space_index):
            lower[i * width + column], upper[i * width + column] = 0.0, 1.0
    free = lower < upper
    if not free.any():
        return []

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        rows = flat.reshape(len(starts), width)
        value, grad = acq.with_gradient(rows)
        grad = grad.reshape(-1) * free
        return -float(value.sum()), -grad

    result = optimize.minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(lower, upper, strict=True)),
        options={"maxiter": max_iter},
    )
    rows = result.x.reshape(len(starts), width)
    out: list[Candidate] = []
    for cand, row in zip(starts, rows, strict=True):
        snapped = encoder.canonicalize(row, cand.space_index)
        out.extend(score_rows(acq, snapped, cand.space_index))
    return out


def maximize_log_ei(
    acq: LogEI,
    encoder: UnitEncoder,
    anchors: Sequence[tuple[np.ndarray, int]],
    rng: np.random.Generator,
    *,
    n_random: int = 1024,
    n_local: int = 128,
    n_polish: int = 5,
    max_iter: int = 60,
) -> list[Candidate]:
    """Scored candidates, best first (see the module docstring)."""
    n_spaces = len(encoder.spaces)
    candidates: list[Candidate] = []
    per_space = max(n_random // n_spaces, 64)
    for space_index in range(n_spaces):
        raw = encoder.random_rows(per_space, rng)
        candidates += score_rows(acq, encoder.canonicalize(raw, space_index), space_index)
    for anchor, space_index in anchors:
        raw = local_rows(encoder, anchor, space_index, n_local, rng)
        candidates += score_rows(acq, encoder.canonicalize(raw, space_index), space_index)
    candidates.sort(key=lambda c: -c.score)
    starts: list[Candidate] = []
    for cand in candidates:
        if len(starts) == n_polish:
            break
        if not any(np.array_equal(cand.row, s.row) for s in starts):
            starts.append(cand)
    candidates += _polish(acq, encoder, starts, max_iter)
    candidates.sort(key=lambda c: -c.score)
    return _distinct(candidates)


def _distinct(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The first of each group of identical points (many land on the same snapped or clipped
    point), keeping the order."""
    seen: set[tuple[int, bytes]] = set()
    out = []
    for cand in candidates:
        key = (cand.space_index, cand.row.tobytes())
        if key not in seen:
            seen.add(key)
            out.append(cand)
    return out
