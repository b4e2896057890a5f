"""Search where the schedule is part of the configuration: replay of four recorded curve files,
each trial with its own schedule and its own cost, every method in one harness.

**Files** (``../shared/data/learning_curves``, README.md there):

- ``metaqnn_cifar10.csv`` (1000 CNNs x 20 epochs) and ``deep_resnets_cifar10.csv`` (486 ResNets x
  50 epochs): one schedule per file. Search space, nearest-row mapping and data: those of
  ``benchmarks/multifidelity.py`` (imported). A report per epoch; ``progress`` = epoch / epochs,
  ``cost`` = epochs run (the cost unit is the epoch).
- ``deberta-base_mnli.jsonl`` and ``deberta-v3-base_mnli.jsonl`` (1024 fine-tuning runs each):
  Lourie, Cho, He, "Show Your Work with Confidence: Confidence Bands for Tuning Curves" (2023),
  data from the ``opda`` project, licensed CC BY-SA 4.0 (LICENSE-CC-BY-SA-4.0 beside the files);
  this benchmark replays them unchanged and derives no data set from them. Search space (our
  space DSL): ``num_train_epochs`` choice(1, 2, 3, 4), ``train_batch_size`` quniform(16, 64, 1),
  ``learning_rate`` log-uniform 1e-6..1e-3 (``loguniform(log 1e-6, log 1e-3)``: our bounds are
  exponents), ``warmup_fraction`` uniform(0, 0.6) (warm-up steps
  over the steps of the first epoch, ``warmup_steps / (total_model_steps / num_train_epochs)``)
  and ``cls_drop_out`` uniform(0, 0.3). The validation metric is ``learning_curves.matched``
  (MultiNLI matched accuracy); a trial reports at the row's own steps (every 1,000 steps and at
  the end), ``progress`` = step / total_model_steps. **Cost model**: a training step costs its
  batch size, so cost = steps x train_batch_size / (the file's median batch size), in "median-
  batch steps": cost grows with steps and with the batch size (examples processed; on an
  accelerator a step's time grows about linearly with its batch at these sizes). A full training
  then costs about the examples of its epochs, so 4 epochs cost ~4x one epoch at any batch size.

**Replay** (``ReplayExecutor``): a proposal trains the nearest recorded configuration not yet
started in this run (distances with every coordinate scaled to [0, 1], log for the learning rate
and the CIFAR model sizes; without replacement, so no method pays twice for a row) and replays
ITS OWN curve: each report's metrics carry ``accuracy``, ``PROGRESS_KEY`` and ``COST_KEY``
(cumulative cost). Four trials run at a time in simulated time; a report's simulated duration is
its cost increment times the trial's speed factor (log-normal, sigma 0.2, seeded by the run's
seed and the trial index), so long and large-batch trials report slowly and concurrency
interleaves realistically.

**Budget and regret**: the run stops once 25x one median full training's cost is spent (the
median over the file's rows of the final cost: 20 / 50 epochs on CIFAR, median-batch steps on
DeBERTa). Regret at B (10x and 25x) = the file's best final accuracy - the best final accuracy
among trials that ran their own schedule to its end within the first B cost units spent (a
stopped or still-running trial never counts; none: the regret is the best accuracy itself). The
10x figure is read from the same run (no method here knows its budget). Each record keeps every
completion (cost spent, final accuracy), so the anytime regret (regret against budget spent,
``--plot``) is read back from the results file.

**Methods** (the registry ``METHODS``; a ``Method`` from benchmarks/multiobjective.py builds a
sampler, an early-termination policy and observers for one run):

- ours: ``random`` and ``bayesian`` without early termination, and ``bayesian + hyperband``:
  ``tune()``'s default (``planning.defaults.default_policy(max_reports)``: Hyperband, every
  bracket, first rung at about a ninth of the file's longest trial's reports). The samplers are
  built by ``create_sampler``, the factory ``optimize(sampling=...)`` uses. The public
  ``optimize`` cannot drive this replay: it runs the objective in real threads (no simulated
  clock, so 4 concurrent trials would interleave by wall time, not by cost, and not
  reproducibly) and its ``report(step, value)`` cannot yet carry progress and cost. So, like
  benchmarks/multifidelity.py, the runs use the sweep's own ``Scheduler`` with the same sampler
  and policy objects ``optimize`` would build. ``ours(sampling, policy)`` is the hook for a new
  policy: ``policy(problem)`` returns the policy for one file (e.g. a curve-model policy).
- Optuna 5 (project venv), one study as sampler and pruner: ``TPESampler(seed)``, the same with
  ``HyperbandPruner(min_resource=1, max_resource=the file's most reports, reduction_factor=3)``,
  and ``GPSampler(seed)``; pruning steps are report indices.
- Syne Tune 0.13 (its own venv): ``ASHA``, ``BOHB``, ``MOBSTER`` and ``HyperTune`` with their
  recommended multi-fidelity settings (``type="stopping"``, ``grace_period=1``,
  ``reduction_factor=3``), driven by multifidelity.py's ``SyneTuneMethod`` pattern.
- Resources for the peers: the report index (``resource_attr="epoch"``, ``max_t`` = the file's
  most reports; Optuna's pruning step). It is the epoch on CIFAR and, on DeBERTa, thousands of
  training steps (reports come every 1,000 steps): the file's natural unit, the integer
  resource their rungs are defined on, and the resource our Hyperband uses today. Their rungs
  then sit at the same step for a 1-epoch and a 4-epoch trial: the problem this benchmark shows.
- DEHB 0.1.2 (``DEHBReplay``; its own venv, e.g. ``python -m venv /tmp/dehb-smac-venv`` then
  ``pip install dehb numpy scipy pydantic pyyaml matplotlib threadpoolctl rich pillow``): its
  ask/tell interface, a job = a trial stopped at its fidelity (in reports). SMAC3 2.4.1's
  ``MultiFidelityFacade`` (``SMACReplay``, same venv) the same way. Both retrain a promoted
  configuration from scratch, so it replays (and pays for) its own row again.
- Not run (listed with ``skipped: why``): Syne Tune's ``DyHPO`` (a pause-and-resume scheduler:
  its ``suggest`` resumes paused trials, which this sampler/policy adapter cannot express).

Runs go to JSON-lines (one line per file x method x seed; new runs appended, done ones skipped)::

    python benchmarks/schedules.py CURVES_DIR --seeds 20 --workers 1 \\
        --methods random bayesian "bayesian + hyperband" "optuna TPE" \\
        "optuna TPE + HyperbandPruner" "optuna GP" --results ours.jsonl
    PYTHONPATH=. /tmp/synetune-venv/bin/python benchmarks/schedules.py CURVES_DIR --seeds 20 \\
        --workers 1 --methods "syne-tune ASHA" "syne-tune BOHB" "syne-tune MOBSTER" \\
        "syne-tune HyperTune" --results st.jsonl
    PYTHONPATH=. /tmp/dehb-smac-venv/bin/python benchmarks/schedules.py CURVES_DIR --seeds 20 \\
        --workers 1 --methods DEHB "SMAC3 multi-fidelity" --results dehb.jsonl
    python benchmarks/schedules.py CURVES_DIR --seeds 20 --table --plot plots/ \\
        --results ours.jsonl st.jsonl dehb.jsonl

The table: median [IQR] regret per method, file and budget; the sum of the two medians per file;
the best peer (lowest sum) and each of our methods' sum over the best peer's.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import multifidelity as mf
from multiobjective import Built, Method, append_runs, results_arguments, runnable_methods

from automl_vision.executors.base import AttemptEnd, AttemptOutcome, Executor
from automl_vision.planning.defaults import default_policy
from automl_vision.policies import (
    ASHAPolicy,
    CurvePolicy,
    Decision,
    EarlyTerminationPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
)
from automl_vision.policies.resource import Resource
from automl_vision.sampling import create_sampler
from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.configs import config_key
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.space import Distribution, choice, loguniform, quniform, uniform
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Trial

DATASETS = (
    "metaqnn_cifar10",
    "deep_resnets_cifar10",
    "deberta-base_mnli",
    "deberta-v3-base_mnli",
)
BUDGETS = (10, 25)
METRIC = "accuracy"
#: sigma of each trial's log-normal speed factor (simulated seconds per cost unit)
SPEED_SPREAD = 0.2


# -- problems -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """One recorded run: per report its validation accuracy, schedule progress (0..1, the last
    1.0) and cumulative cost."""

    values: np.ndarray
    progress: np.ndarray
    cost: np.ndarray


class Problem(Protocol):
    """A curve file as a search problem."""

    space: dict[str, Any]
    curves: list[Curve]

    def nearest(self, params: Mapping[str, Any], taken: Collection[int]) -> int: ...


@dataclass
class Replayable:
    """What every method may know of one file: its space, its curves, the nearest unstarted row
    of a configuration, and the numbers the budget and regret use."""

    name: str
    space: dict[str, Any]
    curves: list[Curve]
    nearest: Callable[[Mapping[str, Any], Collection[int]], int]
    unit: str

    @property
    def best(self) -> float:
        return float(np.nanmax([c.values[-1] for c in self.curves]))

    @property
    def full_cost(self) -> float:
        """One median full training's cost (the budget's unit)."""
        return float(np.median([c.cost[-1] for c in self.curves]))

    @property
    def max_reports(self) -> int:
        return max(len(c.values) for c in self.curves)

    # what multifidelity's Optuna / Syne Tune adapters read
    @property
    def epochs(self) -> int:
        return self.max_reports


def cifar_problem(path: Path) -> Replayable:
    """A CIFAR file: multifidelity.py's space and nearest row; progress = epoch / epochs, cost =
    epochs run."""
    base = mf.Problem(path)
    e = base.epochs
    steps = np.arange(1, e + 1, dtype=float)
    curves = [Curve(np.asarray(row, float), steps / e, steps) for row in base.curves]
    return Replayable(path.stem, dict(base.space), curves, base.nearest, "epochs")


#: the DeBERTa search space's coordinates, how each is scaled to [0, 1] for the nearest row
DEBERTA_RANGES = {
    "num_train_epochs": (1.0, 4.0, False),
    "train_batch_size": (16.0, 64.0, False),
    "learning_rate": (1e-6, 1e-3, True),
    "warmup_fraction": (0.0, 0.6, False),
    "cls_drop_out": (0.0, 0.3, False),
}


def deberta_space() -> dict[str, Any]:
    return {
        "num_train_epochs": choice(1, 2, 3, 4),
        "train_batch_size": quniform(16, 64, 1),
        # our loguniform's bounds are natural-log exponents
        "learning_rate": loguniform(math.log(1e-6), math.log(1e-3)),
        "warmup_fraction": uniform(0.0, 0.6),
        "cls_drop_out": uniform(0.0, 0.3),
    }


def deberta_problem(path: Path) -> Replayable:
    """A DeBERTa file: each row's own matched-accuracy curve at its own steps; cost = steps x
    batch / the file's median batch (module docstring)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path}: no rows")
    batch = np.array([float(r["train_batch_size"]) for r in rows])
    median_batch = float(np.median(batch))
    curves, features = [], []
    for r, b in zip(rows, batch, strict=True):
        points: dict[int, float] = {}
        for step, value in r["learning_curves"]["matched"]:
            points[int(step)] = float(value)  # the end may repeat a 1000-step report
        steps = np.array(sorted(points), dtype=float)
        total = float(r["total_model_steps"])
        values = np.array([points[int(s)] for s in steps])
        curves.append(Curve(values, steps / total, steps * b / median_batch))
        per_epoch = total / float(r["num_train_epochs"])
        features.append(
            {
                "num_train_epochs": float(r["num_train_epochs"]),
                "train_batch_size": float(b),
                "learning_rate": float(r["learning_rate"]),
                "warmup_fraction": float(r["warmup_steps"]) / per_epoch,
                "cls_drop_out": float(r["cls_drop_out"]),
            }
        )
    table = np.array([[scaled(k, f[k]) for k in DEBERTA_RANGES] for f in features])

    def nearest(params: Mapping[str, Any], taken: Collection[int]) -> int:
        point = np.array([scaled(k, float(params[k])) for k in DEBERTA_RANGES])
        d = ((table - point) ** 2).sum(axis=1)
        d[list(taken)] = np.inf
        return int(np.argmin(d))

    return Replayable(path.stem, deberta_space(), curves, nearest, "median-batch steps")


