"""A small, deterministic sweep recorded in a store, run as a script by the dashboard tests.

Trial values follow ``x * (1 + step / 10)``; a policy stops any trial whose value is under 0.3
after its second report, so the sweep always has finished and stopped trials. ``--delay`` sleeps
between reports so that a reader can watch the sweep while it runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.space.distributions import choice, uniform
from automl_vision.store.database import EventKind, SweepStore
from automl_vision.tuning.optimize import optimize


class StopLow(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        values = history[trial_id]
        if len(values) >= 2 and values[-1] < 0.3:
            return Decision(True, f"{values[-1]:.3g} < 0.3 after {len(values)} reports")
        return Decision(False, f"{values[-1]:.3g} kept")


def run(
    run_dir: Path, trials: int = 6, delay: float = 0.0, models: tuple[str, ...] = ("a", "b")
) -> None:
    """Record the sweep in ``run_dir``; ``models``: the values of its ``model`` choice."""
    store = SweepStore(Path(run_dir) / SweepStore.FILENAME)
    store.set_meta(
        {
            "primary_metric": "accuracy",
            "goal": "maximize",
            "definition": {
                "sampling": "random",
                "policy": "StopLow(< 0.3 after 2 reports)",
                "search_space": {
                    "x": "uniform(0.05, 0.9)",
                    "model": f"choice({', '.join(models)})",
                },
            },
            "settings": {"max_trials": trials, "max_concurrent_trials": 1},
        }
    )
    store.log(EventKind.SWEEP_STARTED, f"{trials} trials planned")

    def objective(params, report):
        value = 0.0
        for step in range(1, 6):
            value = params["x"] * (1 + step / 10)
            time.sleep(delay)
            if report(step, value):
                break
        return value

    optimize(
        objective,
        {"x": uniform(0.05, 0.9), "model": choice(*models)},
        max_trials=trials,
        seed=1,
        policy=StopLow(),
        observers=[store],
    )
    store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    run(Path(args.run_dir), args.trials, args.delay)
