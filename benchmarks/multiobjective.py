"""Multi-objective search on recorded learning curves: accuracy against model size, as hypervolume.

Each recorded curve file whose configurations carry a cost known before training becomes a
two-objective search problem: final validation accuracy (maximized) and ``num_params``
(minimized). The files: metaqnn_cifar10 (1000 configurations x 20 epochs) and
deep_resnets_cifar10 (486 x 50).

**Search space and replay** are those of benchmarks/multifidelity.py (imported from it, not
copied): a configuration is (num_params log-uniform over the file's range, lr one of the recorded
rates, and on MetaQNN depth); a proposal trains the nearest recorded configuration not started yet
in this run (without replacement). Trials run through the sweep's own ``Scheduler`` and
``SimulatedExecutor``: 4 at a time, random per-epoch durations, every report seen as it arrives,
until 25x one full training's epochs are spent (500 on MetaQNN, 1250 on the ResNets). A trial
costs the epochs it ran.

**Where hypervolume is measured** (fixed per file, the same for every method):

- accuracy: the final validation accuracy as recorded (0..1);
- cost: log10(num_params) normalized to [0, 1] over the file's range,
  ``(log10 p - log10 p_min) / (log10 p_max - log10 p_min)``;
- reference point: (the file's 5th-percentile final accuracy, 1.0): accuracy 0.4467 on MetaQNN,
  0.6839 on the ResNets (numpy's linear-interpolation percentile over every row), and the file's
  largest model. A point adds volume only where it beats the reference in both objectives.

Hypervolume at a budget B (10x and 25x one full training) is the exact 2-D hypervolume of the
(accuracy, cost) points of the trials that ran every epoch of their curve by the time B epochs
had been spent (the same "completed" as multifidelity.py: a stopped or still-running trial's
partial accuracy never counts). The 10x figure is read from the same run as the 25x one: no
method here knows its budget, so it is the run a 10x budget would have made. The file's ceiling
(the hypervolume of every row) is printed with each table.

Every method sees the objectives in that same space (accuracy, normalized log cost): Optuna's
samplers and Syne Tune's non-dominated sort depend on the objectives' scale.

Methods (the registry ``METHODS``; a method builds a sampler, an early-termination policy and
observers for one run):

- ``random``: random search without early stopping (the floor).
- ``optuna TPE``: Optuna 5 ``TPESampler(seed=...)`` with its defaults for a multi-objective
  study (``multivariate=None`` means independent TPE for several objectives;
  ``constant_liar=True`` for the 4 running trials); ``optuna TPE (multivariate)`` the same with
  ``multivariate=True``.
- ``optuna NSGA-II``: ``NSGAIISampler(seed=...)`` with its default population of 50. Optuna
  cannot prune a multi-objective study, so neither Optuna method stops a trial early; at these
  budgets (10-25 full trainings) NSGA-II never leaves its random first generation.
- ``syne-tune MOASHA``: Syne Tune 0.13's ``MOASHA`` (non-dominated sort with an epsilon-net,
  ``grace_period=1``, ``reduction_factor=3``, one bracket: its defaults) with ``max_t`` = the
  file's epochs, driven directly the way Syne Tune's own Tuner drives it (every report to
  ``on_trial_result``, STOP ends the trial and ``on_trial_remove``). MOASHA 0.13 has no seed
  argument and draws from NumPy's global generator, which the adapter seeds per run. It runs in
  Syne Tune's own environment (benchmarks/RESULTS.md).
- ``automl_vision``: our ``ParetoBayesianSampling`` (GP on accuracy, the cost known before
  training: the row a configuration would train, or trained once started; expected hypervolume
  improvement; reference cost 1.0), no early stopping. ``automl_vision (scalarization)``: the same
  with random (ParEGO-style) scalarizations.

Runs go to a JSON-lines file (one line per method x file x budget x seed) and the tables read
any number of them::

    python benchmarks/multiobjective.py CURVES_DIR --seeds 20 --methods random "optuna TPE" \\
        "optuna NSGA-II" --results mo.jsonl
    /path/to/synetune-venv/bin/python benchmarks/multiobjective.py CURVES_DIR --seeds 20 \\
        --methods "syne-tune MOASHA" --results mo-st.jsonl
    python benchmarks/multiobjective.py CURVES_DIR --seeds 20 --table --results mo.jsonl \\
        mo-st.jsonl

The table: median [IQR] hypervolume per method, file and budget over the seeds, and each
method's median divided by random's median in the same cell.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import importlib.util
import io
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from multifidelity import (
    DATASETS,
    Budget,
    MappedExecutor,
    Problem,
    load,
    optuna_space,
    quartiles,
    search_arguments,
    synetune_space,
)

from automl_vision.planning.defaults import default_policy
from automl_vision.policies import (
    Decision,
    EarlyTerminationPolicy,
    FrontAwarePolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
)
from automl_vision.sampling import RandomParameterSampling, Sampler
from automl_vision.sampling.base import Suggestion
from automl_vision.sampling.configs import config_key
from automl_vision.sampling.multiobjective import ParetoBayesianSampling
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import Report, Trial, TrialStatus

BUDGETS = (10, 25)
#: the goal of each coordinate of a point: (final accuracy, normalized log cost)
GOALS = ("max", "min")
#: the reference point's accuracy: this percentile of the file's final accuracies
REFERENCE_PERCENTILE = 5.0


# -- hypervolume --------------------------------------------------------------------------------
def hypervolume(
    points: Sequence[Sequence[float]], objectives: Sequence[str], reference: Sequence[float]
) -> float:
    """Exact hypervolume of two-objective ``points`` against ``reference``.

    ``objectives`` gives each coordinate's goal, ``"max"`` or ``"min"``. The volume is the area
    of the region that some point dominates and that itself dominates the reference; a point no
    better than the reference in some coordinate adds nothing, and dominated points, duplicates
    and ties add nothing twice. No points: 0.
    """
    if len(objectives) != 2 or len(reference) != 2:
        raise ValueError(
            f"hypervolume here is two-objective: got {len(objectives)} objectives and a "
            f"{len(reference)}-coordinate reference"
        )
    bad = [g for g in objectives if g not in ("max", "min")]
    if bad:
        raise ValueError(f"objectives must be 'max' or 'min', got {bad[0]!r}")
    sign = np.array([-1.0 if g == "max" else 1.0 for g in objectives])
    ref = sign * np.asarray(reference, dtype=float)
    xy = np.asarray(points, dtype=float).reshape(-1, 2) * sign  # every coordinate minimized
    xy = xy[np.all(xy < ref, axis=1)]
    area, ceiling = 0.0, ref[1]
    for x, y in xy[np.lexsort((xy[:, 1], xy[:, 0]))]:  # by x, then y
        if y < ceiling:  # a new strip between y and the best y so far, from x to the reference
            area += (ref[0] - x) * (ceiling - y)
            ceiling = y
    return float(area)


@dataclass(frozen=True)
class Objectives:
    """The space where one file's hypervolume is measured: (final accuracy, cost), the cost
    being log10(num_params) scaled to [0, 1] over the file's range; the reference point is
    (``accuracy_reference``, 1.0) and ``ceiling`` the hypervolume of every configuration."""

    log_low: float
    log_high: float
    accuracy_reference: float
    ceiling: float

    @classmethod
    def of(cls, problem: Problem) -> Objectives:
        low, high = float(problem.log_params.min()), float(problem.log_params.max())
        if not high > low:
            raise ValueError("num_params: the curve file's models all have the same size")
        final = problem.curves[:, -1]
        reference = float(np.percentile(final, REFERENCE_PERCENTILE))
        costs = (problem.log_params - low) / (high - low)
        ceiling = hypervolume(np.column_stack([final, costs]), GOALS, (reference, 1.0))
        return cls(low, high, reference, ceiling)

    @property
    def reference(self) -> tuple[float, float]:
        return (self.accuracy_reference, 1.0)

    def cost(self, log_params: float) -> float:
        """A model's cost: its natural-log size scaled to [0, 1] (the same as log10 scaled)."""
        return (float(log_params) - self.log_low) / (self.log_high - self.log_low)