def scaled(name: str, value: float) -> float:
    lo, hi, log = DEBERTA_RANGES[name]
    if log:
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (value - lo) / (hi - lo)


def load_problem(curves_dir: Path, dataset: str) -> Replayable:
    """``dataset``'s file in ``curves_dir`` (``.csv``: CIFAR, ``.jsonl``: DeBERTa)."""
    for suffix, build in ((".csv", cifar_problem), (".jsonl", deberta_problem)):
        path = curves_dir / f"{dataset}{suffix}"
        if path.is_file():
            return build(path)
    raise ValueError(f"--datasets: no {dataset}.csv or {dataset}.jsonl in {curves_dir}")


# -- the replay ---------------------------------------------------------------------------------
class ReplayExecutor(Executor):
    """Runs each trial's nearest unstarted row, report by report, in simulated time; a report's
    duration is its cost increment times the trial's speed factor. ``spent``: the cost of every
    report delivered so far; ``completions``: (cost spent, final accuracy) of each trial that
    reached its schedule's end. ``epochs_run`` is ``spent`` under the name
    ``multifidelity.Budget`` reads."""

    def __init__(self, problem: Replayable, *, capacity: int = 4, seed: int = 0) -> None:
        super().__init__()
        self.problem, self.capacity, self.seed = problem, capacity, seed
        self.taken: set[int] = set()
        self.rows: dict[str, int] = {}
        self.spent = 0.0
        self.completions: list[tuple[float, float]] = []
        self._clock = 0.0
        self._events: list[tuple[float, int, str, int]] = []  # (time, index, id, report)
        self._active: dict[str, tuple[int, float]] = {}  # id -> (row, seconds per cost unit)
        self._done: list[AttemptOutcome] = []
        #: a method that retrains a configuration from scratch (DEHB) sets this: the same
        #: parameters then train (and pay for) the same row again
        self.reruns = False
        self._by_params: dict[Any, int] = {}

    @property
    def epochs_run(self) -> float:
        return self.spent

    def now(self) -> float:
        return self._clock

    @property
    def running(self) -> int:
        return len(self._active) + len(self._done)

    def start(self, trial: Trial) -> None:
        row = self.rows.get(trial.trial_id)
        if row is None:
            key = config_key(trial.params)
            row = self._by_params.get(key) if self.reruns else None
            if row is None:
                row = self.problem.nearest(trial.params, self.taken)
                self.taken.add(row)
                self._by_params[key] = row
            self.rows[trial.trial_id] = row
        speed = float(np.random.default_rng([self.seed, trial.index]).lognormal(0, SPEED_SPREAD))
        self._active[trial.trial_id] = (row, speed)
        self._schedule(trial.trial_id, trial.index, len(trial.reports), self._clock)

    def _schedule(self, trial_id: str, index: int, done: int, at: float) -> None:
        row, speed = self._active[trial_id]
        curve = self.problem.curves[row]
        if done >= len(curve.values):  # nothing left to replay
            del self._active[trial_id]
            self._done.append(AttemptOutcome(trial_id, returned=float(curve.values[-1])))
            return
        step = curve.cost[done] - (curve.cost[done - 1] if done else 0.0)
        heapq.heappush(self._events, (at + step * speed, index, trial_id, done + 1))

    def stop(self, trial_id: str) -> None:
        if trial_id in self._active:
            del self._active[trial_id]
            self._done.append(AttemptOutcome(trial_id, AttemptEnd.HALTED))

    def wait(self) -> list[AttemptOutcome]:
        outcomes, self._done = self._done, []
        while not outcomes and self._events:
            when, index, trial_id, k = heapq.heappop(self._events)
            if trial_id not in self._active:
                continue
            self._clock = max(self._clock, when)
            curve = self.problem.curves[self._active[trial_id][0]]
            self.spent += curve.cost[k - 1] - (curve.cost[k - 2] if k > 1 else 0.0)
            value = float(curve.values[k - 1])
            last = k == len(curve.values)
            if last:
                self.completions.append((self.spent, value))
            metrics = {
                METRIC: value,
                PROGRESS_KEY: float(curve.progress[k - 1]),
                COST_KEY: float(curve.cost[k - 1]),
            }
            stop = self.report(trial_id, k, metrics)
            if trial_id in self._active:  # not halted while reporting
                if stop or last:
                    del self._active[trial_id]
                    outcomes.append(AttemptOutcome(trial_id, returned=value))
                else:
                    self._schedule(trial_id, index, k, when)
            outcomes += self._done
            self._done = []
        return outcomes


