"""Multi-objective Bayesian optimization when only the first objective is expensive.

The first objective (the trained metric, e.g. accuracy) is what trials measure; the others
(e.g. latency, parameter count) are *known before training*: ``known(params)`` returns them
for any configuration. So only the first objective is modelled; the others enter exactly.

How a proposal is made (a pure function of the seed, the history and ``known``):

1. **Startup, observations, model, pending trials, failed trials**: exactly as
   ``BayesianParameterSampling`` (Sobol start-up; completed and stopped trials at their fidelity;
   FAILED trials ignored by the model and never proposed again; pending trials believed at the
   model's prediction). The GP models the first objective, "higher is better", standardized.
2. **The current front**: every observed or pending configuration as (the model's predicted
   full-budget value, its known objectives); the non-dominated ones form the front.
3. **Acquisition** over candidates (uniform points of every sub-space plus perturbations of the
   front's configurations, or every unseen configuration of a small finite space), each with its
   known objectives computed by ``known``:

   - ``EHVI`` (two objectives): the expected hypervolume improvement in closed form. With the
     cheap cost ``c`` exact and the expensive value ``Y ~ N(mu, s^2)``, and the front sorted by
     value ``a_1 < ... < a_m`` (so costs ``c_1 < ... < c_m``), ``a_0`` the reference value,
     ``c_{m+1}`` the reference cost, ``a_{m+1} = +inf``:
     ``EHVI = sum_j max(c_j - c, 0) * (psi(a_{j-1}) - psi(a_j))`` with
     ``psi(b) = E[(Y - b)^+] = s * (phi(z) + z * Phi(z))``, ``z = (mu - b) / s``.
   - ``SCALARIZATION`` (any number of objectives, ParEGO-style): one random weight vector per
     proposal (from the proposal's generator), the augmented Chebyshev scalarization of the
     objectives scaled to [0, 1] over the observed points, and its expected improvement over the
     best observed scalarized value, by Monte Carlo over the GP's predictive distribution (64
     common normal draws).

   The best candidate not already in the history is proposed.

Reference point (EHVI): the value reference is the lowest predicted value among the observed
points minus a quarter of a standard deviation (so the cheapest observed point still adds
volume); a cheap objective's reference is ``reference[name]`` when given, else its worst observed
value plus 10% of its observed range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import special

from automl_vision.enums import ChoiceEnum
from automl_vision.pareto import Objective, Objectives, parse_objectives
from automl_vision.sampling.acquisition import local_rows
from automl_vision.sampling.base import Suggestion
from automl_vision.sampling.bayesian import BayesianParameterSampling, _Point
from automl_vision.sampling.configs import config_key, seen_keys
from automl_vision.sampling.fidelity import FidelityModel, Observation
from automl_vision.sampling.random import unseen_suggestion
from automl_vision.trial import Trial

__all__ = [
    "DeferredKnown",
    "KnownObjectives",
    "MultiObjectiveAcquisition",
    "ParetoBayesianSampling",
    "ehvi_2d",
]

#: returns the cheap objectives of a configuration (its active parameters), by name
KnownObjectives = Callable[[Mapping[str, Any]], Mapping[str, float]]

_N_RANDOM = 512
_N_LOCAL = 64
_N_ANCHORS = 5
_MC_DRAWS = 64
_CHEBYSHEV_RHO = 0.05
_REFERENCE_MARGIN = 0.25  # standard deviations of the standardized expensive objective


class MultiObjectiveAcquisition(ChoiceEnum):
    """How candidates are scored (see the module docstring)."""

    EHVI = "ehvi"
    SCALARIZATION = "scalarization"


def _psi(mean: np.ndarray, sd: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """``E[(Y - bound)^+]`` for ``Y ~ N(mean, sd^2)``, broadcast."""
    with np.errstate(invalid="ignore"):
        z = (mean - bound) / sd
        out = sd * (np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) + z * special.ndtr(z))
    return np.where(np.isinf(bound), 0.0, np.nan_to_num(out, nan=0.0))


def ehvi_2d(
    mean: np.ndarray,
    sd: np.ndarray,
    cost: np.ndarray,
    front: np.ndarray,
    reference: tuple[float, float],
) -> np.ndarray:
    """Expected hypervolume improvement of candidates whose value ~ N(mean, sd^2) is maximized
    and whose ``cost`` (exact) is minimized, over ``front`` (rows (value, cost)), against
    ``reference`` (value lower bound, cost upper bound). Closed form (module docstring)."""
    ref_a, ref_c = reference
    f = np.asarray(front, dtype=float).reshape(-1, 2)
    f = f[(f[:, 0] > ref_a) & (f[:, 1] < ref_c)]
    # the non-dominated points, by value ascending (their costs then ascend too)
    f = f[np.lexsort((f[:, 1], f[:, 0]))]
    keep = np.ones(len(f), dtype=bool)
    best_cost = math.inf
    for i in range(len(f) - 1, -1, -1):  # from the highest value down: cost must drop
        keep[i] = f[i, 1] < best_cost
        best_cost = min(best_cost, f[i, 1])
    f = f[keep]
    levels = np.concatenate([[ref_a], f[:, 0], [math.inf]])  # a_0 .. a_{m+1}
    costs = np.append(f[:, 1], ref_c)  # c_1 .. c_{m+1}
    mean, sd = np.asarray(mean, float)[:, None], np.maximum(np.asarray(sd, float), 1e-12)[:, None]
    psi = _psi(mean, sd, levels[None, :])
    width = np.maximum(costs[None, :] - np.asarray(cost, float)[:, None], 0.0)
    return (width * (psi[:, :-1] - psi[:, 1:])).sum(axis=1)


class DeferredKnown:
    """A ``known`` whose source exists only once the sweep runs (a sweep's deployment metrics are
    measured by the running sweep, not by its plan): the plan builds the sampler with this,
    the sweep ``bind``s the source before the first suggestion. Called unbound, it raises."""

    def __init__(self) -> None:
        self._source: KnownObjectives | None = None

    def bind(self, source: KnownObjectives) -> None:
        """Answer every later call with ``source(params)`` (a new bind replaces the old)."""
        if not callable(source):
            raise ValueError(f"source={source!r} is not allowed; it must be a function of params")
        self._source = source

    @property
    def bound(self) -> bool:
        return self._source is not None

    def __call__(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        if self._source is None:
            raise RuntimeError(
                "the known objectives are not bound yet: a planned multi-objective sampler is "
                "used by running its sweep (run_plan binds the deployment measurement)"
            )
        return self._source(params)


class ParetoBayesianSampling(BayesianParameterSampling):
    """GP on the expensive (first) objective, EHVI or random scalarizations over the front
    (module docstring). ``objectives``: ``{"accuracy": "max", "latency_ms": "min"}`` or
    ``Objective`` records, the first the trained metric (its goal is the sweep's goal);
    ``known(params)`` gives every other objective of a configuration before training.
    ``reference``: optional reference values of the cheap objectives (EHVI)."""

    def __init__(
        self,
        parameter_space: Any,
        objectives: Objectives,
        known: KnownObjectives,
        *,
        seed: int | None = None,
        acquisition: MultiObjectiveAcquisition | str = MultiObjectiveAcquisition.EHVI,
        reference: Mapping[str, float] | None = None,
        prior_trials: Iterable[Trial] = (),
        n_startup_trials: int | None = None,
        fidelity: FidelityModel | str = FidelityModel.JOINT,
        max_observations: int = 150,
    ) -> None:
        super().__init__(
            parameter_space,
            seed=seed,
            prior_trials=prior_trials,
            n_startup_trials=n_startup_trials,
            fidelity=fidelity,
            max_observations=max_observations,
        )
        self.objectives: tuple[Objective, ...] = parse_objectives(objectives)
        if len(self.objectives) < 2:
            raise ValueError(
                f"objectives={[o.name for o in self.objectives]}: a multi-objective sampler needs "
                "the trained metric first and at least one objective known before training"
            )
        if not callable(known):
            raise ValueError(f"known={known!r} is not allowed; it must be a function of params")
        self.known = known
        self.acquisition = MultiObjectiveAcquisition.parse(acquisition, "acquisition")
        if self.acquisition is MultiObjectiveAcquisition.EHVI and len(self.objectives) != 2:
            raise ValueError(
                f"acquisition='ehvi' takes exactly two objectives, got {len(self.objectives)}; "
                "use acquisition='scalarization' for more"
            )
        cheap = {o.name for o in self.objectives[1:]}
        unknown = sorted(set(reference or {}) - cheap)
        if unknown:
            raise ValueError(
                f"reference: {unknown[0]!r} is not a known objective; allowed: {sorted(cheap)}"
            )
        self.reference = dict(reference or {})

    # -- the cheap objectives ------------------------------------------------------------------
    def _costs(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """N x K: the known objectives, oriented so that lower is better."""
        out = np.empty((len(configs), len(self.objectives) - 1))
        for i, config in enumerate(configs):
            values = self.known(config)
            for k, obj in enumerate(self.objectives[1:]):
                if obj.name not in values:
                    raise ValueError(f"known(params) has no value for the objective {obj.name!r}")
                value = float(values[obj.name])
                if not math.isfinite(value):
                    raise ValueError(f"known(params)[{obj.name!r}] = {value!r} is not finite")
                out[i, k] = -obj.goal.sign * value
        return out

    def _cost_reference(self, observed: np.ndarray) -> np.ndarray:
        low, high = observed.min(axis=0), observed.max(axis=0)
        ref = high + 0.1 * np.where(high > low, high - low, 1.0)
        for k, obj in enumerate(self.objectives[1:]):
            if obj.name in self.reference:
                ref[k] = -obj.goal.sign * float(self.reference[obj.name])
        return ref

    # -- proposing -----------------------------------------------------------------------------
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
        costs = self._costs([p.params for p in [*points, *pending]])
        front = _front_indices(value, costs)

        if finite is not None:
            items, rows = finite
            unseen = [i for i, s in enumerate(items) if config_key(s.params) not in seen]
            cand_rows = rows[unseen]
            cand = [(items[i].params, items[i].space_index) for i in unseen]
        else:
            cand_rows, cand = self._candidates(x, points, front, rng)
        mean, var = model.predict(cand_rows)
        sd = np.sqrt(np.maximum(var, 1e-12))
        cand_costs = self._costs([c for c, _ in cand])
        if self.acquisition is MultiObjectiveAcquisition.EHVI:
            ref = (float(value.min()) - _REFERENCE_MARGIN, float(self._cost_reference(costs)[0]))
            scores = ehvi_2d(mean, sd, cand_costs[:, 0], np.column_stack([value, costs[:, 0]]), ref)
        else:
            scores = self._scalarized_ei(mean, sd, cand_costs, value, costs, rng)
        # ties (e.g. every score 0) go to the higher predicted value
        order = np.lexsort((-mean, -scores))
        for i in order:
            config, space_index = cand[i]
            if config_key(config) not in seen:
                return Suggestion(dict(config), space_index)
        return unseen_suggestion(self.spaces, seen, rng)

    def _candidates(
        self,
        x: np.ndarray,
        points: Sequence[_Point],
        front: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, list[tuple[dict[str, Any], int]]]:
        """Random points of every sub-space and perturbations of front configurations, snapped
        to real configurations, duplicates dropped."""
        blocks: list[tuple[np.ndarray, int]] = []
        per_space = max(_N_RANDOM // len(self.spaces), 64)
        for space_index in range(len(self.spaces)):
            raw = self.encoder.random_rows(per_space, rng)
            blocks.append((self.encoder.canonicalize(raw, space_index), space_index))
        anchors = [i for i in front if i < len(points)]
        if len(anchors) > _N_ANCHORS:
            anchors = list(rng.choice(anchors, size=_N_ANCHORS, replace=False))
        for i in anchors:
            space_index = points[i].space_index
            raw = local_rows(self.encoder, x[i], space_index, _N_LOCAL, rng)
            blocks.append((self.encoder.canonicalize(raw, space_index), space_index))
        rows: list[np.ndarray] = []
        cand: list[tuple[dict[str, Any], int]] = []
        keys: set[Any] = set()
        for block, space_index in blocks:
            for row in block:
                config = self.encoder.decode(row, space_index)
                key = (space_index, config_key(config))
                if key not in keys:
                    keys.add(key)
                    rows.append(row)
                    cand.append((config, space_index))
        return np.array(rows), cand

    def _scalarized_ei(
        self,
        mean: np.ndarray,
        sd: np.ndarray,
        cand_costs: np.ndarray,
        value: np.ndarray,
        costs: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Expected improvement of the augmented Chebyshev scalarization (lower is better) with
        one random weight vector, by Monte Carlo over the expensive objective."""
        n_obj = len(self.objectives)
        weights = rng.dirichlet(np.ones(n_obj))
        draws = rng.standard_normal(_MC_DRAWS)
        observed = np.column_stack([-value, costs])  # all "lower is better"
        low, high = observed.min(axis=0), observed.max(axis=0)
        span = np.where(high > low, high - low, 1.0)

        def scalarize(f: np.ndarray) -> np.ndarray:  # f: (..., n_obj)
            g = weights * (f - low) / span
            return g.max(axis=-1) + _CHEBYSHEV_RHO * g.sum(axis=-1)

        best = float(scalarize(observed).min())
        samples = -(mean[:, None] + sd[:, None] * draws[None, :])  # N x D, lower is better
        f = np.concatenate(
            [
                samples[..., None],
                np.broadcast_to(cand_costs[:, None, :], (*samples.shape, n_obj - 1)),
            ],
            axis=-1,
        )
        return np.maximum(best - scalarize(f), 0.0).mean(axis=1)

    def __repr__(self) -> str:
        names = [o.name for o in self.objectives]
        return (
            f"ParetoBayesianSampling(objectives={names}, seed={self.seed}, "
            f"acquisition={self.acquisition.value!r}, n_startup_trials={self.n_startup_trials})"
        )


def _front_indices(value: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of (value maximized, costs minimized)."""
    y = np.column_stack([value, -costs])  # higher is better everywhere
    out = []
    for i in range(len(y)):
        dominated = np.all(y >= y[i], axis=1) & np.any(y > y[i], axis=1)
        if not dominated.any():
            out.append(i)
    return np.array(out, dtype=int)
