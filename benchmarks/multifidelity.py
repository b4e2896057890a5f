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
(brackets="auto"), ASHAPolicy, and the variants schedule-aware Hyperband (decisions moved off
the stretch before a learning-rate drop; each file's drops are known from its README) and
promotion (pause/resume) ASHA/Hyperband; "bayesian(rung)" is the per-rung (BOHB-family) GP
instead of the joint GP over configuration x log-resource. Peers: Optuna's TPESampler without
and with HyperbandPruner (one study is both sampler and pruner, as Optuna recommends), and Syne
Tune's ASHA, BOHB and MOBSTER schedulers driven directly (ask for a configuration, feed every
report, act on STOP), with their recommended settings. Syne Tune needs its own environment
(see benchmarks/RESULTS.md), so the runs go to JSON-lines files and the tables read them all:

    python benchmarks/multifidelity.py CURVES_DIR --seeds 10 --workers 2 --methods ... \
        --results ours.jsonl
    /path/to/synetune-venv/bin/python benchmarks/multifidelity.py CURVES_DIR --seeds 10 \
        --methods "syne-tune ASHA" "syne-tune BOHB" "syne-tune MOBSTER" --results st.jsonl
    python benchmarks/multifidelity.py CURVES_DIR --report-only --results ours.jsonl st.jsonl

Targets (printed PASS/FAIL per file): our best combination (lowest sum of median regrets at
10x and 25x) <= every peer's median regret at both budgets; Bayesian + Hyperband <= random
without termination at both budgets; Hyperband with a third of the epochs (10/3x, 25/3x) finds
a configuration within 1% (relative accuracy) of the best no-termination method at 10x / 25x.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies import (
    ASHAPolicy,
    CurvePolicy,
    Decision,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    JudgingWindow,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RungSystem,
)
from automl_vision.sampling import BayesianParameterSampling, RandomParameterSampling, Sampler
from automl_vision.sampling.base import Suggestion
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.space import choice, loguniform, uniform
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
        index = trial.artifacts.get("curve")  # a promoted trial continues its own curve
        if index is None:
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


def optuna_space(problem: Problem) -> dict[str, Any]:
    """``problem.space`` as Optuna distributions (what ``study.ask`` takes)."""
    import optuna

    lo, hi = problem.log_params.min(), problem.log_params.max()
    dists: dict[str, Any] = {
        "num_params": optuna.distributions.FloatDistribution(
            float(math.exp(lo)), float(math.exp(hi)), log=True
        ),
        "lr": optuna.distributions.CategoricalDistribution(sorted(set(problem.lr.tolist()))),
    }
    if problem.depth is not None:
        dists["depth"] = optuna.distributions.FloatDistribution(
            float(problem.depth.min()), float(problem.depth.max())
        )
    return dists


def synetune_space(problem: Problem) -> dict[str, Any]:
    """``problem.space`` as a Syne Tune configuration space."""
    from syne_tune.config_space import choice as st_choice
    from syne_tune.config_space import loguniform as st_loguniform
    from syne_tune.config_space import uniform as st_uniform

    lo, hi = problem.log_params.min(), problem.log_params.max()
    space: dict[str, Any] = {
        "num_params": st_loguniform(float(math.exp(lo)), float(math.exp(hi))),
        "lr": st_choice(sorted(set(problem.lr.tolist()))),
    }
    if problem.depth is not None:
        space["depth"] = st_uniform(float(problem.depth.min()), float(problem.depth.max()))
    return space


# -- Optuna: one study is both the sampler and the pruner ----------------------------------------
class OptunaMethod(Sampler, EarlyTerminationPolicy):
    def __init__(self, problem: Problem, seed: int, pruner: bool) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        super().__init__(problem.space, seed=seed)
        self.optuna = optuna
        self.problem = problem
        # without a pruner argument Optuna prunes with its default MedianPruner: "no pruner"
        # must say NopPruner
        kwargs: dict[str, Any] = {"pruner": optuna.pruners.NopPruner()}
        if pruner:
            kwargs["pruner"] = optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=problem.epochs
            )
        # HyperbandPruner assigns brackets by a hash of the study's name, which Optuna makes
        # from a random UUID when none is given: named per seed, a run is reproducible
        self.study = optuna.create_study(
            study_name=f"seed-{seed}",
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            **kwargs,
        )
        self.dists = optuna_space(problem)
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
        if trial.should_prune():
            return Decision(True, "optuna: pruned")
        return Decision(False, "optuna: continue")