@dataclass
class Replay:
    """One run's problem and executor: what a method's ``build`` receives."""

    problem: Replayable
    executor: ReplayExecutor


# -- peers' spaces ------------------------------------------------------------------------------
def optuna_distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    """Our space as Optuna distributions (choice, uniform, loguniform, quniform)."""
    import optuna  # lazy: a peer's library, only for its runs

    d = optuna.distributions
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, choice):
            out[name] = d.CategoricalDistribution(list(spec.options))
        elif isinstance(spec, quniform):
            out[name] = d.IntDistribution(int(spec.min_value), int(spec.max_value), step=spec.q)
        elif isinstance(spec, uniform | loguniform):
            lo, hi, log = spec.min_value, spec.max_value, isinstance(spec, loguniform)
            if log:  # our loguniform's bounds are natural-log exponents
                lo, hi = math.exp(lo), math.exp(hi)
            out[name] = d.FloatDistribution(lo, hi, log=log)
        elif not isinstance(spec, Distribution):
            out[name] = d.CategoricalDistribution([spec])
        else:
            raise ValueError(f"{name}: no Optuna form for {spec!r} in this benchmark")
    return out


def synetune_config_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Our space as a Syne Tune configuration space."""
    from syne_tune import config_space as cs  # lazy: a peer's library, only for its runs

    out: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, choice):
            out[name] = cs.choice(list(spec.options))
        elif isinstance(spec, quniform):
            out[name] = cs.randint(int(spec.min_value), int(spec.max_value))
        elif isinstance(spec, loguniform):
            out[name] = cs.loguniform(math.exp(spec.min_value), math.exp(spec.max_value))
        elif isinstance(spec, uniform):
            out[name] = cs.uniform(spec.min_value, spec.max_value)
        else:
            raise ValueError(f"{name}: no Syne Tune form for {spec!r} in this benchmark")
    return out


# -- peers --------------------------------------------------------------------------------------
class OptunaReplay(mf.OptunaMethod):
    """multifidelity.py's Optuna adapter (one study is sampler and pruner) over this file's space,
    with the sampler ``make_sampler(optuna, seed)`` and, if ``pruner``, ``HyperbandPruner``
    (resource: the report index, up to the file's most reports)."""

    def __init__(
        self,
        problem: Replayable,
        seed: int,
        make_sampler: Callable[[Any, int], Any],
        pruner: bool,
    ) -> None:
        import optuna  # lazy: a peer's library, only for its runs

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        super(mf.OptunaMethod, self).__init__(problem.space, seed=seed)
        self.optuna, self.problem = optuna, problem
        chosen = (
            optuna.pruners.HyperbandPruner(min_resource=1, max_resource=problem.max_reports)
            if pruner
            else optuna.pruners.NopPruner()  # no pruner argument would mean MedianPruner
        )
        self.study = optuna.create_study(
            study_name=f"seed-{seed}",  # HyperbandPruner's brackets hash the name
            direction="maximize",
            sampler=make_sampler(optuna, seed),
            pruner=chosen,
        )
        self.dists = optuna_distributions(problem.space)
        self.by_index: dict[int, Any] = {}
        self.by_id: dict[str, Any] = {}
        self.told: set[int] = set()


class SyneTuneReplay(mf.SyneTuneMethod):
    """multifidelity.py's Syne Tune adapter (ask, feed every report, act on STOP) for the
    scheduler ``kind`` of ``syne_tune.optimizer.baselines``, resource = the report index."""

    def __init__(self, problem: Replayable, seed: int, kind: str) -> None:
        import contextlib
        import io
        from datetime import datetime

        with contextlib.redirect_stdout(io.StringIO()):  # it prints its missing extras
            from syne_tune.backend.trial_status import Trial as StTrial
            from syne_tune.optimizer import baselines
            from syne_tune.optimizer.scheduler import SchedulerDecision

        super(mf.SyneTuneMethod, self).__init__(problem.space, seed=seed)
        self.problem, self.StTrial, self.now = problem, StTrial, datetime.now
        self.STOP = SchedulerDecision.STOP
        self.scheduler = getattr(baselines, kind)(
            synetune_config_space(problem.space), metric=METRIC, mode="max",
            resource_attr="epoch", max_t=problem.max_reports, grace_period=1,
            reduction_factor=3, type="stopping", random_seed=seed,
        )  # fmt: skip
        self.by_id: dict[str, Any] = {}


def configuration_space(space: Mapping[str, Any], seed: int) -> Any:
    """Our space as a ConfigSpace ``ConfigurationSpace`` (DEHB's and SMAC3's input)."""
    import ConfigSpace  # lazy: a peer's library, only for its runs

    cs = ConfigSpace.ConfigurationSpace(seed=seed)
    hps = []
    for name, spec in space.items():
        if isinstance(spec, choice):
            hps.append(ConfigSpace.CategoricalHyperparameter(name, list(spec.options)))
        elif isinstance(spec, quniform):
            lo, hi = int(spec.min_value), int(spec.max_value)
            hps.append(ConfigSpace.UniformIntegerHyperparameter(name, lo, hi))
        elif isinstance(spec, loguniform):
            lo, hi = math.exp(spec.min_value), math.exp(spec.max_value)
            hps.append(ConfigSpace.UniformFloatHyperparameter(name, lo, hi, log=True))
        elif isinstance(spec, uniform):
            hps.append(ConfigSpace.UniformFloatHyperparameter(name, spec.min_value, spec.max_value))
        else:
            raise ValueError(f"{name}: no ConfigSpace form for {spec!r} in this benchmark")
    cs.add(hps)
    return cs


class DEHBReplay(Sampler, EarlyTerminationPolicy, SweepObserver):
    """DEHB (``dehb`` 0.1.2) by its ask/tell interface: each ``ask`` is a (configuration,
    fidelity) job, run here as a trial stopped once it has made ``ceil(fidelity)`` reports (or at
    its schedule's end, if shorter); its last value is told as fitness (-accuracy) with its
    reports as cost. DEHB retrains a promoted configuration from scratch, so the replay trains
    (and charges) the same row again (``ReplayExecutor.reruns``). Settings: its defaults
    (``eta=3``, mutation 0.5, crossover 0.5, ``rand1_bin``), fidelity 1 .. the file's most
    reports, one process (``n_workers=1``: its Dask workers are not used; the 4 concurrent
    trials are asked for before earlier ones are told, as its asynchronous interface allows)."""

    def __init__(self, problem: Replayable, seed: int) -> None:
        from dehb import DEHB  # lazy: a peer's library, only for its runs

        super().__init__(problem.space, seed=seed)
        cs = configuration_space(problem.space, seed)
        self.dehb = DEHB(
            cs=cs, dimensions=len(cs), min_fidelity=1, max_fidelity=problem.max_reports,
            eta=3, n_workers=1, seed=seed, output_path=tempfile.mkdtemp(prefix="dehb-"),
        )  # fmt: skip
        self.jobs: dict[str, dict[str, Any]] = {}

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        job = self.dehb.ask()
        self.jobs[f"trial_{len(history):04d}"] = job
        return Suggestion(dict(job["config"]))

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        fidelity = self.jobs[trial_id]["fidelity"]
        if len(history[trial_id]) >= math.ceil(fidelity - 1e-9):
            return Decision(True, f"dehb: fidelity {fidelity:.3g} reached")
        return Decision(False, "dehb: continue")

    def trial_finished(self, trial: Trial) -> None:
        job = self.jobs.pop(trial.trial_id, None)
        if job is None:
            return
        value = float(trial.values[-1]) if trial.values else math.nan
        fitness = -value if math.isfinite(value) else 0.0  # no value: as bad as accuracy 0
        self.dehb.tell(job, {"fitness": fitness, "cost": float(len(trial.values))})


class SMACReplay(DEHBReplay):
    """SMAC3's ``MultiFidelityFacade`` (smac 2.4.1: random forest + Hyperband intensifier,
    ``eta=3``, budgets 1 .. the file's most reports) by ask/tell, run like ``DEHBReplay``: a
    ``TrialInfo`` at budget b is a trial stopped at ``ceil(b)`` reports, told cost = -accuracy;
    a configuration retrained at a higher budget replays its own row again."""

    def __init__(self, problem: Replayable, seed: int) -> None:
        from smac import MultiFidelityFacade, Scenario  # lazy: a peer's library

        Sampler.__init__(self, problem.space, seed=seed)
        scenario = Scenario(
            configuration_space(problem.space, seed), deterministic=True,
            n_trials=len(problem.curves) * 10, min_budget=1, max_budget=problem.max_reports,
            seed=seed, output_directory=Path(tempfile.mkdtemp(prefix="smac-")),
        )  # fmt: skip
        self.smac = MultiFidelityFacade(
            scenario, lambda config, seed=0, budget=1: 0.0,  # ask/tell only: never called
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=3),
            overwrite=True, logging_level=40,
        )  # fmt: skip
        self.infos: dict[str, Any] = {}

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        info = self.smac.ask()
        self.infos[f"trial_{len(history):04d}"] = info
        return Suggestion(dict(info.config))

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        budget = float(self.infos[trial_id].budget)
        if len(history[trial_id]) >= math.ceil(budget - 1e-9):
            return Decision(True, f"smac: budget {budget:.3g} reached")
        return Decision(False, "smac: continue")

    def trial_finished(self, trial: Trial) -> None:
        from smac.runhistory.dataclasses import TrialValue  # lazy: a peer's library

        info = self.infos.pop(trial.trial_id, None)
        if info is None:
            return
        value = float(trial.values[-1]) if trial.values else math.nan
        self.smac.tell(info, TrialValue(cost=-value if math.isfinite(value) else 0.0))


