"""Bayesian optimization: a Gaussian-process surrogate with expected improvement.

How a proposal is made (pure function of the seed, the history and the prior trials):

1. **Startup.** Until ``n_startup_trials`` trials exist (prior trials count), proposals are the
   points of the seeded, scrambled Sobol sequence (the same as ``rule="sobol"``).
2. **Observations, at their fidelity** (``automl_vision.sampling.fidelity``): a COMPLETED
   trial gives its final value at the full budget and its reports at the levels 1, 3, 9, ...
   below it; a STOPPED trial gives its reports at the levels it reached and its last report
   at the report count it stopped at, **never** a finished trial's value. FAILED trials are
   ignored by the model (no penalty), but their configuration is not proposed again.
   ``prior_trials`` (earlier sweeps) are observations too. Values are turned into "higher is
   better" by the goal and standardized. At most ``max_observations`` (default 150) enter
   the model: each trial's best-informed observation first (see ``cap_observations``).
3. **Model.** A GP in the unit cube of ``UnitEncoder`` (log scales via the distributions'
   CDF, one-hot categoricals, inactive conditional parameters held at a constant so they are
   not dimensions for the trials that lack them), hyperparameters by MAP. ``fidelity``:
   ``"joint"`` adds the column ``u = log(reports) / log(R)`` and the model is asked at
   ``u = 1`` (the full budget) when proposing; ``"rung"`` models the values at the highest
   level with at least ``max(6, dimensions + 2)`` observations (the full budget once enough
   trials finished). Either way proposals are for the full budget, with any policy.
4. **Pending trials.** QUEUED and RUNNING trials are added with the model's own prediction as
   their value ("kriging believer"), and the incumbent becomes the best of the observed and
   believed values: the uncertainty there collapses and nothing is left to improve on next to
   them, so concurrent proposals spread out instead of piling onto one point.
5. **Acquisition.** log expected improvement over the best predicted full-budget value among
   the observed configurations, maximized over random and local candidates plus L-BFGS-B
   polishing. The best candidate not already in the history is proposed; when the union of
   spaces is finite and small, every unseen configuration is scored instead, so discrete spaces
   never get a duplicate (and ``ask`` returns None once every configuration has been tried).

GP + EI was chosen over TPE, and the fidelity model, by measurement: see
``benchmarks/RESULTS.md``.
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
from automl_vision.sampling.fidelity import (
    FidelityModel,
    Observation,
    cap_observations,
    full_resource,
    trial_observations,
)
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
# observations a GP is fitted to at most (its cost grows with their cube)
_MAX_OBSERVATIONS = 150


@dataclass(frozen=True)
class _Point:
    space_index: int
    params: dict[str, Any]


def _finite_value(trial: Trial, goal: PrimaryMetricGoal) -> float | None:
    if trial.status not in (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.PAUSED):
        return None
    value = trial.result(goal)
    return value if value is not None and math.isfinite(value) else None


class _AtFullFidelity:
    """A joint model seen as a model of the configuration alone, at ``u = 1``."""

    def __init__(self, model: GaussianProcess) -> None:
        self.model = model

    @staticmethod
    def _rows(x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return np.hstack([x, np.ones((len(x), 1))])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict(self._rows(x))

    def predict_with_gradient(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        mean, var, d_mean, d_var = self.model.predict_with_gradient(self._rows(x))
        return mean, var, d_mean[:, :-1], d_var[:, :-1]

    def condition_on(self, x: np.ndarray, y: np.ndarray) -> _AtFullFidelity:
        return _AtFullFidelity(self.model.condition_on(self._rows(x), y))


def standardize(y: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance (a constant vector becomes zeros)."""
    spread = float(y.std())
    return (y - y.mean()) / (spread if spread > 0 else 1.0)


