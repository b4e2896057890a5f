"""Multi-fidelity search on recorded learning curves: sampler x early termination, as a search.

Each recorded curve file becomes a search problem. deep_resnets_cifar10: a configuration is
(num_params, lr) with num_params log-uniform over the recorded range and lr one of the two
recorded rates; metaqnn_cifar10: (num_params, depth, lr). A proposal trains the *nearest
recorded configuration not started yet in this run* (log num_params and depth scaled to [0, 1],
same lr; without replacement, so no method pays twice for one curve). Trials run through the
sweep's own Scheduler and SimulatedExecutor (4 concurrent, random per-epoch durations) until the
epoch budget (25x one full training) is spent. Regret at budget B = best final accuracy of the
file - best final accuracy among trials that ran every epoch within the first B epochs, for
B = 10x and 25x one full training. Median [IQR] over seeds.

Methods: random / bayesian samplers x no termination, MedianStoppingPolicy, HyperbandPolicy
(brackets="auto"), ASHAPolicy; Optuna's TPESampler without and with HyperbandPruner (one
study drives both, as Optuna recommends). Syne Tune is not run (see benchmarks/RESULTS.md).

    python benchmarks/multifidelity.py [CURVES_DIR] [--seeds 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import statistics
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.policies import (
    ASHAPolicy,
    Decision,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
)
from automl_vision.sampling import BayesianParameterSampling, RandomParameterSampling, Sampler
from automl_vision.sampling.base import Suggestion
from automl_vision.space import choice, loguniform, uniform
from automl_vision.sweep import Scheduler, SimulatedExecutor, SweepObserver
from automl_vision.trial import Trial, TrialStatus

DEFAULT_CURVES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "learning_curves"
DATASETS = ("deep_resnets_cifar10", "metaqnn_cifar10")
BUDGETS = (10, 25)


# -- the problem -------------------------------------------------------------------------------
class Problem:
    def __init__(self, path: Path) -> None:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        acc = [c for c in rows[0] if c.startswith("acc_")]
        self.curves = np.array([[float(r[c]) for c in acc] for r in rows])
        self.epochs = self.curves.shape[1]
        self.lr = np.array([float(r["lr"]) for r in rows])
        self.log_params = np.log(np.array([float(r["num_params"]) for r in rows]))
        self.depth = np.array([float(r["depth"]) for r in rows]) if "depth" in rows[0] else None
        lo, hi = self.log_params.min(), self.log_params.max()
        self.space: dict[str, Any] = {
            "num_params": loguniform(float(lo), float(hi)),
            "lr": choice(*sorted(set(self.lr.tolist()))),
        }
        if self.depth is not None:
            self.space["depth"] = uniform(float(self.depth.min()), float(self.depth.max()))
        self.best = float(self.curves[:, -1].max())

    def nearest(self, params: Mapping[str, Any], taken: Collection[int]) -> int:
        span = self.log_params.max() - self.log_params.min()
        d = ((self.log_params - math.log(params["num_params"])) / span) ** 2
        if self.depth is not None:
            dspan = max(self.depth.max() - self.depth.min(), 1.0)
            d = d + ((self.depth - params["depth"]) / dspan) ** 2
        d = d + np.where(np.isclose(self.lr, params["lr"]), 0.0, 10.0)
        d[list(taken)] = np.inf
        return int(np.argmin(d))


class MappedExecutor(SimulatedExecutor):
    """Starts the nearest unstarted recorded curve for each proposal."""

    def __init__(self, problem: Problem, **kwargs: Any) -> None:
        super().__init__(problem.curves, **kwargs)
        self.problem = problem
        self.taken: set[int] = set()

    def start(self, trial: Trial) -> None:
        index = self.problem.nearest(trial.params, self.taken)
        self.taken.add(index)
        trial.artifacts["curve"] = index
        super().start(dataclasses.replace(trial, params={"curve": index}))


class Budget:
    """Stop criterion: the epoch budget is spent."""

    def __init__(self, executor: SimulatedExecutor, epochs: int) -> None:
        self.executor, self.epochs = executor, epochs

    def __call__(self, trials: Sequence[Trial], goal: Any, elapsed: float) -> str | None:
        return "budget spent" if self.executor.epochs_run >= self.epochs else None


class Recorder(SweepObserver):
    """(epochs spent, final accuracy) of every trial that ran every epoch."""

    def __init__(self, executor: SimulatedExecutor, epochs: int) -> None:
        self.executor, self.epochs, self.full = executor, epochs, []

    def trial_reported(self, trial: Trial, report: Any, decision: Decision) -> None:
        if len(trial.reports) == self.epochs:
            self.full.append((self.executor.epochs_run, report.value))


# -- Optuna: one study is both the sampler and the pruner ----------------------------------------
class OptunaMethod(Sampler, EarlyTerminationPolicy):
    def __init__(self, problem: Problem, seed: int, pruner: bool) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        super().__init__(problem.space, seed=seed)
        self.optuna = optuna
        self.problem = problem
        kwargs: dict[str, Any] = {}
        if pruner:
            kwargs["pruner"] = optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=problem.epochs
            )
        self.study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), **kwargs
        )
        lo, hi = problem.log_params.min(), problem.log_params.max()
        self.dists: dict[str, Any] = {
            "num_params": optuna.distributions.FloatDistribution(
                float(math.exp(lo)), float(math.exp(hi)), log=True
            ),
            "lr": optuna.distributions.CategoricalDistribution(sorted(set(problem.lr.tolist()))),
        }
        if problem.depth is not None:
            self.dists["depth"] = optuna.distributions.FloatDistribution(
                float(problem.depth.min()), float(problem.depth.max())
            )
        self.by_index: dict[int, Any] = {}
        self.by_id: dict[str, Any] = {}
        self.told: set[int] = set()

    def suggest(self, history: Sequence[Trial], goal: Any, rng: Any) -> Suggestion | None:
        self._tell(history)
        trial = self.study.ask(self.dists)
        self.by_index[len(history)] = trial
        self.by_id[f"trial_{len(history):04d}"] = trial
        return Suggestion(dict(trial.params))

    def _tell(self, history: Sequence[Trial]) -> None:
        for t in history:
            if t.finished and t.index not in self.told and t.index in self.by_index:
                state = self.optuna.trial.TrialState
                if t.status is TrialStatus.COMPLETED:
                    self.study.tell(self.by_index[t.index], t.values[-1])
                else:
                    self.study.tell(self.by_index[t.index], state=state.PRUNED)
                self.told.add(t.index)

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        trial = self.by_id[trial_id]
        values = history[trial_id]
        trial.report(float(values[-1]), len(values))
        if self.study.pruner is not None and trial.should_prune():
            return Decision(True, "optuna: pruned")
        return Decision(False, "optuna: continue")


# -- methods -------------------------------------------------------------------------------------
METHODS = [
    "random + none", "random + median", "random + hyperband", "random + asha",
    "bayesian + none", "bayesian + median", "bayesian + hyperband", "bayesian + asha",
    "optuna TPE", "optuna TPE + HyperbandPruner",
]  # fmt: skip


def make(method: str, problem: Problem, seed: int) -> tuple[Sampler, EarlyTerminationPolicy]:
    if method.startswith("optuna"):
        both = OptunaMethod(problem, seed, pruner="Hyperband" in method)
        return both, both
    name, policy_name = method.split(" + ")
    sampler: Sampler = (
        RandomParameterSampling(problem.space, seed=seed)
        if name == "random"
        else BayesianParameterSampling(problem.space, seed=seed)
    )
    e = problem.epochs
    policy = {
        "none": NoTerminationPolicy(),
        "median": MedianStoppingPolicy(1, 5),
        "hyperband": HyperbandPolicy(1, e),
        "asha": ASHAPolicy(1, e),
    }[policy_name]
    return sampler, policy


def run(args: tuple[str, str, int]) -> tuple[str, int, list[float], float]:
    path, method, seed = args
    problem = Problem(Path(path))
    sampler, policy = make(method, problem, seed)
    executor = MappedExecutor(problem, capacity=4, seed=seed)
    budget = max(BUDGETS) * problem.epochs
    recorder = Recorder(executor, problem.epochs)
    started = time.process_time()
    Scheduler(
        sampler,
        executor,
        max_trials=len(problem.curves),
        policy=policy,
        primary_metric="accuracy",
        criteria=[Budget(executor, budget)],
        observers=[recorder],
    ).run()
    regrets = []
    for b in BUDGETS:
        found = [v for spent, v in recorder.full if spent <= b * problem.epochs]
        regrets.append(problem.best - max(found) if found else problem.best)
    return method, seed, regrets, time.process_time() - started


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    q = np.percentile(values, [25, 50, 75])
    return float(q[1]), float(q[0]), float(q[2])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", nargs="?", default=str(DEFAULT_CURVES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=METHODS)
    args = parser.parse_args(argv)
    for dataset in args.datasets:
        path = Path(args.curves) / f"{dataset}.csv"
        tasks = [(str(path), m, s) for s in range(args.seeds) for m in args.methods]
        started = time.perf_counter()
        if args.workers > 1:
            with ProcessPoolExecutor(args.workers) as pool:
                done = list(pool.map(run, tasks))
        else:
            done = [run(t) for t in tasks]
        by: dict[str, list[list[float]]] = {m: [] for m in args.methods}
        cpu: dict[str, list[float]] = {m: [] for m in args.methods}
        for method, _, regrets, took in done:
            by[method].append(regrets)
            cpu[method].append(took)
        print(f"### {dataset}: regret of the best fully trained configuration, "
              f"{args.seeds} seeds ({time.perf_counter() - started:.0f} s)\n")
        print("| method | regret @10x median [IQR] | regret @25x median [IQR] | CPU s/run |")
        print("|---|---|---|---:|")
        medians: dict[str, list[float]] = {}
        for m in args.methods:
            cells = []
            medians[m] = []
            for k in range(len(BUDGETS)):
                med, lo, hi = quartiles([r[k] for r in by[m]])
                medians[m].append(med)
                cells.append(f"{med:.4f} [{lo:.4f}, {hi:.4f}]")
            print(f"| {m} | {cells[0]} | {cells[1]} | {statistics.fmean(cpu[m]):.1f} |")
        ours = [m for m in args.methods if not m.startswith("optuna")]
        peers = [m for m in args.methods if m.startswith("optuna")]
        best = min(ours, key=lambda m: sum(medians[m]))
        print(f"\n- our best combination: {best}")
        for p in peers:
            ok = all(medians[best][k] <= medians[p][k] for k in range(len(BUDGETS)))
            print(f"- {best} <= {p} at both budgets: {'PASS' if ok else 'FAIL'}")
        if "bayesian + hyperband" in medians and "random + none" in medians:
            ok = all(
                medians["bayesian + hyperband"][k] <= medians["random + none"][k]
                for k in range(len(BUDGETS))
            )
            print(f"- bayesian + hyperband <= random + none at both budgets: "
                  f"{'PASS' if ok else 'FAIL'}")
        print()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
