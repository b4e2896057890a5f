"""Per-trial scheduling overhead: Ray vs the local process pool, for trials of 1 s and 10 s.

Each executor runs the same sweep of sleeping trials (a black-box objective that reports once
per 0.5 s and sleeps the trial's length in total) through the same scheduler, two at a time.
Overhead per trial = (sweep wall time x concurrency - trials x trial length) / trials: what the
executor adds to each trial (process start, imports, messages, placement), measured side by
side in one run. Executors: the process pool with long-lived workers (today's default), the
pool with a fresh process per trial (``recycle_after=1``, what CUDA sweeps use), and Ray (one
fresh actor per trial, a local instance started once before the timing).

Run it in a network namespace with loopback only, so that Ray binds to 127.0.0.1:

    unshare -n sh -c 'ip link set lo up && python benchmarks/executor_overhead.py'
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from automl_vision import choice
from automl_vision.executors.function import ObjectiveTarget
from automl_vision.executors.pool import ProcessPoolExecutor
from automl_vision.sampling import create_sampler
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import PrimaryMetricGoal


def sleeper(params: dict, report) -> float:
    """Sleep ``params['seconds']`` in 0.5 s steps, reporting after each."""
    steps = max(1, round(params["seconds"] / 0.5))
    for step in range(1, steps + 1):
        time.sleep(params["seconds"] / steps)
        report(step, float(step))
    return float(params["x"])


def _sweep(executor, seconds: float, trials: int) -> float:
    space = {"seconds": seconds, "x": choice(*range(1000))}
    sampler = create_sampler("random", space, seed=0)
    scheduler = Scheduler(sampler, executor, goal=PrimaryMetricGoal.MAXIMIZE, max_trials=trials)
    start = time.perf_counter()
    outcome = scheduler.run()
    wall = time.perf_counter() - start
    assert all(t.status.value == "COMPLETED" for t in outcome.trials), outcome.trials
    return wall


def main(trials_1s: int, trials_10s: int, concurrency: int) -> dict:
    import ray

    from automl_vision.executors.ray_executor import RayExecutor, TrialResources

    target = ObjectiveTarget(sleeper)
    rows = []
    ray.init(include_dashboard=False, log_to_driver=False, num_cpus=concurrency)
    try:
        # Ray's first actor pays for its worker pool's warm-up: not a per-trial cost
        warm = RayExecutor(target, ray=ray, capacity=1, output_dir=tempfile.mkdtemp(),
                           resources=TrialResources(cpus=1))  # fmt: skip
        _sweep(warm, 0.5, 1)
        for seconds, trials in ((1.0, trials_1s), (10.0, trials_10s)):
            ideal = trials * seconds / concurrency
            makers = {
                "process pool (long-lived workers)": lambda out: ProcessPoolExecutor(
                    target, slots=[""] * concurrency, output_dir=out, threads_per_worker=1
                ),
                "process pool (fresh process per trial)": lambda out: ProcessPoolExecutor(
                    target,
                    slots=[""] * concurrency,
                    output_dir=out,
                    threads_per_worker=1,
                    recycle_after=1,
                ),
                "ray (fresh actor per trial)": lambda out: RayExecutor(
                    target,
                    ray=ray,
                    capacity=concurrency,
                    output_dir=out,
                    resources=TrialResources(cpus=1),
                ),
            }
            for name, make in makers.items():
                with tempfile.TemporaryDirectory() as out:
                    wall = _sweep(make(Path(out)), seconds, trials)
                overhead = (wall - ideal) * concurrency / trials
                rows.append(
                    {"executor": name, "trial_s": seconds, "trials": trials,
                     "wall_s": round(wall, 2), "overhead_per_trial_s": round(overhead, 3)}
                )  # fmt: skip
                print(f"{seconds:>4.0f} s trials  {name:<40} wall {wall:6.2f} s  "
                      f"overhead/trial {overhead:6.3f} s", flush=True)  # fmt: skip
    finally:
        ray.shutdown()
    return {"concurrency": concurrency, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials-1s", type=int, default=8)
    parser.add_argument("--trials-10s", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    result = main(args.trials_1s, args.trials_10s, args.concurrency)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