class BayesianParameterSampling(Sampler):
    """GP + expected-improvement sampler (see the module docstring).

    ``prior_trials`` are trials of earlier sweeps (warm start). Those whose parameters no
    sub-space contains are skipped; ``skipped_prior_trials`` counts them.
    ``n_startup_trials`` (default 8, at least 2) quasi-random trials come first.
    ``fidelity``: ``"joint"`` or ``"rung"`` (see the module docstring); ``max_observations``
    caps the model's data.
    """

    def __init__(
        self,
        parameter_space: Any,
        *,
        seed: int | None = None,
        prior_trials: Iterable[Trial] = (),
        n_startup_trials: int | None = None,
        fidelity: FidelityModel | str = FidelityModel.JOINT,
        max_observations: int = _MAX_OBSERVATIONS,
    ) -> None:
        super().__init__(parameter_space, seed=seed)
        self.fidelity = FidelityModel.parse(fidelity, "fidelity")
        if int(max_observations) < 2:
            raise ValueError(f"max_observations must be >= 2, got {max_observations!r}")
        self.max_observations = int(max_observations)
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
    ) -> tuple[list[_Point], list[list[Observation]], list[_Point]]:
        """Each observed configuration with its observations (highest fidelity first), and
        the pending configurations."""
        full = full_resource([*(t for _, t in self.prior_trials), *history])
        points: list[_Point] = []
        observations: list[list[Observation]] = []
        pending: list[_Point] = []
        for order, (point, trial) in enumerate(self.prior_trials):
            found = trial_observations(trial, goal, full, order - len(self.prior_trials))
            if found:
                points.append(point)
                observations.append(found)
        for order, trial in enumerate(history):
            if trial.status in _PENDING:
                located = self._locate(trial)
                if located is not None:
                    pending.append(located)
                continue
            found = trial_observations(trial, goal, full, order)
            if not found:
                continue
            located = self._locate(trial)
            if located is not None:
                points.append(located)
                observations.append(found)
        return points, observations, pending

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
        points, observations, pending = self._observations(history, goal)
        n_live = sum(t.status is not TrialStatus.FAILED for t in history)
        n_prior = sum(_finite_value(t, goal) is not None for _, t in self.prior_trials)
        if len(points) < 2 or n_live + n_prior < self.n_startup_trials:
            return self._startup.suggest(history, goal, rng)
        # the matrices are small: one BLAS thread is several times faster than many threads
        # competing with training workers, and the result does not depend on the thread count
        with threadpool_limits(limits=1, user_api="blas"):
            return self._propose(points, observations, pending, history, rng)

    def _model(
        self, points: Sequence[_Point], observations: Sequence[Sequence[Observation]]
    ) -> tuple[Any, np.ndarray]:
        """The fitted model (as a model of the configuration at the full budget) and the
        encodings of the observed configurations."""
        x_points = self._encode(points)
        if self.fidelity is FidelityModel.RUNG:
            return self._rung_model(x_points, observations)
        kept = cap_observations(observations, self.max_observations)
        x = np.array([np.append(x_points[i], observations[i][k].fidelity) for i, k in kept])
        y = standardize(np.array([observations[i][k].value for i, k in kept]))
        return _AtFullFidelity(GaussianProcess.fit(x, y)), x_points

    def _rung_model(
        self, x_points: np.ndarray, observations: Sequence[Sequence[Observation]]
    ) -> tuple[Any, np.ndarray]:
        """BOHB's choice: the highest report count with enough observations (the full
        budget counts as one level), a GP on the values there."""
        needed = max(6, self.encoder.width + 2)
        by_level: dict[int, list[tuple[int, float]]] = {}
        for i, found in enumerate(observations):
            for obs in found:
                level = -1 if obs.fidelity >= 1.0 else obs.resource  # -1: the full budget
                by_level.setdefault(level, []).append((i, obs.value))
        ranked = sorted(by_level, key=lambda lv: (lv != -1, -lv))  # full budget, then highest
        chosen = next((lv for lv in ranked if len(by_level[lv]) >= needed), None)
        if chosen is None:
            chosen = max(by_level, key=lambda lv: (len(by_level[lv]), lv == -1, lv))
        rows = by_level[chosen][-self.max_observations :]
        x = x_points[[i for i, _ in rows]]
        y = standardize(np.array([v for _, v in rows]))
        return GaussianProcess.fit(x, y), x_points

    def _propose(
        self,
        points: Sequence[_Point],
        observations: Sequence[Sequence[Observation]],
        pending: Sequence[_Point],
        history: Sequence[Trial],
        rng: np.random.Generator,
    ) -> Suggestion | None:
        seen = seen_keys(history)
        finite = self._finite_candidates()
        if self._exhausted(finite, seen):
            return None
        model, x, value = self._believing(points, observations, pending)
        predicted = value[: len(x)]
        acq = LogEI(model, float(value.max()))
        if finite is not None:
            return self._best_unseen(acq, finite, seen)
        top = np.argsort(-predicted, kind="stable")[:5]
        anchors = [(x[i], points[i].space_index) for i in top]
        for cand in maximize_log_ei(acq, self.encoder, anchors, rng)[:_DECODE_TRIES]:
            config = self.encoder.decode(cand.row, cand.space_index)
            if config_key(config) not in seen:
                return Suggestion(config, cand.space_index)
        return unseen_suggestion(self.spaces, seen, rng)

    @staticmethod
    def _exhausted(finite: tuple[list[Suggestion], np.ndarray] | None, seen: set[Any]) -> bool:
        """Whether every configuration of a finite space has been tried."""
        return finite is not None and all(config_key(s.params) in seen for s in finite[0])

    def _believing(
        self,
        points: Sequence[_Point],
        observations: Sequence[Sequence[Observation]],
        pending: Sequence[_Point],
    ) -> tuple[Any, np.ndarray, np.ndarray]:
        """The model of the observations (``_model``), the encoded points, and the predicted
        values at the points then at the pending ones. The model believes itself at pending
        points (kriging believer): their value becomes known to it, so there is nothing left
        to improve on at or right next to them."""
        model, x = self._model(points, observations)
        value = model.predict(x)[0]
        if pending:
            x_pending = self._encode(pending)
            believed = model.predict(x_pending)[0]
            model = model.condition_on(x_pending, believed)
            value = np.concatenate([value, believed])
        return model, x, value

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
            f"n_startup_trials={self.n_startup_trials}, prior_trials={len(self.prior_trials)}, "
            f"fidelity={self.fidelity.value!r})"
        )
