"""A made-up benchmark leaderboard for the tests of its files, charts and pages (no training)."""

from __future__ import annotations

import numpy as np

from automl_vision.reporting.leaderboard import (
    BoardRow,
    ClassRow,
    ComparisonRow,
    ComputeRow,
    ConfigRow,
    Leaderboard,
    significantly_better,
)
from automl_vision.trial import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
METRICS = {
    "map_macro": MAX,
    "map_micro": MAX,
    "f1_micro": MAX,
    "f1_macro": MAX,
    "f1_micro_tuned": MAX,
    "f1_macro_tuned": MAX,
    "hamming_loss": MIN,
    "subset_accuracy": MAX,
    "label_ranking_ap": MAX,
    "coverage_error": MIN,
    "log_loss": MIN,
}
LONG_METHODS = (
    "resnet18_asl_bayesian_budget_large",
    "efficientnet_b0_bce_random_search_small_budget",
    "vit_tiny",
)
CLASSES = (*(f"digit_{i}" for i in range(8)), "a_rather_long_class_name", "9")


def fake_leaderboard(
    datasets: tuple[str, ...] = ("composed_digits", "voc_small_subset"),
    methods: tuple[str, ...] = LONG_METHODS,
    classes: tuple[str, ...] = CLASSES,
    seed: int = 0,
) -> Leaderboard:
    """Every metric, per-class AP and F1, comparisons, compute and top-2 configurations."""
    rng = np.random.default_rng(seed)
    rows, per_class, comparisons, compute, configs = [], [], [], [], []
    for dataset in datasets:
        for j, method in enumerate(methods):
            for metric, goal in METRICS.items():
                base = 0.6 + 0.1 * j if goal is MAX else 0.3 - 0.05 * j
                if metric == "coverage_error":
                    base = 3.0 - 0.4 * j
                mean = float(base + rng.normal(0, 0.01))
                half = float(abs(rng.normal(0.03, 0.01)))
                rows.append(
                    BoardRow(
                        dataset=dataset, method=method, metric=metric, mean=mean,
                        ci_low=mean - half, ci_high=mean + half, n_seeds=3, goal=goal,
                    )
                )  # fmt: skip
            for c, name in enumerate(classes):
                for kind in ("ap", "f1"):
                    mean = float(np.clip(0.35 + 0.06 * c + 0.05 * j + rng.normal(0, 0.02), 0, 1))
                    per_class.append(
                        ClassRow(
                            dataset=dataset, method=method, class_name=name, metric=kind,
                            mean=mean, ci_low=max(0.0, mean - 0.05), ci_high=min(1.0, mean + 0.05),
                        )
                    )  # fmt: skip
            compute.append(
                ComputeRow(
                    dataset=dataset, method=method, trials=8 + j, tune_seconds=300.0 * (j + 1),
                    retrain_seconds=95.5, retrained_models=6,
                )
            )  # fmt: skip
            for rank in (1, 2):
                configs.append(
                    ConfigRow(
                        dataset=dataset, method=method, rank=rank,
                        params={"learning_rate": 0.01 / rank, "model_name": method[:12]},
                        validation_value=0.8 - 0.01 * rank, test_mean=0.78, test_ci_low=0.75,
                        test_ci_high=0.81, selected=rank == 1,
                    )
                )  # fmt: skip
        for a in range(len(methods)):
            for b in range(a + 1, len(methods)):
                for metric in ("map_macro", "hamming_loss"):
                    diff = (0.1 if metric == "map_macro" else -0.05) * (a - b)
                    p = 0.001 if b - a == 2 else 0.2
                    comparisons.append(
                        ComparisonRow(
                            dataset=dataset, metric=metric, method_a=methods[a],
                            method_b=methods[b], difference=diff, ci_low=diff - 0.02,
                            ci_high=diff + 0.02, p_value=p,
                            better=significantly_better(
                                methods[a], methods[b], diff, p, METRICS[metric]
                            ),
                        )
                    )  # fmt: skip
    return Leaderboard(
        primary_metric={d: "map_macro" for d in datasets},
        protocol={"seeds": 3, "top_k": 2, "split": {"fractions": [0.6, 0.2, 0.2], "seed": 0}},
        rows=rows,
        per_class=per_class,
        comparisons=comparisons,
        compute=compute,
        configs=configs,
    )