# -- Syne Tune: its scheduler is both the sampler and the early-termination policy ----------------
class SyneTuneMethod(Sampler, EarlyTerminationPolicy, SweepObserver):
    """Drives a Syne Tune scheduler directly: ``suggest`` asks it for a configuration, every
    report goes to ``on_trial_result`` (STOP ends the trial, then ``on_trial_remove``, as Syne
    Tune's own Tuner does), a trial that ran every epoch goes to ``on_trial_complete``.
    Syne Tune's recommended multi-fidelity settings: ``type="stopping"``, ``grace_period=1``,
    ``reduction_factor=3``, one bracket, MOBSTER with its default ``gp_multitask`` model."""

    def __init__(self, problem: Problem, seed: int, kind: str) -> None:
        from datetime import datetime

        from syne_tune.backend.trial_status import Trial as StTrial
        from syne_tune.optimizer import baselines
        from syne_tune.optimizer.scheduler import SchedulerDecision

        super().__init__(problem.space, seed=seed)
        self.problem, self.StTrial, self.now = problem, StTrial, datetime.now
        self.STOP = SchedulerDecision.STOP
        space = synetune_space(problem)
        cls = {"ASHA": baselines.ASHA, "BOHB": baselines.BOHB, "MOBSTER": baselines.MOBSTER}[kind]
        self.scheduler = cls(
            space, metric="accuracy", mode="max", resource_attr="epoch",
            max_t=problem.epochs, grace_period=1, reduction_factor=3, type="stopping",
            random_seed=seed,
        )  # fmt: skip
        self.by_id: dict[str, Any] = {}

    def suggest(self, history: Sequence[Trial], goal: Any, rng: Any) -> Suggestion | None:
        index = len(history)
        found = self.scheduler.suggest(trial_id=index)
        if found is None or found.config is None:
            return None
        config = {k: v for k, v in found.config.items() if k in self.problem.space}
        trial = self.StTrial(trial_id=index, config=dict(found.config), creation_time=self.now())
        self.scheduler.on_trial_add(trial=trial)
        self.by_id[f"trial_{index:04d}"] = trial
        return Suggestion(config)

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        trial = self.by_id[trial_id]
        values = history[trial_id]
        result = {"epoch": len(values), "accuracy": float(values[-1])}
        if self.scheduler.on_trial_result(trial=trial, result=result) == self.STOP:
            self.scheduler.on_trial_remove(trial=trial)
            return Decision(True, "syne tune: stop")
        return Decision(False, "syne tune: continue")

    def trial_finished(self, trial: Trial) -> None:
        if trial.status is TrialStatus.COMPLETED and trial.trial_id in self.by_id:
            result = {"epoch": len(trial.values), "accuracy": float(trial.values[-1])}
            self.scheduler.on_trial_complete(self.by_id[trial.trial_id], result)


# -- methods -------------------------------------------------------------------------------------
OURS = [
    "random + none", "random + median", "random + hyperband", "random + asha",
    "random + hyperband (schedule-aware)", "random + asha (promotion)",
    "bayesian + none", "bayesian + median", "bayesian + hyperband", "bayesian + asha",
    "bayesian + hyperband (schedule-aware)", "bayesian + asha (promotion)",
    "bayesian + hyperband (promotion)", "bayesian(rung) + hyperband",
    # tune()'s own first rung, about E/9 (sweep/tune_defaults.py)
    "random + hyperband (first rung E/9)", "bayesian + hyperband (first rung E/9)",
    "bayesian + asha (promotion, first rung E/9)",
    # Hyperband ranking every trial at a rung, whatever its bracket (rung_system="shared")
    "random + hyperband (shared rungs)", "bayesian + hyperband (shared rungs)",
    "bayesian + hyperband (shared rungs, promotion)",
    "bayesian + hyperband (shared rungs, first rung E/9)",
    # the learning-curve model's policy (policies/curve.py)
    "random + curve", "bayesian + curve",
]  # fmt: skip
# the first report after each learning-rate drop (README of the curve files): the ResNets' rate
# drops after epoch 30; MetaQNN's is multiplied by 0.2 every 5 epochs
DROPS = {"deep_resnets_cifar10": (31,), "metaqnn_cifar10": (6, 11, 16)}
OPTUNA = ["optuna TPE", "optuna TPE + HyperbandPruner"]
SYNETUNE = ["syne-tune ASHA", "syne-tune BOHB", "syne-tune MOBSTER"]
METHODS = [*OURS, *OPTUNA, *SYNETUNE]


