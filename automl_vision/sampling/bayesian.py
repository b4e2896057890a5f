"""Bayesian optimization: a Gaussian-process surrogate with expected improvement.

How a proposal is made (pure function of the seed, the history and the prior trials):

1. **Startup.** Until ``n_startup_trials`` trials exist (prior trials count), proposals are the
   points of the seeded, scrambled Sobol sequence (the same as ``rule="sobol"``).
2. **Observations.** COMPLETED trials give their value; STOPPED trials give their value (the
   last value they reported, i.e. an intermediate value, which is what an early-stopped
   trial is known to reach); FAILED trials are ignored by the model (no penalty), but their
   configuration is not proposed again. ``prior_trials`` (earlier sweeps) are observations
   too. Values are turned into "higher is better" by the goal and standardized.
3. **Model.** A GP in the unit cube of ``UnitEncoder`` (log scales via the distributions'
   CDF, one-hot categoricals, inactive conditional parameters held at a constant so they are
   not dimensions for the trials that lack them), hyperparameters by MAP.
4. **Pending trials.** QUEUED and RUNNING trials are added with the model's own prediction as
   their value ("kriging believer"), and the incumbent becomes the best of the observed and
   believed values: the uncertainty there collapses and nothing is left to improve on next to
   them, so concurrent proposals spread out instead of piling onto one point.
5. **Acquisition.** log expected improvement over the best predicted value among the
   observations, maximized over random and local candidates plus L-BFGS-B polishing. The
   best candidate not already in the history is proposed; when the union of spaces is
   finite and small, every unseen configuration is scored instead, so discrete spaces never
   get a duplicate (and ``ask`` returns None once every configuration has been tried).

GP + EI was chosen over TPE by measurement: see ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from automl_vision.sampling.acquisition import LogEI, maximize_log_ei
from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.combinations import union_combinations
from automl_vision.sampling.configs import config_key, locate, seen_keys, trial_config
from automl_vision.sampling.encoding import UnitEncoder
from automl_vision.sampling.gp import GaussianProcess
from automl_vision.sampling.random import RandomParameterSampling, unseen_suggestion
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["BayesianParameterSampling"]

# a finite union of spaces with at most this many configurations is scored exhaustively
_EXHAUSTIVE_LIMIT = 2048
# how many of the best-scored candidates to try before falling back to an unseen random one
_DECODE_TRIES = 256
_PENDING = (TrialStatus.QUEUED, TrialStatus.RUNNING)
# Sobol trials before the model takes over (8 did as well as 4-10 on the benchmark)
_STARTUP = 8


@dataclass(frozen=True)
class _Point:
    space_index: int
    params: dict[str, Any]


def _finite_value(trial: Trial, goal: PrimaryMetricGoal) -> float | None:
    if trial.status not in (TrialStatus.COMPLETED, TrialStatus.STOPPED):
        return None
    value = trial.result(goal)
    return value if value is not None and math.isfinite(value) else None


def standardize(y: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (a constant vector becomes zeros)."""
    spread = float(y.std())
    return (y - y.mean()) / (spread if spread > 0 else 1.0)


