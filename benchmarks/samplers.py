"""Sampler benchmark: simple regret of our samplers and Optuna's on four test problems.

    python benchmarks/samplers.py [--seeds 10 --trials 50 --jobs 2]

Problems: Branin (2-D), Hartmann-6, Levy-10 (all minimized) and a mixed space (optimizer
choice + log learning rate + log-scaled integer batch size) whose synthetic "validation
accuracy" is maximized. Samplers: our random, Sobol and Bayesian; Optuna's TPESampler and
GPSampler with their default settings (Optuna is imported here only). Every sampler sees
the same objective through a plain ask/evaluate loop.

Prints a table of the median and inter-quartile range of the simple regret (distance of the
best value found to the optimum) after 20 and 50 trials, and the mean time of one proposal
given 100 completed observations, with the ratio to Optuna TPE measured in the same run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrices: one thread per process is fastest

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from automl_vision.sampling import (  # noqa: E402
    BayesianParameterSampling,
    RandomParameterSampling,
    Sampler,
)
from automl_vision.space import choice, loguniform, qloguniform, uniform  # noqa: E402
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus  # noqa: E402


# ------------------------------------------------------------------------------------------
# problems
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    name: str
    params: tuple[Param, ...]
    function: Callable[[dict[str, Any]], float]
    optimum: float
    goal: PrimaryMetricGoal

    def ours(self) -> dict[str, Any]:
        space: dict[str, Any] = {}
        for p in self.params:
            if p.choices:
                space[p.name] = choice(*p.choices)
            elif p.integer:
                space[p.name] = qloguniform(math.log(p.low), math.log(p.high), 1)
            elif p.log:
                space[p.name] = loguniform(math.log(p.low), math.log(p.high))
            else:
                space[p.name] = uniform(p.low, p.high)
        return space

    def optuna(self) -> dict[str, Any]:
        import optuna

        out: dict[str, Any] = {}
        for p in self.params:
            if p.choices:
                out[p.name] = optuna.distributions.CategoricalDistribution(p.choices)
            elif p.integer:
                out[p.name] = optuna.distributions.IntDistribution(
                    int(p.low), int(p.high), log=True
                )
            else:
                out[p.name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
        return out

    def regret(self, value: float) -> float:
        gap = (
            self.optimum - value
            if self.goal is PrimaryMetricGoal.MAXIMIZE
            else value - self.optimum
        )
        return max(gap, 0.0)


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return float(-_H6_ALPHA @ np.exp(-(_H6_A * (x - _H6_P) ** 2).sum(1)))


def levy(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(len(p))])
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


# synthetic validation accuracy of an image classifier: each optimizer has its own peak
# accuracy and best learning rate, the best learning rate scales with the batch size
# (linearly for SGD, with its square root for Adam), and very small or very large batches
# generalize a little worse.
_PEAK = {"sgd": 0.935, "adam": 0.925, "adamw": 0.94}
_BASE_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1.5e-3}
_LR_SLOPE = {"sgd": 1.0, "adam": 0.5, "adamw": 0.5}
_LR_WIDTH = {"sgd": 0.6, "adam": 0.45, "adamw": 0.5}  # in decades


def accuracy(p: dict[str, Any]) -> float:
    opt, lr, batch = p["optimizer"], p["learning_rate"], p["batch_size"]
    best_lr = _BASE_LR[opt] * (batch / 64) ** _LR_SLOPE[opt]
    d = (math.log10(lr) - math.log10(best_lr)) / _LR_WIDTH[opt]
    batch_penalty = 0.004 * (math.log2(batch) - math.log2(48)) ** 2
    return 0.1 + (_PEAK[opt] - 0.1 - batch_penalty) * math.exp(-0.5 * d * d)


def _accuracy_optimum() -> float:
    best = -math.inf
    for opt in _PEAK:
        for batch in range(8, 513):
            lr = _BASE_LR[opt] * (batch / 64) ** _LR_SLOPE[opt]
            if 1e-5 <= lr <= 1.0:
                best = max(
                    best, accuracy({"optimizer": opt, "learning_rate": lr, "batch_size": batch})
                )
    return best


MIN, MAX = PrimaryMetricGoal.MINIMIZE, PrimaryMetricGoal.MAXIMIZE
PROBLEMS = {
    "branin": Problem(
        "branin", (Param("x1", -5, 10), Param("x2", 0, 15)), branin, 0.397887357729739, MIN
    ),
    "hartmann6": Problem(
        "hartmann6", tuple(Param(f"x{i}") for i in range(6)), hartmann6, -3.32236801141551, MIN
    ),
    "levy10": Problem("levy10", tuple(Param(f"x{i}", -10, 10) for i in range(10)), levy, 0.0, MIN),
    "mixed": Problem(
        "mixed",
        (
            Param("optimizer", choices=("sgd", "adam", "adamw")),
            Param("learning_rate", 1e-5, 1.0, log=True),
            Param("batch_size", 8, 512, integer=True),
        ),
        accuracy,
        _accuracy_optimum(),
        MAX,
    ),
}


# ------------------------------------------------------------------------------------------
# samplers
# ------------------------------------------------------------------------------------------
def our_sampler(kind: str, problem: Problem, seed: int) -> Sampler:
    space = problem.ours()
    if kind == "random":
        return RandomParameterSampling(space, seed=seed)
    if kind == "sobol":
        return RandomParameterSampling(space, seed=seed, rule="sobol")
    return BayesianParameterSampling(space, seed=seed)


def optuna_sampler(kind: str, seed: int) -> Any:
    import optuna

    if kind == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.GPSampler(seed=seed)


SAMPLERS = ("random", "sobol", "bayesian", "optuna-tpe", "optuna-gp")


def run_ours(kind: str, problem: Problem, seed: int, trials: int) -> list[float]:
    sampler = our_sampler(kind, problem, seed)
    history: list[Trial] = []
    for i in range(trials):
        suggestion = sampler.ask(history, problem.goal)
        value = problem.function(suggestion.params)
        history.append(
            Trial(i, suggestion.params, suggestion.space_index, TrialStatus.COMPLETED, value=value)
        )
    return [t.value for t in history]


def run_optuna(kind: str, problem: Problem, seed: int, trials: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction=problem.goal.value, sampler=optuna_sampler(kind, seed))
    distributions = problem.optuna()
    values = []
    for _ in range(trials):
        trial = study.ask(distributions)
        value = problem.function(trial.params)
        study.tell(trial, value)
        values.append(value)
    return values


def run_one(task: tuple[str, str, int, int]) -> tuple[str, str, int, list[float]]:
    problem_name, kind, seed, trials = task
    problem = PROBLEMS[problem_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind.startswith("optuna"):
            values = run_optuna(kind, problem, seed, trials)
        else:
            values = run_ours(kind, problem, seed, trials)
    return problem_name, kind, seed, values


def regret_curve(problem: Problem, values: list[float]) -> np.ndarray:
    best = np.minimum.accumulate if problem.goal is MIN else np.maximum.accumulate
    return np.array([problem.regret(v) for v in best(np.array(values))])


# ------------------------------------------------------------------------------------------
# proposal time at 100 observations
# ------------------------------------------------------------------------------------------
def _history(problem: Problem, n: int) -> list[Trial]:
    sampler = RandomParameterSampling(problem.ours(), seed=12345)
    history: list[Trial] = []
    for i in range(n):
        s = sampler.ask(history, problem.goal)
        history.append(
            Trial(i, s.params, 0, TrialStatus.COMPLETED, value=problem.function(s.params))
        )
    return history


def time_ours(
    kind: str, problem: Problem, history: list[Trial], repeats: int
) -> tuple[float, float]:
    """Mean wall and CPU seconds of one proposal."""
    sampler = our_sampler(kind, problem, 0)
    sampler.ask(history, problem.goal)  # warm-up (lazy caches, imports)
    wall, cpu = time.perf_counter(), time.process_time()
    for r in range(repeats):
        sampler.ask(history, problem.goal, np.random.default_rng(r))
    return (time.perf_counter() - wall) / repeats, (time.process_time() - cpu) / repeats


def time_optuna(
    kind: str, problem: Problem, history: list[Trial], repeats: int
) -> tuple[float, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    distributions = problem.optuna()
    wall = cpu = 0.0
    for r in range(repeats + 1):
        study = optuna.create_study(direction=problem.goal.value, sampler=optuna_sampler(kind, r))
        study.add_trials(
            optuna.trial.create_trial(params=t.params, distributions=distributions, value=t.value)
            for t in history
        )
        wall0, cpu0 = time.perf_counter(), time.process_time()
        study.ask(distributions)
        if r:  # the first ask is a warm-up
            wall += time.perf_counter() - wall0
            cpu += time.process_time() - cpu0
    return wall / repeats, cpu / repeats


def time_one(task: tuple[str, str, int]) -> tuple[str, str, tuple[float, float]]:
    problem_name, kind, repeats = task
    problem = PROBLEMS[problem_name]
    history = _history(problem, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind.startswith("optuna"):
            seconds = time_optuna(kind, problem, history, repeats)
        else:
            seconds = time_ours(kind, problem, history, repeats)
    return problem_name, kind, seconds


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.3g}" if x >= 1e-3 or x == 0 else f"{x:.1e}"


def summarize(q: np.ndarray) -> str:
    lo, med, hi = np.percentile(q, [25, 50, 75])
    return f"{_fmt(med)} [{_fmt(lo)}, {_fmt(hi)}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--samplers", nargs="*", default=list(SAMPLERS))
    parser.add_argument("--timing-repeats", type=int, default=5)
    args = parser.parse_args()

    tasks = [
        (p, s, seed, args.trials)
        for p in args.problems
        for s in args.samplers
        for seed in range(args.seeds)
    ]
    timing_tasks = [(p, s, args.timing_repeats) for p in args.problems for s in args.samplers]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(run_one, tasks))
    # serial, after the runs: nothing else of ours competes for the cores while timing
    times = {(p, s): sec for p, s, sec in map(time_one, timing_tasks)}
    elapsed = time.perf_counter() - start

    curves: dict[tuple[str, str], list[np.ndarray]] = {}
    for p, s, _, values in runs:
        curves.setdefault((p, s), []).append(regret_curve(PROBLEMS[p], values))
    early = min(20, args.trials)
    print(
        f"{args.seeds} seeds x {args.trials} trials; simple regret median [IQR]; "
        f"proposal time with 100 observations\n"
    )
    print(
        f"| problem | sampler | regret @{early} | regret @{args.trials} | "
        f"ms / proposal @100 (wall) | (CPU) | wall vs optuna-tpe |"
    )
    print("|---|---|---|---|---|---|---|")
    for p in args.problems:
        for s in args.samplers:
            c = np.array(curves[(p, s)])
            wall, cpu = times[(p, s)]
            base = times.get((p, "optuna-tpe"), (math.nan, math.nan))[0]
            print(
                f"| {p} | {s} | {summarize(c[:, early - 1])} | {summarize(c[:, -1])} | "
                f"{wall * 1e3:.1f} | {cpu * 1e3:.1f} | {wall / base:.2f}x |"
            )
    if {"bayesian", "optuna-tpe"} <= set(args.samplers):
        wins = 0
        print()
        for p in args.problems:
            ours = np.median(np.array(curves[(p, "bayesian")])[:, -1])
            tpe = np.median(np.array(curves[(p, "optuna-tpe")])[:, -1])
            wins += ours <= tpe
            print(f"{p}: bayesian median regret {_fmt(ours)} vs optuna-tpe {_fmt(tpe)}")
        print(f"bayesian <= optuna-tpe at {args.trials} trials on {wins} of {len(args.problems)}")
    if "bayesian" in args.samplers:
        worst = max(times[(p, "bayesian")][0] for p in args.problems)
        print(f"slowest bayesian proposal at 100 observations: {worst * 1e3:.1f} ms (target < 100)")
    print(f"\nwall time {elapsed:.0f} s")


if __name__ == "__main__":
    main()