def score(points: Sequence[Sequence[float]], objectives: Objectives) -> float:
    """The one place the benchmark computes a hypervolume."""
    return hypervolume(points, GOALS, objectives.reference)


# -- the replay ---------------------------------------------------------------------------------
class RowExecutor(MappedExecutor):
    """``MappedExecutor`` that remembers which recorded row each trial trains."""

    def __init__(self, problem: Problem, **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        self.rows: dict[str, int] = {}

    def start(self, trial: Trial) -> None:
        super().start(trial)
        self.rows[trial.trial_id] = int(trial.artifacts["curve"])


@dataclass
class Replay:
    """What a method may know about one run: the problem, the executor, the objective space."""

    problem: Problem
    executor: RowExecutor
    objectives: Objectives

    def cost_of_trial(self, trial_id: str) -> float:
        """The cost of the row the started trial ``trial_id`` trains."""
        return self.objectives.cost(self.problem.log_params[self.executor.rows[trial_id]])

    def cost_of(self, params: Mapping[str, Any]) -> float:
        """The cost ``params`` would have if started now (known before training)."""
        row = self.problem.nearest(params, self.executor.taken)
        return self.objectives.cost(self.problem.log_params[row])


class Completions(SweepObserver):
    """(epochs spent, accuracy, cost) of every trial that ran every epoch of its curve."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.points: list[tuple[int, float, float]] = []
        self.started: list[int] = []  # epochs spent when each trial started

    def trial_started(self, trial: Trial) -> None:
        self.started.append(self.replay.executor.epochs_run)

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        if len(trial.reports) == self.replay.problem.epochs:
            spent = self.replay.executor.epochs_run
            self.points.append((spent, report.value, self.replay.cost_of_trial(trial.trial_id)))


# -- Optuna: a multi-objective study proposes; nothing is pruned --------------------------------
class OptunaMultiObjective(Sampler):
    """Asks a two-objective Optuna study (maximize accuracy, minimize cost) for each proposal and
    tells it every trial that ran every epoch, with the objectives of the row it trained."""

    def __init__(self, replay: Replay, seed: int, make_sampler: Callable[[Any], Any]) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        super().__init__(replay.problem.space, seed=seed)
        self.replay = replay
        self.study = optuna.create_study(
            study_name=f"seed-{seed}",
            directions=["maximize", "minimize"],
            sampler=make_sampler(optuna),
        )
        self.dists = optuna_space(replay.problem)
        self.asked: dict[int, Any] = {}
        self.told: set[int] = set()

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        fail = self._state().FAIL
        for t in history:
            if t.finished and t.index not in self.told and t.index in self.asked:
                if len(t.reports) == self.replay.problem.epochs:
                    values = [t.values[-1], self.replay.cost_of_trial(t.trial_id)]
                    self.study.tell(self.asked[t.index], values)
                else:  # ended by the sweep's end: never happens before a later proposal
                    self.study.tell(self.asked[t.index], state=fail)
                self.told.add(t.index)
        trial = self.study.ask(self.dists)
        self.asked[len(history)] = trial
        return Suggestion(dict(trial.params))

    def _state(self) -> Any:
        import optuna

        return optuna.trial.TrialState


# -- Syne Tune's MOASHA: its scheduler samples and stops -----------------------------------------
class MOASHAMethod(Sampler, EarlyTerminationPolicy, SweepObserver):
    """Drives Syne Tune's ``MOASHA`` as its Tuner does: ``suggest`` asks for a configuration;
    every report goes to ``on_trial_result`` with both objectives (accuracy, cost); STOP is
    followed by ``on_trial_remove`` (at the last epoch the trial ends anyway, so it completes);
    a trial that completed without a STOP goes to ``on_trial_complete``."""

    def __init__(self, replay: Replay, seed: int) -> None:
        from datetime import datetime

        with contextlib.redirect_stdout(io.StringIO()):  # Syne Tune prints its missing extras
            from syne_tune.backend.trial_status import Trial as StTrial
            from syne_tune.optimizer.scheduler import SchedulerDecision
            from syne_tune.optimizer.schedulers.multiobjective import MOASHA

        super().__init__(replay.problem.space, seed=seed)
        self.replay, self.StTrial, self.now = replay, StTrial, datetime.now
        self.STOP = SchedulerDecision.STOP
        # MOASHA 0.13 has no seed: it samples and picks brackets from NumPy's global generator
        np.random.seed(seed)
        self.scheduler = MOASHA(
            synetune_space(replay.problem),
            metrics=["accuracy", "cost"],
            mode=["max", "min"],
            time_attr="epoch",
            max_t=replay.problem.epochs,
            grace_period=1,
            reduction_factor=3,
        )
        self.by_id: dict[str, Any] = {}
        self.removed: set[str] = set()

    def suggest(
        self, history: Sequence[Trial], goal: PrimaryMetricGoal, rng: np.random.Generator
    ) -> Suggestion | None:
        index = len(history)
        found = self.scheduler.suggest(trial_id=index)
        if found is None or found.config is None:
            return None
        trial = self.StTrial(trial_id=index, config=dict(found.config), creation_time=self.now())
        with contextlib.redirect_stdout(io.StringIO()):  # it prints every trial it adds
            self.scheduler.on_trial_add(trial=trial)
        self.by_id[f"trial_{index:04d}"] = trial
        config = {k: v for k, v in found.config.items() if k in self.replay.problem.space}
        return Suggestion(config)

    def decide(
        self,
        trial_id: str,
        history: Mapping[str, Sequence[float]],
        goal: PrimaryMetricGoal,
        finished: Collection[str] = (),
    ) -> Decision:
        values = history[trial_id]
        result = {
            "epoch": len(values),
            "accuracy": float(values[-1]),
            "cost": self.replay.cost_of_trial(trial_id),
        }
        if self.scheduler.on_trial_result(trial=self.by_id[trial_id], result=result) != self.STOP:
            return Decision(False, "syne tune: continue")
        self.scheduler.on_trial_remove(trial=self.by_id[trial_id])
        self.removed.add(trial_id)
        if len(values) >= self.replay.problem.epochs:
            return Decision(False, "syne tune: last epoch")
        return Decision(True, "syne tune: stop")

    def trial_finished(self, trial: Trial) -> None:
        if trial.status is TrialStatus.COMPLETED and trial.trial_id not in self.removed:
            result = {
                "epoch": len(trial.values),
                "accuracy": float(trial.values[-1]),
                "cost": self.replay.cost_of_trial(trial.trial_id),
            }
            self.scheduler.on_trial_complete(self.by_id[trial.trial_id], result)


# -- the registry -------------------------------------------------------------------------------
Built = tuple[Sampler, EarlyTerminationPolicy, list[SweepObserver]]
#: what the scheduler is told of each trial's known objectives (the front-aware policy's input)
Known = Callable[[Trial], Mapping[str, float]]


@dataclass(frozen=True)
class Method:
    """One contender: ``build(replay, seed)`` makes its sampler, policy and observers for one run.
    ``build=None``: not runnable, ``why`` says why. ``needs``: a module it imports (it is
    skipped, saying so, where that is not installed)."""

    build: Callable[[Replay, int], Built] | None
    needs: str | None = None
    why: str = ""

    def missing(self) -> str | None:
        """Why this method cannot run here, or None."""
        if self.build is None:
            return self.why
        if self.needs is not None and importlib.util.find_spec(self.needs) is None:
            return f"needs {self.needs}, which is not installed in this environment"
        return None


def _random(replay: Replay, seed: int) -> Built:
    return RandomParameterSampling(replay.problem.space, seed=seed), NoTerminationPolicy(), []


def _optuna(make_sampler: Callable[[Any, int], Any]) -> Callable[[Replay, int], Built]:
    def build(replay: Replay, seed: int) -> Built:
        sampler = OptunaMultiObjective(replay, seed, lambda optuna: make_sampler(optuna, seed))
        return sampler, NoTerminationPolicy(), []

    return build


class Stopping(enum.Enum):
    """The early termination our method runs with: none; ``tune()``'s default Hyperband on
    accuracy alone; or that Hyperband made front-aware (what ``tune()`` runs with a trained
    objective and a deployment objective)."""

    NONE = "none"
    HYPERBAND = "hyperband"
    FRONT_AWARE = "front-aware hyperband"


def _ours(acquisition: str, stopping: Stopping = Stopping.NONE) -> Callable[[Replay, int], Built]:
    """automl_vision's ``ParetoBayesianSampling``: the cost of a configuration is known before
    training (the row it would train, or did train once started); early termination by
    ``stopping`` (Hyperband is ``tune()``'s default for the file's epochs,
    ``planning.defaults.default_policy``)."""

    def build(replay: Replay, seed: int) -> Built:
        started: dict[Any, str] = {}  # configuration -> the trial that trains it

        class Started(SweepObserver):
            def trial_started(self, trial: Trial) -> None:
                started[config_key(trial.params)] = trial.trial_id

        def known(params: Mapping[str, Any]) -> Mapping[str, float]:
            trial_id = started.get(config_key(params))
            if trial_id is not None and trial_id in replay.executor.rows:
                return {"cost": replay.cost_of_trial(trial_id)}
            return {"cost": replay.cost_of(params)}

        sampler = ParetoBayesianSampling(
            replay.problem.space,
            {"accuracy": "max", "cost": "min"},
            known,
            seed=seed,
            acquisition=acquisition,
            reference={"cost": 1.0},
        )
        policy: EarlyTerminationPolicy = NoTerminationPolicy()
        if stopping is not Stopping.NONE:
            policy = default_policy(replay.problem.epochs)[0]
        if stopping is Stopping.FRONT_AWARE:
            policy = FrontAwarePolicy(policy, {"accuracy": "max", "cost": "min"})
        return sampler, policy, [Started()]

    return build


def _known(replay: Replay) -> Known:
    """A started trial's cost, as the scheduler tells the front-aware policy."""
    return lambda trial: {"cost": replay.cost_of_trial(trial.trial_id)}


def _moasha(replay: Replay, seed: int) -> Built:
    method = MOASHAMethod(replay, seed)
    return method, method, [method]


METHODS: dict[str, Method] = {
    "random": Method(_random),
    "optuna TPE": Method(
        _optuna(lambda optuna, seed: optuna.samplers.TPESampler(seed=seed)), needs="optuna"
    ),
    "optuna TPE (multivariate)": Method(
        _optuna(lambda optuna, seed: optuna.samplers.TPESampler(seed=seed, multivariate=True)),
        needs="optuna",
    ),
    "optuna NSGA-II": Method(
        _optuna(lambda optuna, seed: optuna.samplers.NSGAIISampler(seed=seed)), needs="optuna"
    ),
    "syne-tune MOASHA": Method(_moasha, needs="syne_tune"),
    "automl_vision": Method(_ours("ehvi")),
    "automl_vision (scalarization)": Method(_ours("scalarization")),
    "automl_vision + hyperband": Method(_ours("ehvi", Stopping.HYPERBAND)),
    "automl_vision + front-aware hyperband": Method(_ours("ehvi", Stopping.FRONT_AWARE)),
}


# -- runs ---------------------------------------------------------------------------------------
def run(task: tuple[str, str, int]) -> list[dict[str, Any]]:
    """One search (until 25x one full training's epochs are spent); one record per budget."""
    path, method, seed = task
    started, cpu = time.perf_counter(), time.process_time()
    problem = Problem(Path(path))
    objectives = Objectives.of(problem)
    executor = RowExecutor(problem, capacity=4, seed=seed)
    replay = Replay(problem, executor, objectives)
    build = METHODS[method].build
    if build is None:
        raise ValueError(f"method {method!r} cannot run: {METHODS[method].why}")
    sampler, policy, observers = build(replay, seed)
    completions = Completions(replay)
    Scheduler(
        sampler,
        executor,
        max_trials=len(problem.curves),
        policy=policy,
        primary_metric="accuracy",
        criteria=[Budget(executor, max(BUDGETS) * problem.epochs)],
        observers=[completions, *observers],
        known=_known(replay) if isinstance(policy, FrontAwarePolicy) else None,
    ).run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    records = []
    for budget in BUDGETS:
        limit = budget * problem.epochs
        points = [[acc, cost] for spent, acc, cost in completions.points if spent <= limit]
        records.append(
            {
                "dataset": Path(path).stem,
                "method": method,
                "seed": seed,
                "budget": budget,
                "budget_epochs": limit,
                "epochs": problem.epochs,
                "hypervolume": score(points, objectives),
                "ceiling": objectives.ceiling,
                "reference": list(objectives.reference),
                "completed": len(points),
                "started": sum(1 for spent in completions.started if spent < limit),
                "points": points,
                "wall_s": wall,
                "cpu_s": cpu,
            }
        )
    return records


def measure(tasks: list[tuple[str, str, int]], workers: int, files: Sequence[Path]) -> None:
    """Runs the tasks not yet in ``files``, appending each run's records to the first."""
    done = {(r["dataset"], r["method"], r["seed"]) for f in files for r in load(f)}
    todo = [t for t in tasks if (Path(t[0]).stem, t[1], t[2]) not in done]
    append_runs(run, todo, workers, files[0])


def append_runs(
    run: Callable[[Any], list[dict[str, Any]]], todo: Sequence[Any], workers: int, path: Path
) -> None:
    """``run(task)`` for every task (in ``workers`` processes when more than one), each task's
    records appended to the JSON-lines file ``path`` as soon as it ends (a killed benchmark
    keeps every finished run)."""
    with path.open("a") as fh:

        def write(records: list[dict[str, Any]]) -> None:
            fh.writelines(json.dumps(r) + "\n" for r in records)
            fh.flush()

        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                for records in pool.map(run, todo):
                    write(records)
        else:
            for task in todo:
                write(run(task))


def table(results: Sequence[Mapping[str, Any]], dataset: str, methods: Sequence[str]) -> None:
    """Median [IQR] hypervolume per method and budget, and its ratio to random's median."""
    rows = [r for r in results if r["dataset"] == dataset and r["method"] in methods]
    if not rows:
        return
    methods = [m for m in methods if any(r["method"] == m for r in rows)]
    seeds = sorted({r["seed"] for r in rows})
    first = rows[0]
    acc_ref, cost_ref = first["reference"]
    print(f"### {dataset}: hypervolume of the completed trials, seeds {seeds[0]}-{seeds[-1]} "
          f"({len(seeds)}); reference (accuracy {acc_ref:.4f}, cost {cost_ref:.1f}), every "
          f"configuration of the file: {first['ceiling']:.4f}\n")  # fmt: skip
    head = " | ".join(f"HV @{b}x median [IQR] | vs random @{b}x" for b in BUDGETS)
    print(f"| method | runs | {head} | completed @{BUDGETS[-1]}x | wall s/run |")
    print("|---|---:|" + "---|---:|" * len(BUDGETS) + "---:|---:|")
    volumes: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        volumes.setdefault((r["method"], r["budget"]), []).append(r["hypervolume"])
    medians = {cell: quartiles(values) for cell, values in volumes.items()}
    for m in methods:
        cells = []
        for b in BUDGETS:
            if (m, b) not in medians:
                cells.append("- | -")
                continue
            mid, lo, hi = medians[m, b]
            base = medians.get(("random", b), (math.nan,))[0]
            ratio = f"{mid / base:.3f}" if base > 0 else "-"
            cells.append(f"{mid:.4f} [{lo:.4f}, {hi:.4f}] | {ratio}")
        mine = [r for r in rows if r["method"] == m]
        done = float(np.median([r["completed"] for r in mine if r["budget"] == BUDGETS[-1]]))
        wall = float(np.mean([r["wall_s"] for r in mine]))
        runs = len({r["seed"] for r in mine})
        print(f"| {m} | {runs} | {' | '.join(cells)} | {done:g} | {wall:.1f} |")
    print()
    sys.stdout.flush()


def results_arguments(parser: argparse.ArgumentParser) -> None:
    """``--results`` (JSON-lines files of runs) and ``--table`` (only print the tables)."""
    parser.add_argument("--results", type=Path, nargs="+", default=None,
                        help="JSON-lines files of runs: new runs are appended to the first, runs "
                             "already in any are not repeated, and the tables cover every run in "
                             "them (default: a fresh temporary file)")  # fmt: skip
    parser.add_argument("--table", action="store_true", help="only print the tables")


def runnable_methods(
    parser: argparse.ArgumentParser,
    methods: Mapping[str, Method],
    requested: Sequence[str],
    *,
    quiet: bool,
) -> list[str]:
    """The requested methods that can run here (an unknown one is a usage error; one that
    cannot run is skipped, saying why unless ``quiet``)."""
    unknown = [m for m in requested if m not in methods]
    if unknown:
        parser.error(f"--methods: unknown {unknown[0]!r}; known: {', '.join(methods)}")
    runnable = []
    for m in requested:
        why = methods[m].missing()
        if why is None:
            runnable.append(m)
        elif not quiet:
            print(f"skipped {m}: {why}")
    return runnable


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    search_arguments(parser, list(METHODS))
    parser.set_defaults(seeds=20, datasets=list(DATASETS))
    results_arguments(parser)
    args = parser.parse_args(argv)
    files = args.results or [Path(tempfile.mkdtemp()) / "multiobjective.jsonl"]
    runnable = runnable_methods(parser, METHODS, args.methods, quiet=args.table)
    if not args.table:
        tasks = [
            (str(Path(args.curves) / f"{d}.csv"), m, s)
            for d in args.datasets for s in range(args.seeds) for m in runnable
        ]  # fmt: skip
        started = time.perf_counter()
        measure(tasks, args.workers, files)
        print(f"measured in {time.perf_counter() - started:.0f} s wall; results in {files[0]}\n")
    results = [r for f in files for r in load(f) if r["seed"] < args.seeds]
    for dataset in args.datasets:
        table(results, dataset, args.methods)
    if "automl_vision" in args.methods and METHODS["automl_vision"].build is None:
        print(f"automl_vision is not in the table: {METHODS['automl_vision'].why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