def is_peer(method: str) -> bool:
    return method in OPTUNA or method in SYNETUNE


def make(
    method: str, problem: Problem, seed: int
) -> tuple[Sampler, EarlyTerminationPolicy, list[SweepObserver]]:
    if method in OPTUNA:
        both = OptunaMethod(problem, seed, pruner="Hyperband" in method)
        return both, both, []
    if method in SYNETUNE:
        st = SyneTuneMethod(problem, seed, method.split()[-1])
        return st, st, [st]
    name, policy_name = method.split(" + ")
    sampler: Sampler
    if name == "random":
        sampler = RandomParameterSampling(problem.space, seed=seed)
    else:
        fidelity = "rung" if name == "bayesian(rung)" else "joint"
        sampler = BayesianParameterSampling(problem.space, seed=seed, fidelity=fidelity)
    e = problem.epochs
    kind, _, variant = policy_name.partition(" ")
    options: dict[str, Any] = {
        "schedule_aware": "schedule-aware" in variant,
        "promotion": "promotion" in variant,
    }
    if "shared rungs" in variant:
        options["rung_system"] = RungSystem.SHARED
    # "first rung E/9": tune()'s first rung (sweep/tune_defaults.py), else report 1
    first = max(1, round(e / 9)) if "first rung E/9" in variant else 1
    policy = {
        "none": lambda: NoTerminationPolicy(),
        "curve": lambda: CurvePolicy(),
        "median": lambda: MedianStoppingPolicy(1, 5),
        "hyperband": lambda: HyperbandPolicy(first, e, **options),
        "asha": lambda: ASHAPolicy(
            first, e, **{k: v for k, v in options.items() if k != "rung_system"}
        ),
    }[kind]()
    return sampler, policy, []


def search(
    path: str, method: str, seed: int, max_trials: int | None
) -> tuple[Problem, MappedExecutor, Recorder]:
    """One search on one curve file: ``max_trials`` trials, or (None) until the epoch budget
    (25x one full training) is spent."""
    problem = Problem(Path(path))
    sampler, policy, observers = make(method, problem, seed)
    executor = MappedExecutor(problem, capacity=4, seed=seed)
    recorder = Recorder(executor, problem.epochs)
    window = JudgingWindow(drops=DROPS[Path(path).stem])
    budget = [Budget(executor, max(BUDGETS) * problem.epochs)] if max_trials is None else []
    Scheduler(
        sampler,
        executor,
        max_trials=len(problem.curves) if max_trials is None else max_trials,
        policy=policy,
        primary_metric="accuracy",
        criteria=budget,
        observers=[recorder, *observers],
        windows=(lambda trial: window) if "schedule-aware" in method else None,
    ).run()
    return problem, executor, recorder


def run(args: tuple[str, str, int]) -> dict[str, Any]:
    """One epoch-budgeted search; returns its (epochs spent, final accuracy) of every full
    training."""
    path, method, seed = args
    started = time.process_time()
    problem, _, recorder = search(path, method, seed, None)
    return {
        "dataset": Path(path).stem,
        "method": method,
        "seed": seed,
        "best": problem.best,
        "epochs": problem.epochs,
        "full": recorder.full,
        "cpu_s": time.process_time() - started,
    }


def regret(result: Mapping[str, Any], budget_epochs: float) -> float:
    """Best final accuracy of the file minus the best among full trainings within the budget."""
    found = [v for spent, v in result["full"] if spent <= budget_epochs]
    return float(result["best"] - max(found)) if found else float(result["best"])


def epochs_to(result: Mapping[str, Any], accuracy: float) -> float:
    """Epochs spent when a full training first reached ``accuracy`` (inf if none did)."""
    return next((spent for spent, v in result["full"] if v >= accuracy), math.inf)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    q = np.percentile(values, [25, 50, 75])
    return float(q[1]), float(q[0]), float(q[2])