def smac_method(replay: Replay, seed: int) -> Built:
    replay.executor.reruns = True
    method = SMACReplay(replay.problem, seed)
    return method, method, [method]


def dehb_method(replay: Replay, seed: int) -> Built:
    replay.executor.reruns = True
    method = DEHBReplay(replay.problem, seed)
    return method, method, [method]


# -- the registry -------------------------------------------------------------------------------
PolicyFactory = Callable[[Replayable], EarlyTerminationPolicy]


def no_termination(problem: Replayable) -> EarlyTerminationPolicy:
    return NoTerminationPolicy()


def tune_default_policy(problem: Replayable) -> EarlyTerminationPolicy:
    """``tune()``'s default for trials of at most the file's most reports."""
    return default_policy(problem.max_reports)[0]


def ours(sampling: str, policy: PolicyFactory) -> Callable[[Replay, int], Built]:
    """Our method: the sampler ``optimize(sampling=...)`` would build, and ``policy(problem)``
    (the hook for a new early-termination policy)."""

    def build(replay: Replay, seed: int) -> Built:
        sampler: Sampler = create_sampler(sampling, replay.problem.space, seed=seed)
        return sampler, policy(replay.problem), []

    return build


def optuna_method(sampler: str, pruner: bool) -> Callable[[Replay, int], Built]:
    def build(replay: Replay, seed: int) -> Built:
        def make(optuna: Any, s: int) -> Any:
            return getattr(optuna.samplers, sampler)(seed=s)

        both = OptunaReplay(replay.problem, seed, make, pruner)
        return both, both, []

    return build


