"""Sweep overhead: the sweep's wall time minus the trials' own training time.

Runs the demo sweep (real digit images, the ``cpu_tiny`` preset, Bayesian sampling, ASHA) in one
process and compares the wall time of ``tune()`` with the sum of the trials' own times (from a
trial's start to its end: loading the trainer, building the model, training, evaluating and
checkpointing). What is left is the sweep's own cost: reading and fingerprinting the dataset
once, planning, sampling, policy decisions, the SQLite store, the progress display, and the
results (metrics JSON, plots, best-checkpoint link). Target: < 5% of the wall time.

torch and timm are imported before the clock starts (their import time is printed): that is a
one-time cost of any training run in a fresh process, not of the sweep.

    python benchmarks/sweep_overhead.py [--trials 12] [--output-dir /tmp/overhead]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--output-dir", default=None)
    parser.add_argument("--sampling", default="bayesian")
    args = parser.parse_args()

    started = time.perf_counter()
    import timm  # noqa: F401 - a one-time import of any training run, timed separately
    import torch  # noqa: F401

    import_seconds = time.perf_counter() - started

    from automl_vision import tune
    from automl_vision.data.demo import digits

    work = Path(args.output_dir or tempfile.mkdtemp(prefix="overhead-"))
    data = digits(work / "digits")
    run = work / "sweep"
    shutil.rmtree(run, ignore_errors=True)

    start = time.perf_counter()
    result = tune(
        data,
        search_space="cpu_tiny",
        sampling=args.sampling,
        max_trials=args.trials,
        output_dir=run,
        progress=False,
    )
    wall = time.perf_counter() - start

    trained = [t for t in result.trials if "reused_from" not in t.artifacts]
    trial_seconds = sum(t.finished_at - t.started_at for t in trained)
    train_seconds = sum(float(t.artifacts.get("seconds") or 0.0) for t in trained)
    overhead = wall - trial_seconds
    rows = [
        ("trials", f"{len(result.trials)} ({result.counts()['STOPPED']} stopped early)"),
        ("best accuracy", f"{result.best_value:.4f}"),
        ("import torch + timm (before)", f"{import_seconds:.1f} s"),
        ("sweep wall time", f"{wall:.1f} s"),
        ("sum of trials' own time", f"{trial_seconds:.1f} s"),
        ("  of which inside train()", f"{train_seconds:.1f} s"),
        ("sweep overhead", f"{overhead:.2f} s"),
        ("overhead / wall time", f"{overhead / wall:.2%}  (target < 5%)"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"sweep overhead on the demo (digits, cpu_tiny, {args.sampling}, inline executor)")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
