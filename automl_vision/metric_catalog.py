"""The metrics the trainer reports: names, goals, tasks, and each task's primary metric.

Pure Python (no torch), so that sweeps validate ``primary_metric`` and pick its goal before
anything heavy is imported. The values are computed in ``automl_vision.training.metrics``
(with torchmetrics); the table of names and meanings is in that module's docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

from automl_vision.data.task import Task
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "DEPLOYMENT_METRICS",
    "METRICS",
    "PRIMARY_METRIC",
    "MetricSpec",
    "metric_spec",
    "primary_metric",
]

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
MC, ML = Task.MULTICLASS, Task.MULTILABEL


@dataclass(frozen=True)
class MetricSpec:
    name: str
    goal: PrimaryMetricGoal
    tasks: frozenset[Task]


def _spec(name: str, goal: PrimaryMetricGoal, *tasks: Task) -> MetricSpec:
    return MetricSpec(name, goal, frozenset(tasks))


METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in (
        _spec("accuracy", MAX, MC),
        _spec("accuracy_top5", MAX, MC),
        _spec("precision_macro", MAX, MC),
        _spec("recall_macro", MAX, MC),
        _spec("f1_macro", MAX, MC, ML),
        _spec("log_loss", MIN, MC, ML),
        _spec("iou", MAX, ML),
        _spec("map", MAX, ML),
        _spec("f1_micro", MAX, ML),
        _spec("iou_tuned", MAX, ML),
        _spec("f1_micro_tuned", MAX, ML),
        _spec("f1_macro_tuned", MAX, ML),
        _spec("map_micro", MAX, ML),
        _spec("hamming_loss", MIN, ML),
        _spec("subset_accuracy", MAX, ML),
        _spec("label_ranking_ap", MAX, ML),
        _spec("coverage_error", MIN, ML),
        _spec("train_loss", MIN, MC, ML),
    )
}

PRIMARY_METRIC: dict[Task, str] = {MC: "accuracy", ML: "iou"}

#: the metrics of a configuration's deployed model (``deployment_cache.DeploymentMetrics``:
#: measured once per architecture before training, not reported by the trainer) and their goals;
#: objectives and constraints may name them as well as the trainer's metrics
DEPLOYMENT_METRICS: dict[str, PrimaryMetricGoal] = {
    "latency_ms": MIN,
    "latency_p90_ms": MIN,
    "throughput_ips": MAX,
    "params_m": MIN,
    "macs_g": MIN,
    "model_mb": MIN,
}


def metric_spec(name: str, task: Task | None = None) -> MetricSpec:
    """The spec of metric ``name`` (and a check that ``task`` reports it)."""
    spec = METRICS.get(name)
    if spec is None or (task is not None and task not in spec.tasks):
        allowed = [n for n, s in METRICS.items() if task is None or task in s.tasks]
        what = f" for {task.value}" if task is not None else ""
        raise ValueError(
            f"primary_metric={name!r} is not a metric{what}; choose one of {', '.join(allowed)}"
        )
    return spec


def primary_metric(task: Task, name: str | None = None) -> MetricSpec:
    """The primary metric's spec: ``name`` if given, else the task's default."""
    return metric_spec(name or PRIMARY_METRIC[task], task)