def synetune_method(kind: str) -> Callable[[Replay, int], Built]:
    def build(replay: Replay, seed: int) -> Built:
        st = SyneTuneReplay(replay.problem, seed, kind)
        return st, st, [st]

    return build


#: why a requested peer is not run (``skipped: why``)
SKIPPED = {
    "syne-tune DyHPO": "Syne Tune's DyHPO pauses trials and resumes them from its suggest(); "
    "this harness's adapter maps a peer to a sampler (new configurations) and a stop/continue "
    "policy, so it cannot express a resume; not run",
}


def curve_policy(problem: Replayable) -> EarlyTerminationPolicy:
    """The learning-curve model's policy with its defaults (policies/curve.py)."""
    return CurvePolicy()


def asha_first_report(problem: Replayable) -> EarlyTerminationPolicy:
    """ASHA, one bracket, first rung at report 1 (Syne Tune's ASHA settings: grace 1, eta 3)."""
    return ASHAPolicy(1, problem.max_reports)


def asha_fraction(problem: Replayable) -> EarlyTerminationPolicy:
    """ASHA with rungs on the schedule's axis: a ninth, a third of each trial's own schedule."""
    return ASHAPolicy(1 / 9, 1.0, resource=Resource.FRACTION)


OURS = {
    "random": Method(ours("random", no_termination)),
    "bayesian": Method(ours("bayesian", no_termination)),
    "bayesian + hyperband": Method(ours("bayesian", tune_default_policy)),
    "random + curve": Method(ours("random", curve_policy)),
    "bayesian + curve": Method(ours("bayesian", curve_policy)),
    "random + asha": Method(ours("random", asha_first_report)),
    "bayesian + asha": Method(ours("bayesian", asha_first_report)),
    "random + asha (fraction)": Method(ours("random", asha_fraction)),
}
METHODS: dict[str, Method] = {
    **OURS,
    "optuna TPE": Method(optuna_method("TPESampler", False), needs="optuna"),
    "optuna TPE + HyperbandPruner": Method(optuna_method("TPESampler", True), needs="optuna"),
    "optuna GP": Method(optuna_method("GPSampler", False), needs="optuna"),
    **{
        f"syne-tune {k}": Method(synetune_method(k), needs="syne_tune")
        for k in ("ASHA", "BOHB", "MOBSTER", "HyperTune")
    },
    "DEHB": Method(dehb_method, needs="dehb"),
    "SMAC3 multi-fidelity": Method(smac_method, needs="smac"),
    **{name: Method(None, why=why) for name, why in SKIPPED.items()},
}


