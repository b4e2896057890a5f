"""Schedule-aware judging and promotion ASHA on recorded learning curves (random search only).

A quick check of the two policy options of issue #9 before the full multi-fidelity benchmark
(``benchmarks/multifidelity.py``) measures them with every sampler and peer. Random search
proposes the recorded configurations in a seeded random order; the sweep's own Scheduler and
SimulatedExecutor (4 concurrent, random per-epoch durations) replay them until the epoch budget
(25 full trainings) is spent. Printed: median and IQR over seeds of the regret (best final value
of the file minus the best final value of a fully trained trial) at 10x and 25x one training.

    python benchmarks/judging_and_promotion.py \
        ../shared/data/learning_curves/deep_resnets_cifar10.csv --drops 30 --seeds 10

``--drops``: the first report after each learning-rate drop (deep_resnets: 30; metaqnn: 6,11,16).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from automl_vision.executors.simulated import SimulatedExecutor, load_learning_curves
from automl_vision.policies import (
    ASHAPolicy,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    JudgingWindow,
    NoTerminationPolicy,
)
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import Trial

BUDGETS = (10, 25)


class Budget:
    def __init__(self, executor: SimulatedExecutor, epochs: int) -> None:
        self.executor, self.epochs = executor, epochs

    def __call__(self, trials: Sequence[Trial], goal: Any, elapsed: float) -> str | None:
        return "budget spent" if self.executor.epochs_run >= self.epochs else None


class FullyTrained(SweepObserver):
    def __init__(self, executor: SimulatedExecutor, epochs: int) -> None:
        self.executor, self.epochs = executor, epochs
        self.found: list[tuple[int, float]] = []  # (epochs spent so far, final value)

    def trial_reported(self, trial: Trial, report: Any, decision: Any) -> None:
        if len(trial.reports) == self.epochs:
            self.found.append((self.executor.epochs_run, report.value))


def methods(epochs: int, drops: tuple[int, ...]) -> dict[str, tuple[EarlyTerminationPolicy, Any]]:
    half = JudgingWindow(drops=drops)
    whole = JudgingWindow(drops=drops, before_drop=1.0)
    return {
        "none": (NoTerminationPolicy(), None),
        "hyperband": (HyperbandPolicy(1, epochs), None),
        "hyperband schedule_aware (0.5)": (HyperbandPolicy(1, epochs, schedule_aware=True), half),
        "hyperband schedule_aware (1.0)": (HyperbandPolicy(1, epochs, schedule_aware=True), whole),
        "asha": (ASHAPolicy(1, epochs), None),
        "asha promotion": (ASHAPolicy(1, epochs, promotion=True), None),
        "hyperband promotion": (HyperbandPolicy(1, epochs, promotion=True), None),
        "hyperband promotion schedule_aware (1.0)": (
            HyperbandPolicy(1, epochs, promotion=True, schedule_aware=True),
            whole,
        ),
    }


def regrets(curves: np.ndarray, policy: EarlyTerminationPolicy, window: Any, seed: int) -> list:
    epochs = curves.shape[1]
    order = np.random.default_rng(seed).permutation(len(curves))
    executor = SimulatedExecutor(curves, capacity=4, seed=seed)
    found = FullyTrained(executor, epochs)
    Scheduler(
        FixedConfigurations([{"curve": int(i)} for i in order]),
        executor,
        max_trials=len(curves),
        policy=policy,
        primary_metric="accuracy",
        criteria=[Budget(executor, max(BUDGETS) * epochs)],
        observers=[found],
        windows=lambda trial: window,
    ).run()
    best = float(curves[:, -1].max())
    out = []
    for budget in BUDGETS:
        values = [v for spent, v in found.found if spent <= budget * epochs]
        out.append(best - max(values) if values else best)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves")
    parser.add_argument("--drops", default="", help="comma-separated report counts")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    curves = load_learning_curves(args.curves)
    curves = curves[np.isfinite(curves).all(axis=1)]
    drops = tuple(int(d) for d in args.drops.split(",") if d)
    print(f"{args.curves}: {curves.shape[0]} curves x {curves.shape[1]} epochs, drops {drops}")
    for name, (policy, window) in methods(curves.shape[1], drops).items():
        rows = np.array([regrets(curves, policy, window, seed) for seed in range(args.seeds)])
        cells = []
        for column, budget in enumerate(BUDGETS):
            q1, q2, q3 = np.percentile(rows[:, column], [25, 50, 75])
            cells.append(f"{budget}x {q2:.4f} (IQR {q3 - q1:.4f})")
        print(f"  {name:42s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