def load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def measure(tasks: list[tuple[str, str, int]], workers: int, files: Sequence[Path]) -> None:
    """Runs the tasks not yet in ``files`` (appending each result to the first as it arrives)."""
    out = files[0]
    done = {(r["dataset"], r["method"], r["seed"]) for f in files for r in load(f)}
    todo = [t for t in tasks if (Path(t[0]).stem, t[1], t[2]) not in done]
    # the slow (model-based) runs first, so the pool's tail is short
    todo.sort(key=lambda t: not ("bayesian" in t[1] or "MOBSTER" in t[1]))
    with out.open("a") as fh:
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                for result in pool.map(run, todo):
                    fh.write(json.dumps(result) + "\n")
                    fh.flush()
        else:
            for task in todo:
                fh.write(json.dumps(run(task)) + "\n")
                fh.flush()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: Sequence[Mapping[str, Any]], dataset: str, methods: Sequence[str]) -> None:
    rows = [r for r in results if r["dataset"] == dataset and r["method"] in methods]
    if not rows:
        return
    methods = [m for m in methods if any(r["method"] == m for r in rows)]
    epochs = rows[0]["epochs"]
    seeds = sorted({r["seed"] for r in rows})
    by = {m: [r for r in rows if r["method"] == m] for m in methods}

    def med(m: str, times: float) -> float:
        return quartiles([regret(r, times * epochs) for r in by[m]])[0]

    print(f"### {dataset}: regret of the best fully trained configuration, "
          f"seeds {seeds[0]}-{seeds[-1]} ({len(seeds)})\n")  # fmt: skip
    print("| method | runs | regret @10x median [IQR] | regret @25x median [IQR] "
          "| @10/3x | @25/3x | CPU s/run |")  # fmt: skip
    print("|---|---:|---|---|---:|---:|---:|")
    for m in methods:
        cells = []
        for b in BUDGETS:
            mid, lo, hi = quartiles([regret(r, b * epochs) for r in by[m]])
            cells.append(f"{mid:.4f} [{lo:.4f}, {hi:.4f}]")
        thirds = [f"{med(m, b / 3):.4f}" for b in BUDGETS]
        cpu = statistics.fmean(r["cpu_s"] for r in by[m])
        print(f"| {m} | {len(by[m])} | {cells[0]} | {cells[1]} | {thirds[0]} | {thirds[1]} "
              f"| {cpu:.1f} |")  # fmt: skip
    ours = [m for m in methods if not is_peer(m)]
    if not ours:
        print()
        return
    best = min(ours, key=lambda m: sum(med(m, b) for b in BUDGETS))
    print(f"\n- lowest sum of median regrets at 10x and 25x among ours: {best}")
    for hb in ("bayesian + hyperband", "bayesian + hyperband (first rung E/9)",
               "bayesian + hyperband (shared rungs)",
               "bayesian + hyperband (shared rungs, first rung E/9)",
               "bayesian(rung) + hyperband"):  # fmt: skip
        if hb in by and "random + none" in by:
            ok = all(med(hb, b) <= med("random + none", b) for b in BUDGETS)
            print(f"- target: {hb} <= random + none at 10x and 25x: {verdict(ok)}")
    nones = [m for m in ours if m.endswith("+ none")]
    hbs = [m for m in ours if "hyperband" in m.split(" + ")[1]]
    if nones and hbs:
        for b in BUDGETS:
            ref = min(nones, key=lambda m: med(m, b))
            wanted = 0.99 * (rows[0]["best"] - med(ref, b))
            for hb in hbs:
                got = med(hb, b / 3)
                ok = rows[0]["best"] - got >= wanted
                share = statistics.median(epochs_to(r, wanted) / (b * epochs) for r in by[hb])
                print(
                    f"- target: {hb} with {b}/3x epochs (regret {got:.4f}) within 1% of the "
                    f"no-termination best at {b}x ({ref}, regret {med(ref, b):.4f}): "
                    f"{verdict(ok)}; median epochs to get there: {share:.0%} of {b}x"
                )
            # can any method, a peer's included, get there with a third of the epochs?
            anyone = min(methods, key=lambda m: med(m, b / 3))
            print(
                f"  - lowest median regret of any method with {b}/3x epochs: {anyone}, "
                f"{med(anyone, b / 3):.4f} (within 1% needs <= "
                f"{rows[0]['best'] - wanted:.4f})"
            )
    print()
    sys.stdout.flush()