def is_peer(method: str) -> bool:
    return method not in OURS


# -- runs ---------------------------------------------------------------------------------------
def run(task: tuple[str, str, str, int]) -> dict[str, Any]:
    """One search on one file until 25x one median full training's cost is spent."""
    curves_dir, dataset, method, seed = task
    started, cpu = time.perf_counter(), time.process_time()
    problem = load_problem(Path(curves_dir), dataset)
    executor = ReplayExecutor(problem, capacity=4, seed=seed)
    build = METHODS[method].build
    if build is None:
        raise ValueError(f"method {method!r} cannot run: {METHODS[method].why}")
    sampler, policy, observers = build(Replay(problem, executor), seed)
    limit = max(BUDGETS) * problem.full_cost
    Scheduler(
        sampler,
        executor,
        max_trials=len(problem.curves),
        policy=policy,
        primary_metric=METRIC,
        criteria=[mf.Budget(executor, limit)],  # type: ignore[arg-type]
        observers=observers,
    ).run()
    record = {
        "dataset": dataset,
        "method": method,
        "seed": seed,
        "best": problem.best,
        "full_cost": problem.full_cost,
        "unit": problem.unit,
        "full": [[spent, value] for spent, value in executor.completions],
        "started": len(executor.rows),
        "spent": executor.spent,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
    }
    record["regret"] = {str(b): regret(record, b) for b in BUDGETS}
    return record


