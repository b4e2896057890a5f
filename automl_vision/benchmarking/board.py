"""The benchmark's statistics, from the test probabilities the cells saved: the leaderboard.

Per dataset, ONE set of bootstrap resamples of its test images (``bootstrap_weights`` from a
generator seeded with ``BOOTSTRAP_SEED``) serves every method and every seed, so that the
comparisons between methods are paired. For each cell, the models of its selected configuration
(one per seed) are scored (``scores.score``) on the whole test set and on every resample;
``stats.interval`` turns the K seed values and the K×B resampled values into the mean and
confidence interval of each metric, and of each class's AP and F1 (``scores.per_class``).
Multilabel models are scored at the thresholds chosen on the validation images
(``retrain.py``), never on test. Every pair of methods on a dataset is compared on every metric
(``stats.compare``: the difference a − b, its interval and p-value); ``better`` names the
method that is significantly better given the metric's goal (p < 0.05,
``reporting.leaderboard.significantly_better``). Intervals are clipped to the values a metric
can take (``scores.metric_range``).

The leaderboard's primary metric of a dataset is the sweeps' primary metric when all its
methods tuned the same one and the test metrics include it (``map`` is ``map_macro``), else
``accuracy`` (multiclass) or ``map_macro`` (multilabel).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np

from automl_vision.benchmarking.protocol import CellRun
from automl_vision.benchmarking.retrain import read_probs
from automl_vision.benchmarking.scores import (
    bootstrap_weights,
    metric_goal,
    metric_names,
    metric_range,
    per_class,
    score,
)
from automl_vision.benchmarking.splits import FixedSplit
from automl_vision.benchmarking.stats import Interval, compare, interval
from automl_vision.data.task import Task
from automl_vision.reporting.leaderboard import (
    BoardRow,
    ClassRow,
    ComparisonRow,
    ComputeRow,
    ConfigRow,
    Leaderboard,
    significantly_better,
)

__all__ = ["BOOTSTRAP_SEED", "build_leaderboard", "primary_metric"]

BOOTSTRAP_SEED = 20_29
_DEFAULT = {Task.MULTICLASS: "accuracy", Task.MULTILABEL: "map_macro"}
_SAME = {"map": "map_macro"}  # the trainer's name of a test metric


@dataclass(frozen=True)
class _Scores:
    """One configuration's metrics: per metric (K,) seed values and (K, B) resampled values;
    per-class AP and F1: (K, C) and (K, B, C)."""

    seed: dict[str, np.ndarray]
    boot: dict[str, np.ndarray]
    class_seed: dict[str, np.ndarray]
    class_boot: dict[str, np.ndarray]


def primary_metric(task: Task, runs: Sequence[CellRun]) -> str:
    """The leaderboard's primary metric of a dataset (see the module docstring)."""
    names = {_SAME.get(r.primary_metric, r.primary_metric) for r in runs}
    if len(names) == 1 and (name := names.pop()) in metric_names(task):
        return name
    return _DEFAULT[task]


def _score(run: CellRun, rank: int, split: FixedSplit, weights: np.ndarray) -> _Scores:
    targets = split.test_targets()
    seed: dict[str, list[np.ndarray]] = {}
    boot: dict[str, list[np.ndarray]] = {}
    class_seed: dict[str, list[np.ndarray]] = {}
    class_boot: dict[str, list[np.ndarray]] = {}
    for s, model in enumerate(run.models[rank]):
        probs = read_probs(run.cell.model_dir(rank, s))
        thresholds = model.get("thresholds")
        t = None if thresholds is None else np.asarray(thresholds, dtype=np.float64)
        for name, values in score(split.task, probs, targets, t).items():
            seed.setdefault(name, []).append(values[0])
        for name, values in score(split.task, probs, targets, t, weights).items():
            boot.setdefault(name, []).append(values)
        for name, values in per_class(split.task, probs, targets, t).items():
            class_seed.setdefault(name, []).append(values[0])
        for name, values in per_class(split.task, probs, targets, t, weights).items():
            class_boot.setdefault(name, []).append(values)
    order = [n for n in metric_names(split.task) if n in seed]
    return _Scores(
        {n: np.asarray(seed[n]) for n in order},
        {n: np.stack(boot[n]) for n in order},
        {n: np.asarray(v) for n, v in class_seed.items()},
        {n: np.stack(v) for n, v in class_boot.items()},
    )