class BayesianParameterSampling(Sampler):
    """GP + expected-improvement sampler (see the module docstring).

    ``prior_trials`` are trials of earlier sweeps (warm start). Those whose parameters no
    sub-space contains are skipped; ``skipped_prior_trials`` counts them.
    ``n_startup_trials`` (default 8, at least 2) quasi-random trials come first.
    """

    def __init__(
        self,
        parameter_space: Any,
        *,
        seed: int | None = None,
        prior_trials: Iterable[Trial] = (),
        n_startup_trials: int | None = None,
    ) -> None:
        super().__init__(parameter_space, seed=seed)
        if n_startup_trials is not None and int(n_startup_trials) < 1:
            raise ValueError(f"n_startup_trials must be >= 1, got {n_startup_trials!r}")
        self.n_startup_trials = max(int(n_startup_trials or _STARTUP), 2)
        self.encoder = UnitEncoder(self.spaces)
        self._startup = RandomParameterSampling(self.spaces, seed=self.seed, rule="sobol")
        self.prior_trials: list[tuple[_Point, Trial]] = []
        self.skipped_prior_trials = 0
        for trial in prior_trials:
            params = trial_config(trial)
            index = locate(params, self.spaces, trial.space_index)
            if index is None:
                self.skipped_prior_trials += 1
                continue
            point = _Point(index, self.spaces[index].active_config(params))
            self.prior_trials.append((point, trial))
        self._finite: tuple[list[Suggestion], np.ndarray] | None = None
        self._finite_known = False
        self._located: dict[Any, _Point | None] = {}
        self._rows: dict[Any, np.ndarray] = {}

    # -- observations --------------------------------------------------------------------------
    def _locate(self, trial: Trial) -> _Point | None:
        """The trial's sub-space and active parameters (memoized: a pure function of them)."""
        params = trial_config(trial)
        key = (trial.space_index, config_key(params))
        if key not in self._located:
            index = locate(params, self.spaces, trial.space_index)
            self._located[key] = (
                None if index is None else _Point(index, self.spaces[index].active_config(params))
            )
        return self._located[key]

    def _observations(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal
    ) -> tuple[list[_Point], list[float], list[_Point]]:
        points, values, pending = [], [], []
        for point, trial in self.prior_trials:
            value = _finite_value(trial, goal)
            if value is not None:
                points.append(point)
                values.append(value)
        for trial in history:
            if trial.status in _PENDING:
                point = self._locate(trial)
                if point is not None:
                    pending.append(point)
                continue
            value = _finite_value(trial, goal)
            if value is None:
                continue
            point = self._locate(trial)
            if point is not None:
                points.append(point)
                values.append(value)
        return points, values, pending

    def _encode(self, points: Sequence[_Point]) -> np.ndarray:
        if not points:
            return np.empty((0, self.encoder.width))
        rows = []
        for p in points:
            key = (p.space_index, config_key(p.params))
            if key not in self._rows:
                self._rows[key] = self.encoder.encode(p.params, p.space_index)
            rows.append(self._rows[key])
        return np.array(rows)

    # -- proposing -----------------------------------------------------------------------------
    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        points, values, pending = self._observations(history, goal)
        n_live = sum(t.status is not TrialStatus.FAILED for t in history)
        n_prior = sum(_finite_value(t, goal) is not None for _, t in self.prior_trials)
        if len(points) < 2 or n_live + n_prior < self.n_startup_trials:
            return self._startup.suggest(history, goal, rng)
        # the matrices are small: one BLAS thread is several times faster than many threads
        # competing with training workers, and the result does not depend on the thread count
        with threadpool_limits(limits=1, user_api="blas"):
            return self._propose(points, values, pending, history, goal, rng)

    def _propose(
        self,
        points: Sequence[_Point],
        values: Sequence[float],
        pending: Sequence[_Point],
        history: Sequence[Trial],
        goal: PrimaryMetricGoal,
        rng: np.random.Generator,
    ) -> Suggestion | None:
        seen = seen_keys(history)
        finite = self._finite_candidates()
        if finite is not None and all(config_key(s.params) in seen for s in finite[0]):
            return None  # every configuration of the finite space has been tried
        x = self._encode(points)
        y = standardize(goal.sign * np.asarray(values, dtype=float))
        model = GaussianProcess.fit(x, y)
        best = float(model.predict(x)[0].max())
        if pending:
            # believe the model at pending points: their value becomes known (to the model),
            # so there is nothing left to improve on at or right next to them
            x_pending = self._encode(pending)
            believed = model.predict(x_pending)[0]
            model = model.condition_on(x_pending, believed)
            best = max(best, float(believed.max()))
        acq = LogEI(model, best)
        if finite is not None:
            return self._best_unseen(acq, finite, seen)
        top = np.argsort(-y, kind="stable")[:5]
        anchors = [(x[i], points[i].space_index) for i in top]
        for cand in maximize_log_ei(acq, self.encoder, anchors, rng)[:_DECODE_TRIES]:
            config = self.encoder.decode(cand.row, cand.space_index)
            if config_key(config) not in seen:
                return Suggestion(config, cand.space_index)
        return unseen_suggestion(self.spaces, seen, rng)

    def _finite_candidates(self) -> tuple[list[Suggestion], np.ndarray] | None:
        """Every configuration of a small finite union with its encoding (computed once)."""
        if not self._finite_known:
            combos = union_combinations(self.spaces, _EXHAUSTIVE_LIMIT)
            if combos is not None:
                items = [Suggestion(config, index) for index, config in combos]
                rows = np.array([self.encoder.encode(s.params, s.space_index) for s in items])
                self._finite = (items, rows)
            self._finite_known = True
        return self._finite

    @staticmethod
    def _best_unseen(
        acq: LogEI, finite: tuple[list[Suggestion], np.ndarray], seen: set[Any]
    ) -> Suggestion | None:
        items, rows = finite
        unseen = [i for i, s in enumerate(items) if config_key(s.params) not in seen]
        if not unseen:
            return None
        scores = acq(rows[unseen])
        return items[unseen[int(np.argmax(scores))]]

    def __repr__(self) -> str:
        return (
            f"BayesianParameterSampling(seed={self.seed}, "
            f"n_startup_trials={self.n_startup_trials}, prior_trials={len(self.prior_trials)})"
        )