def beats_peers(
    results: Sequence[Mapping[str, Any]], datasets: Sequence[str], methods: Sequence[str]
) -> None:
    """The first target: which of our combinations are <= every peer's median regret at both
    budgets on every file (one combination for all files: what tune() can default to)."""
    medians: dict[tuple[str, str, int], float] = {}
    for d in datasets:
        for m in methods:
            rows = [r for r in results if r["dataset"] == d and r["method"] == m]
            for b in BUDGETS:
                if rows:
                    medians[d, m, b] = quartiles([regret(r, b * r["epochs"]) for r in rows])[0]
    ours = [m for m in methods if not is_peer(m)]
    peers = [m for m in methods if is_peer(m)]
    print("### Target 1: our combination <= every peer's median regret, both budgets, both files\n")
    for m in ours:
        worst = []
        for d in datasets:
            for b in BUDGETS:
                for p in peers:
                    if (d, m, b) in medians and (d, p, b) in medians:
                        worst.append((medians[d, m, b] - medians[d, p, b], d, b, p))
        if not worst:
            continue
        gap, d, b, p = max(worst)
        state = verdict(gap <= 0)
        print(f"- {m}: {state} (largest excess {gap:+.4f}: {d} {b}x vs {p})")
    print()


def plot(
    results: Sequence[Mapping[str, Any]],
    datasets: Sequence[str],
    methods: Sequence[str],
    path: Path,
) -> None:
    """Median regret against the epochs spent (in full trainings, 1x to 25x), one panel a file:
    the anytime view behind the 10x / 25x columns."""
    from matplotlib.figure import Figure

    budgets = np.linspace(1, max(BUDGETS), 97)
    figure = Figure(figsize=(6 * len(datasets), 4.5))
    for k, dataset in enumerate(datasets):
        axes = figure.add_subplot(1, len(datasets), k + 1)
        for m in methods:
            rows = [r for r in results if r["dataset"] == dataset and r["method"] == m]
            if not rows:
                continue
            medians = [np.median([regret(r, b * r["epochs"]) for r in rows]) for b in budgets]
            style = "--" if is_peer(m) else "-"
            axes.plot(budgets, medians, style, label=f"{m} ({len(rows)})", linewidth=1.5)
        axes.set_yscale("log")
        axes.set_ylim(1e-3, 1)
        axes.set_xlabel("epochs spent (full trainings)")
        axes.set_ylabel("median regret of the best fully trained")
        axes.set_title(dataset)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def search_arguments(parser: argparse.ArgumentParser, methods: Sequence[str]) -> None:
    """The arguments both multi-fidelity benchmarks take: curves, seeds, workers, files, methods."""
    parser.add_argument("curves", nargs="?", default=str(DEFAULT_CURVES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(methods))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    search_arguments(parser, METHODS)
    parser.add_argument("--results", type=Path, nargs="+", default=None,
                        help="JSON-lines files of runs: new runs are appended to the first, runs "
                             "already in any are not repeated, and the tables cover every run in "
                             "them (default: a fresh temporary file)")  # fmt: skip
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--plot", type=Path, default=None, help="PNG of median regret vs epochs")
    args = parser.parse_args(argv)
    files = args.results or [Path(tempfile.mkdtemp()) / "multifidelity.jsonl"]
    tasks = [
        (str(Path(args.curves) / f"{d}.csv"), m, s)
        for d in args.datasets for s in range(args.seeds) for m in args.methods
    ]  # fmt: skip
    if not args.report_only:
        started = time.perf_counter()
        measure(tasks, args.workers, files)
        print(f"measured in {time.perf_counter() - started:.0f} s wall; results in {files[0]}\n")
    results = [r for f in files for r in load(f) if r["seed"] < args.seeds]
    methods = [m for m in METHODS if m in args.methods] + [
        m for m in args.methods if m not in METHODS
    ]
    for dataset in args.datasets:
        report(results, dataset, methods)
    beats_peers(results, args.datasets, methods)
    if args.plot is not None:
        plot(results, args.datasets, methods, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