def _interval(name: str, seed: np.ndarray, boot: np.ndarray, level: float) -> Interval:
    """``stats.interval`` clipped to the values the metric can take (``metric_range``): an
    interval of a bounded metric never claims values it cannot have."""
    found = interval(seed, boot, level, n_images=boot.shape[1])
    low, high = metric_range(name)
    return replace(
        found, ci_low=np.clip(found.ci_low, low, high), ci_high=np.clip(found.ci_high, low, high)
    )


def build_leaderboard(
    splits: dict[str, FixedSplit],
    runs: dict[str, list[CellRun]],
    *,
    bootstrap: int,
    level: float,
    protocol: dict[str, Any],
) -> Leaderboard:
    """The leaderboard of the cells' results (``runs``: per dataset, its cells in method
    order)."""
    rows: list[BoardRow] = []
    classes: list[ClassRow] = []
    comparisons: list[ComparisonRow] = []
    compute: list[ComputeRow] = []
    configs: list[ConfigRow] = []
    primary: dict[str, str] = {}
    for dataset, cell_runs in runs.items():
        split = splits[dataset]
        primary[dataset] = main = primary_metric(split.task, cell_runs)
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        weights = bootstrap_weights(len(split.test), bootstrap, rng)
        selected: dict[str, _Scores] = {}
        for run in cell_runs:
            method = run.cell.method
            for ranked in run.ranked:
                rank = int(ranked["rank"])
                scores = _score(run, rank, split, weights)
                if rank == run.selected_rank:
                    selected[method] = scores
                models = run.models[rank]
                main_interval = _interval(main, scores.seed[main], scores.boot[main], level)
                values = [
                    m["validation_value"] for m in models if m["validation_value"] is not None
                ]
                configs.append(
                    ConfigRow(
                        dataset=dataset,
                        method=method,
                        rank=rank,
                        params={k: v for k, v in ranked["params"].items() if k != "random_seed"},
                        validation_value=(
                            float(np.mean(values))
                            if values and protocol["retrain_on"] == "train"
                            else ranked["value"]
                        ),
                        test_mean=float(main_interval.mean),
                        test_ci_low=float(main_interval.ci_low),
                        test_ci_high=float(main_interval.ci_high),
                        selected=rank == run.selected_rank,
                    )
                )
            scores = selected[method]
            for name in scores.seed:
                found = _interval(name, scores.seed[name], scores.boot[name], level)
                rows.append(
                    BoardRow(
                        dataset=dataset,
                        method=method,
                        metric=name,
                        mean=float(found.mean),
                        ci_low=float(found.ci_low),
                        ci_high=float(found.ci_high),
                        n_seeds=int(found.n_seeds),
                        goal=metric_goal(name),
                    )
                )
            for name in scores.class_seed:
                seed, boot = scores.class_seed[name], scores.class_boot[name]
                found = _interval("map_macro", seed, boot, level)  # per-class AP, F1: [0, 1]
                for c, class_name in enumerate(split.class_names):
                    classes.append(
                        ClassRow(
                            dataset=dataset,
                            method=method,
                            class_name=class_name,
                            metric=name,
                            mean=float(found.mean[c]),
                            ci_low=float(found.ci_low[c]),
                            ci_high=float(found.ci_high[c]),
                        )
                    )
            compute.append(
                ComputeRow(
                    dataset=dataset,
                    method=method,
                    trials=int(run.compute["trials"]),
                    tune_seconds=float(run.compute["tune_seconds"]),
                    retrain_seconds=float(run.compute["retrain_seconds"]),
                    retrained_models=int(run.compute["retrained_models"]),
                )
            )
        for a, b in combinations([r.cell.method for r in cell_runs], 2):
            sa, sb = selected[a], selected[b]
            for name in sa.seed:
                if name not in sb.seed:
                    continue
                found = compare(sa.seed[name], sa.boot[name], sb.seed[name], sb.boot[name], level)
                comparisons.append(
                    ComparisonRow(
                        dataset=dataset,
                        metric=name,
                        method_a=a,
                        method_b=b,
                        difference=float(found.difference),
                        ci_low=float(found.ci_low),
                        ci_high=float(found.ci_high),
                        p_value=float(found.p_value),
                        better=significantly_better(
                            a, b, float(found.difference), float(found.p_value), metric_goal(name)
                        ),
                    )
                )
    return Leaderboard(
        primary_metric=primary,
        protocol=protocol,
        rows=rows,
        per_class=classes,
        comparisons=comparisons,
        compute=compute,
        configs=configs,
    )