def regret(record: Mapping[str, Any], times: float) -> float:
    """The file's best final accuracy - the best final accuracy of a trial that completed its
    schedule within ``times`` median full trainings' cost."""
    limit = times * record["full_cost"]
    found = [v for spent, v in record["full"] if spent <= limit and not math.isnan(v)]
    return float(record["best"] - max(found)) if found else float(record["best"])


def measure(tasks: list[tuple[str, str, str, int]], workers: int, files: Sequence[Path]) -> None:
    """Runs the tasks not yet in ``files``, appending each record to the first as it comes."""
    done = {(r["dataset"], r["method"], r["seed"]) for f in files for r in mf.load(f)}
    todo = [t for t in tasks if t[1:] not in done]
    append_runs(run_records, todo, workers, files[0])


def run_records(task: tuple[str, str, str, int]) -> list[dict[str, Any]]:
    """``run(task)`` as the list of records ``append_runs`` writes."""
    return [run(task)]


# -- tables and plots ---------------------------------------------------------------------------
def medians(
    results: Sequence[Mapping[str, Any]], dataset: str, method: str
) -> dict[int, tuple[float, float, float]] | None:
    rows = [r for r in results if r["dataset"] == dataset and r["method"] == method]
    if not rows:
        return None
    return {b: mf.quartiles([regret(r, b) for r in rows]) for b in BUDGETS}


def table(results: Sequence[Mapping[str, Any]], dataset: str, methods: Sequence[str]) -> None:
    """Median [IQR] regret per method and budget, their sum, the best peer and ours / it."""
    rows = [r for r in results if r["dataset"] == dataset and r["method"] in methods]
    if not rows:
        return
    methods = [m for m in methods if any(r["method"] == m for r in rows)]
    first = rows[0]
    print(f"### {dataset}: regret of the best trial that completed its schedule; budget unit = "
          f"one median full training = {first['full_cost']:.4g} {first['unit']}; best final "
          f"{first['best']:.4f}\n")  # fmt: skip
    head = " | ".join(f"regret @{b}x median [IQR]" for b in BUDGETS)
    print(f"| method | seeds | {head} | sum of medians | completed @25x | started | wall s/run |")
    print("|---|---:|" + "---|" * len(BUDGETS) + "---:|---:|---:|---:|")
    sums: dict[str, float] = {}
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        q = medians(rows, dataset, m)
        assert q is not None
        sums[m] = sum(q[b][0] for b in BUDGETS)
        cells = " | ".join(f"{q[b][0]:.4f} [{q[b][1]:.4f}, {q[b][2]:.4f}]" for b in BUDGETS)
        limit = max(BUDGETS) * first["full_cost"]
        done = np.median([sum(1 for s, _ in r["full"] if s <= limit) for r in mine])
        started = np.median([r["started"] for r in mine])
        wall = np.mean([r["wall_s"] for r in mine])
        print(f"| {m} | {len(mine)} | {cells} | {sums[m]:.4f} | {done:g} | {started:g} "
              f"| {wall:.1f} |")  # fmt: skip
    # the best peer among those with every seed (a peer with fewer seeds is shown, not ranked)
    seeds = {m: len({r["seed"] for r in rows if r["method"] == m}) for m in methods}
    peers = [m for m in methods if is_peer(m) and seeds[m] == max(seeds.values())]
    if peers:
        best = min(peers, key=lambda m: sums[m])
        print(f"\n- best peer (lowest sum of medians, among peers with all "
              f"{seeds[best]} seeds): {best}, {sums[best]:.4f}")  # fmt: skip
        for m in methods:
            if not is_peer(m):
                ratio = sums[m] / sums[best] if sums[best] > 0 else math.inf
                print(f"- {m} / best peer: {ratio:.2f}")
    print()


