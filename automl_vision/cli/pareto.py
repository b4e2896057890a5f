"""``automl-vision pareto RUN_DIR [--max-latency-ms N] [--max-params-m N]``: the sweep's Pareto
front as a table (``TuneResult.pareto_front``), optionally only the trials within the bounds.

Each row: the trial, its objectives' values, its deployment metrics and its model. A folder that
holds no sweep, or a bound that is not a positive number, is a user error (one line, exit 2).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from automl_vision.cli.common import UsageError
from automl_vision.metric_catalog import DEPLOYMENT_METRICS
from automl_vision.reporting.front import sweep_objectives, trial_point
from automl_vision.reporting.result import TuneResult
from automl_vision.store.database import SweepStore

__all__ = ["add_commands", "front_table"]

#: the bound flags: flag -> the deployment metric it bounds from above
BOUNDS = {"max_latency_ms": "latency_ms", "max_params_m": "params_m"}


def add_commands(sub: Any) -> None:
    p = sub.add_parser("pareto", help="the Pareto front of a multi-objective sweep, as a table")
    p.add_argument("run_dir")
    p.add_argument("--max-latency-ms", type=str, help="only trials at most this latency (ms)")
    p.add_argument("--max-params-m", type=str, help="only trials with at most N million params")
    p.set_defaults(func=_pareto)


def _bound(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag}={text!r} is not allowed; it must be a positive number")
    return value


def front_table(result: TuneResult, bounds: dict[str, float]) -> str:
    """The front's trials within ``bounds`` (metric -> upper bound) as aligned text."""
    objectives = [
        o.name for o in sweep_objectives(result.settings, result.primary_metric, result.goal)
    ]
    shown = objectives + [m for m in DEPLOYMENT_METRICS if m not in objectives]
    rows = []
    for trial in result.pareto_front:
        point = trial_point(trial, result.primary_metric)
        if any(not point.get(m, math.inf) <= limit for m, limit in bounds.items()):
            continue
        rows.append(
            [trial.trial_id]
            + [f"{point[m]:.4g}" if m in point else "-" for m in shown]
            + [str(trial.params.get("model_name", "-"))]
        )
    head = ["trial", *shown, "model"]
    used = [i for i in range(len(head)) if i == 0 or i == len(head) - 1 or i <= len(objectives)
            or any(r[i] != "-" for r in rows)]  # fmt: skip
    table = [[h for i, h in enumerate(head) if i in used]]
    table += [[c for i, c in enumerate(r) if i in used] for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    said = ", ".join(f"{m} <= {v:g}" for m, v in bounds.items())
    lines.append(f"{len(rows)} trials on the front" + (f" within {said}" if said else ""))
    return "\n".join(lines)


def _pareto(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    if not (run_dir / SweepStore.FILENAME).is_file():
        raise UsageError(f"{run_dir} holds no sweep (no {SweepStore.FILENAME})")
    bounds = {
        metric: value
        for flag, metric in BOUNDS.items()
        if (value := _bound(getattr(args, flag), "--" + flag.replace("_", "-"))) is not None
    }
    print(front_table(TuneResult.load(run_dir), bounds))
    return 0
