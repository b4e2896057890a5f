"""Multi-fidelity search bounded by a trial count, as tune() runs it (20 trials by default).

The same search problems, methods and peers as ``benchmarks/multifidelity.py`` (recorded curves
as a search; each proposal trains the nearest recorded configuration not started yet; 4 trials
at a time with random per-epoch durations), but each search ends after ``--trials`` trials
instead of an epoch budget. That is how ``tune()`` sweeps by default, so this is the table its
default sampler and policy are chosen on: a policy that stops trials early cannot try more
configurations here, it can only save epochs, and a promotion policy must end with its best
trials trained to the end (its closing promotion) or it finds nothing.

Per method, median [IQR] over seeds: regret of the best fully trained configuration (file's
best final accuracy minus it; the file's best when nothing ran every epoch), epochs used as a
share of ``trials x E``, and how many fully trained trials the search ended with.

    python benchmarks/multifidelity_trials.py [CURVES_DIR] --trials 20 --seeds 10 --workers 2 \
        --methods "bayesian + none" "bayesian + hyperband (first rung E/9)" ...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from multifidelity import is_peer, quartiles, search, search_arguments

DEFAULT_METHODS = [
    "random + none", "random + hyperband", "random + hyperband (first rung E/9)",
    "random + asha", "random + asha (promotion)",
    "bayesian + none", "bayesian + median", "bayesian + hyperband",
    "bayesian + hyperband (first rung E/9)", "bayesian + asha",
    "bayesian + asha (promotion)", "bayesian + asha (promotion, first rung E/9)",
    "bayesian + hyperband (promotion)", "random + hyperband (shared rungs)",
    "bayesian + hyperband (shared rungs)", "bayesian + hyperband (shared rungs, first rung E/9)",
    "optuna TPE", "optuna TPE + HyperbandPruner",
]  # fmt: skip


def run(args: tuple[str, str, int, int]) -> dict[str, Any]:
    path, method, seed, trials = args
    problem, executor, recorder = search(path, method, seed, trials)
    found = [v for _, v in recorder.full]
    return {
        "dataset": Path(path).stem,
        "method": method,
        "seed": seed,
        "best": problem.best,
        "regret": problem.best - max(found) if found else problem.best,
        "share": executor.epochs_run / (trials * problem.epochs),
        "full": len(found),
    }


def table(results: Sequence[Mapping[str, Any]], dataset: str, methods: Sequence[str]) -> None:
    rows = [r for r in results if r["dataset"] == dataset]
    print(f"### {dataset}: {len(rows) // max(len(methods), 1)} seeds per method\n")
    print("| method | regret median [IQR] | epochs (share of trials x E) | fully trained |")
    print("|---|---|---:|---:|")
    medians = {}
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        if not mine:
            continue
        mid, lo, hi = quartiles([r["regret"] for r in mine])
        medians[m] = mid
        share = statistics.median(r["share"] for r in mine)
        full = statistics.median(r["full"] for r in mine)
        print(f"| {m} | {mid:.4f} [{lo:.4f}, {hi:.4f}] | {share:.2f} | {full:g} |")
    shares = {m: statistics.median(r["share"] for r in rows if r["method"] == m) for m in medians}
    for m in medians:
        sampler, _, policy = m.partition(" + ")
        none = f"{sampler} + none"
        if not policy.startswith("hyperband") or none not in medians:
            continue
        best = rows[0]["best"]
        within = best - medians[m] >= 0.99 * (best - medians[none])
        ok = within and shares[m] <= 1 / 3
        print(f"- target: {m} within 1% of {none} ({medians[m]:.4f} vs {medians[none]:.4f}: "
              f"{'yes' if within else 'no'}) with <= 1/3 of its epochs ({shares[m]:.2f}): "
              f"{'PASS' if ok else 'FAIL'}")  # fmt: skip
    ours = [m for m in medians if not is_peer(m)]
    if ours:
        best = min(ours, key=lambda m: medians[m])
        print(f"\n- lowest median regret of ours: {best} ({medians[best]:.4f})")
        for p in (m for m in medians if is_peer(m)):
            print(f"- {best} vs {p}: {medians[best] - medians[p]:+.4f}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    search_arguments(parser, DEFAULT_METHODS)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args(argv)
    tasks = [
        (str(Path(args.curves) / f"{d}.csv"), m, s, args.trials)
        for d in args.datasets for m in args.methods for s in range(args.seeds)
    ]  # fmt: skip
    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(run, tasks))
    else:
        results = [run(t) for t in tasks]
    print(f"{args.trials} trials per search, measured in {time.perf_counter() - started:.0f} s\n")
    for dataset in args.datasets:
        table(results, dataset, args.methods)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