def summary(results: Sequence[Mapping[str, Any]], datasets: Sequence[str], methods: Sequence[str]):
    """Summed median regret (10x + 25x) per method (rows) and file (columns)."""
    print("### Summed median regret (@10x + @25x) per file\n")
    print("| method | " + " | ".join(datasets) + " |")
    print("|---|" + "---:|" * len(datasets))
    for m in methods:
        cells = []
        for d in datasets:
            q = medians(results, d, m)
            cells.append("-" if q is None else f"{sum(q[b][0] for b in BUDGETS):.4f}")
        if any(c != "-" for c in cells):
            print(f"| {m} | " + " | ".join(cells) + " |")
    print()


def plot(
    results: Sequence[Mapping[str, Any]],
    datasets: Sequence[str],
    methods: Sequence[str],
    folder: Path,
) -> list[Path]:
    """One PNG per file: median regret (IQR shaded for ours) against the budget spent, in
    median full trainings (0.5x to 25x)."""
    from matplotlib.figure import Figure  # lazy: plotting only

    folder.mkdir(parents=True, exist_ok=True)
    budgets = np.linspace(0.5, max(BUDGETS), 99)
    written = []
    for dataset in datasets:
        mine = [r for r in results if r["dataset"] == dataset]
        if not mine:
            continue
        figure = Figure(figsize=(8, 5))
        axes = figure.add_subplot(1, 1, 1)
        for m in methods:
            rows = [r for r in results if r["dataset"] == dataset and r["method"] == m]
            if not rows:
                continue
            q = np.array(
                [np.percentile([regret(r, b) for r in rows], [25, 50, 75]) for b in budgets]
            )
            line = axes.plot(
                budgets, q[:, 1], "--" if is_peer(m) else "-", label=f"{m} ({len(rows)})", lw=1.5
            )
            if not is_peer(m):
                axes.fill_between(budgets, q[:, 0], q[:, 2], color=line[0].get_color(), alpha=0.12)
        for b in BUDGETS:
            axes.axvline(b, color="grey", lw=0.8, alpha=0.5)
        axes.set_yscale("log")
        axes.set_xlabel(f"budget spent (median full trainings; 1 = {mine[0]['full_cost']:.4g} "
                        f"{mine[0]['unit']})")  # fmt: skip
        axes.set_ylabel("regret of the best completed trial (median over seeds)")
        axes.set_title(f"{dataset}: anytime regret")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7, ncol=2)
        figure.tight_layout()
        path = folder / f"schedules_{dataset}.png"
        figure.savefig(path, dpi=100)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mf.search_arguments(parser, [m for m in METHODS if METHODS[m].build is not None])
    parser.set_defaults(seeds=20, workers=1, datasets=list(DATASETS))
    results_arguments(parser)
    parser.add_argument("--plot", type=Path, default=None, help="folder for anytime-regret PNGs")
    args = parser.parse_args(argv)
    files = args.results or [Path(tempfile.mkdtemp()) / "schedules.jsonl"]
    runnable = runnable_methods(parser, METHODS, args.methods, quiet=args.table)
    if not args.table:
        for d in args.datasets:
            load_problem(Path(args.curves), d)  # a missing file fails before any run
        tasks = [
            (args.curves, d, m, s)
            for d in args.datasets for s in range(args.seeds) for m in runnable
        ]  # fmt: skip
        started = time.perf_counter()
        measure(tasks, args.workers, files)
        print(f"measured in {time.perf_counter() - started:.0f} s wall; results in {files[0]}\n")
    results = [r for f in files for r in mf.load(f) if r["seed"] < args.seeds]
    for dataset in args.datasets:
        table(results, dataset, args.methods)
    summary(results, args.datasets, args.methods)
    if args.plot is not None:
        for path in plot(results, args.datasets, args.methods, args.plot):
            print(f"plot: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
