# STAND-IN for issue 29 piece E: replaced at merge
"""The leaderboard of a benchmark and its files (stand-in: JSON, CSV and a plain table)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from automl_vision.storage import write_atomically
from automl_vision.trial import PrimaryMetricGoal

__all__ = ["BoardRow", "ClassRow", "ComparisonRow", "ComputeRow", "ConfigRow", "Leaderboard"]


class BoardRow(BaseModel):
    dataset: str
    method: str
    metric: str
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    goal: PrimaryMetricGoal


class ClassRow(BaseModel):
    dataset: str
    method: str
    class_name: str
    metric: str
    mean: float
    ci_low: float
    ci_high: float


class ComparisonRow(BaseModel):
    dataset: str
    metric: str
    method_a: str
    method_b: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    better: str | None = None


class ComputeRow(BaseModel):
    dataset: str
    method: str
    trials: int
    tune_seconds: float
    retrain_seconds: float
    retrained_models: int


class ConfigRow(BaseModel):
    dataset: str
    method: str
    rank: int
    params: dict[str, Any]
    validation_value: float | None
    test_mean: float | None
    test_ci_low: float | None
    test_ci_high: float | None
    selected: bool


class Leaderboard(BaseModel):
    version: int = 1
    primary_metric: dict[str, str]
    protocol: dict[str, Any]
    rows: list[BoardRow]
    per_class: list[ClassRow] = []
    comparisons: list[ComparisonRow] = []
    compute: list[ComputeRow] = []
    configs: list[ConfigRow] = []

    def write(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        columns = ["dataset", "method", "metric", "mean", "ci_low", "ci_high", "n_seeds"]
        writer.writerow(columns)
        for row in self.rows:
            writer.writerow([getattr(row, c) for c in columns])
        head = "| dataset | method | metric | mean | 95% CI | seeds |"
        lines = [head, "|---|---|---|---|---|---|"]
        lines += [
            f"| {r.dataset} | {r.method} | {r.metric} | {r.mean:.4f} | "
            f"[{r.ci_low:.4f}, {r.ci_high:.4f}] | {r.n_seeds} |"
            for r in self.rows
        ]
        return [
            write_atomically(out / "leaderboard.json", self.model_dump_json(indent=2)),
            write_atomically(out / "leaderboard.csv", buffer.getvalue()),
            write_atomically(out / "leaderboard.md", "\n".join(lines) + "\n"),
        ]

    @classmethod
    def read(cls, out_dir: str | Path) -> Leaderboard:
        return cls.model_validate(json.loads((Path(out_dir) / "leaderboard.json").read_text()))
