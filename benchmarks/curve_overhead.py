"""The curve policy's cost per report at a sweep's size: fit + decision, median over reports.

Builds the policy's view of a sweep of ``--trials`` trials from a real curve file (the shared
metaqnn_cifar10 file's curves, or the committed subset in tests/curves/data when the shared
files are absent): 2/3 of them finished (20 reports each, with schedule progress), the rest
running at a random report. Then times ``CurvePolicy().judge(context)`` for ``--decisions``
running trials' latest reports (the model is fitted inside every decision: nothing is cached).
Target (issue 26): median < 50 ms at 300 trials on this machine.

    python benchmarks/curve_overhead.py [--trials 300] [--decisions 200]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

from automl_vision.policies import CurvePolicy, PolicyContext, PrimaryMetricGoal
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Report

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [
    ROOT / ".." / "shared" / "data" / "learning_curves" / "metaqnn_cifar10.csv",
    ROOT / "tests" / "curves" / "data" / "metaqnn_cifar10_subset.csv",
]


def curves() -> np.ndarray:
    path = next(p for p in CANDIDATES if p.is_file())
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = [c for c in rows[0] if c.startswith("acc_")]
    return np.array([[float(r[c]) for c in columns] for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--decisions", type=int, default=200)
    args = parser.parse_args()
    data = curves()
    rng = np.random.default_rng(0)
    n = data.shape[1]
    picked = rng.choice(len(data), size=args.trials, replace=args.trials > len(data))
    history: dict[str, list[float]] = {}
    reports: dict[str, list[Report]] = {}
    finished, running = [], []
    for i, row in enumerate(picked):
        trial = f"trial_{i:04d}"
        length = n if i < 2 * args.trials // 3 else int(rng.integers(1, n))
        values = data[row, :length].tolist()
        history[trial] = values
        reports[trial] = [
            Report(k + 1, v, {PROGRESS_KEY: (k + 1) / n, COST_KEY: float(k + 1)})
            for k, v in enumerate(values)
        ]
        (finished if length == n else running).append(trial)
    policy = CurvePolicy()
    times = []
    stops = 0
    for k in range(args.decisions):
        trial = running[k % len(running)]
        context = PolicyContext(
            history=history,
            goal=PrimaryMetricGoal.MAXIMIZE,
            trial_id=trial,
            finished=finished,
            reports=reports,
        )
        started = time.perf_counter()
        decision = policy.judge(context)
        times.append(time.perf_counter() - started)
        stops += decision.stop
    ms = sorted(t * 1000 for t in times)
    print(
        f"{args.trials} trials ({len(finished)} finished), {args.decisions} decisions: "
        f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * len(ms))]:.1f} ms, "
        f"max {ms[-1]:.1f} ms; {stops} stopped"
    )


if __name__ == "__main__":
    main()
