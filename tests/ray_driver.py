"""A Ray driver run by tests/executors/test_ray_cluster.py inside the cluster's network namespace.

python ray_driver.py ADDRESS sweep DATA OUTPUT [--trials 6] [--concurrency 3] [--epochs 2]
    [--policy asha] [--kill-second-node RAYLET_PID]
python ray_driver.py ADDRESS optimize | timeout
Prints one JSON line: what the test checks.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import ray
from helpers_sweep import tiny_space
from ray_objectives import CURVE_SPACE, curve

from automl_vision import ASHAPolicy, NoTerminationPolicy, choice, optimize, tune

#: the time limit of run_timeout's trials: far above what a 0.5 s trial takes on a loaded machine
TIMEOUT_S = 60


def _second_node_id() -> str:
    for node in ray.nodes():
        if node.get("Alive") and "second" in node.get("Resources", {}):
            return node["NodeID"]
    raise SystemExit("no second node in the cluster")


def _kill_when_running_there(db: Path, node_id: str, pid: int, out: dict) -> None:
    """Kill ``pid`` (the second node's raylet) once a trial placed there has reported."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            row = con.execute(
                "SELECT a.trial_index FROM attempts a WHERE a.placement LIKE ? AND "
                "a.finished_at IS NULL AND EXISTS (SELECT 1 FROM reports r WHERE "
                "r.trial_index = a.trial_index AND r.attempt = a.attempt)",
                (f"%({node_id[:8]})%",),
            ).fetchone()
            con.close()
        except sqlite3.Error:
            row = None
        if row is not None:
            os.kill(pid, signal.SIGKILL)
            out["killed_during_trial"] = int(row[0])
            return
        time.sleep(0.05)


def sweep(args: argparse.Namespace) -> dict:
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    second = _second_node_id()
    killed: dict = {}
    if args.kill_second_node:
        watcher = threading.Thread(
            target=_kill_when_running_there,
            args=(Path(args.output) / "sweep.db", second, args.kill_second_node, killed),
            daemon=True,
        )
        watcher.start()
    policy = ASHAPolicy(1, args.epochs, 3) if args.policy == "asha" else NoTerminationPolicy()
    result = tune(
        args.data,
        search_space=tiny_space(
            number_of_epochs=args.epochs,
            training_batch_size=32,
            learning_rate=choice(0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
        ),
        policy=policy,
        max_trials=args.trials,
        max_concurrent_trials=args.concurrency,
        executor="ray",
        ray_address=args.address,
        resources_per_trial={"cpu": 1},
        output_dir=args.output,
        seed=3,
        progress=False,
    )
    return {
        "second_node": second,
        "statuses": [t.status.value for t in result.trials],
        **killed,
    }


def run_optimize(args: argparse.Namespace) -> dict:
    results = {}
    for executor in ("inline", "ray"):
        extra = {"ray_address": args.address} if executor == "ray" else {}
        found = optimize(
            curve,
            CURVE_SPACE,
            sampling="random",
            max_trials=8,
            seed=11,
            policy=ASHAPolicy(1, 9, 3),
            executor=executor,
            **extra,
        )
        results[executor] = [
            [t.params, t.status.value, t.value, [(r.step, r.value) for r in t.reports]]
            for t in found.trials
        ]
    return results


def run_timeout(args: argparse.Namespace) -> dict:
    """A trial past its time limit is killed on the cluster (its actor, not the sweep)."""
    import tempfile

    from ray_objectives import sleep_for

    from automl_vision.executors.function import ObjectiveTarget
    from automl_vision.executors.ray_executor import RayExecutor, TrialResources
    from automl_vision.sampling import create_sampler
    from automl_vision.scheduling.scheduler import Scheduler
    from automl_vision.trial import PrimaryMetricGoal

    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    executor = RayExecutor(
        ObjectiveTarget(sleep_for),
        ray=ray,
        capacity=2,
        output_dir=tempfile.mkdtemp(),
        resources=TrialResources(cpus=1),
        trial_timeout=TIMEOUT_S,
    )
    sampler = create_sampler("grid", {"seconds": choice(0.5, 600.0)}, seed=0)
    start = time.monotonic()
    outcome = Scheduler(
        sampler, executor, goal=PrimaryMetricGoal.MAXIMIZE, max_trials=2, trial_timeout=TIMEOUT_S
    ).run()
    return {
        "seconds": time.monotonic() - start,
        "trials": [[t.params["seconds"], t.status.value, t.error] for t in outcome.trials],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("sweep")
    s.add_argument("data")
    s.add_argument("output")
    s.add_argument("--trials", type=int, default=6)
    s.add_argument("--concurrency", type=int, default=3)
    s.add_argument("--epochs", type=int, default=2)
    s.add_argument("--policy", default="none")
    s.add_argument("--kill-second-node", type=int, default=0)
    sub.add_parser("optimize")
    sub.add_parser("timeout")
    parsed = parser.parse_args()
    run = {"sweep": sweep, "optimize": run_optimize, "timeout": run_timeout}[parsed.what]
    out = run(parsed)
    print("RESULT " + json.dumps(out), flush=True)
    sys.exit(0)
