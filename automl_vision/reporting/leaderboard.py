"""A benchmark's leaderboard: its rows as checked records, and the three files a person reads.

A ``Leaderboard`` holds, per dataset, one ``BoardRow`` per method × metric (the mean over the
seeds' models and its confidence interval), per-class AP and F1 (``ClassRow``), the paired
comparisons between methods (``ComparisonRow``), the compute each cell spent (``ComputeRow``)
and the retrained top-k configurations (``ConfigRow``). ``write(out_dir)`` writes

- ``leaderboard.json``: the whole model (``version`` 1); a number that is not finite (an AP of a
  class the test split lacks) is written as the string ``"NaN"``/``"Infinity"``, so the file is
  strict JSON and reads back to the same value;
- ``leaderboard.csv``: exactly the columns ``dataset,method,metric,mean,ci_low,ci_high,n_seeds``,
  one line per ``BoardRow``; floats as Python's ``repr`` (the shortest text that reads back to
  the same float: full precision), ``nan`` where there is none;
- ``leaderboard.md``: per dataset a table of methods × metrics (``mean [ci_low, ci_high]``, the
  primary metric first, the best mean of each metric in bold by the metric's goal), the paired
  comparisons with their p-values, the compute per cell and the top-k configurations;

each atomically (``storage.write_atomically``). ``Leaderboard.read(out_dir)`` validates the JSON
file and names it in one ``LeaderboardError`` line when it is not a leaderboard. Pure: pydantic
and the standard library; nothing here draws or imports torch.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl_vision.enums import ChoiceEnum
from automl_vision.storage import write_atomically
from automl_vision.trial import PrimaryMetricGoal

__all__ = [
    "CSV_COLUMNS",
    "CSV_NAME",
    "JSON_NAME",
    "MD_NAME",
    "SIGNIFICANCE",
    "BoardRow",
    "ClassMetric",
    "ClassRow",
    "ComparisonRow",
    "ComputeRow",
    "ConfigRow",
    "Leaderboard",
    "LeaderboardError",
    "arrow",
    "duration",
    "goal_text",
    "interval_text",
    "md_text",
    "number",
    "p_text",
    "params_text",
    "significantly_better",
]

JSON_NAME = "leaderboard.json"
CSV_NAME = "leaderboard.csv"
MD_NAME = "leaderboard.md"
CSV_COLUMNS = ("dataset", "method", "metric", "mean", "ci_low", "ci_high", "n_seeds")
#: a comparison's difference counts as significant below this p-value
SIGNIFICANCE = 0.05

_RECORD = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")
#: a name: text of at least one character
Name = Annotated[str, Field(min_length=1)]


class LeaderboardError(ValueError):
    """A file that is not a leaderboard this version writes: one line naming the file and the
    first fields that are wrong."""


class ClassMetric(ChoiceEnum):
    """The per-class metrics of a benchmark."""

    AP = "ap"
    F1 = "f1"


def goal_text(goal: PrimaryMetricGoal) -> str:
    """``"higher is better"`` or ``"lower is better"``."""
    return "higher is better" if goal is PrimaryMetricGoal.MAXIMIZE else "lower is better"


def significantly_better(
    method_a: str,
    method_b: str,
    difference: float,
    p_value: float,
    goal: PrimaryMetricGoal,
    alpha: float = SIGNIFICANCE,
) -> str | None:
    """The method whose metric is significantly better (``p_value < alpha``), given that
    ``difference`` is a − b and ``goal`` says which direction is better; None for no verdict
    (not significant, no difference, or a value that is not a number)."""
    if not (math.isfinite(difference) and math.isfinite(p_value)) or p_value >= alpha:
        return None
    if difference == 0:
        return None
    return method_a if goal.sign * difference > 0 else method_b


class BoardRow(BaseModel):
    """One method's value of one metric on one dataset's test split: the mean over its seeds'
    models and the confidence interval (bootstrap over test images and seeds)."""

    model_config = _RECORD

    dataset: Name
    method: Name
    metric: Name
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int = Field(ge=1)
    goal: PrimaryMetricGoal


class ClassRow(BaseModel):
    """One method's AP or F1 of one class on one dataset's test split, with its interval."""

    model_config = _RECORD

    dataset: Name
    method: Name
    class_name: Name
    metric: ClassMetric
    mean: float
    ci_low: float
    ci_high: float


class ComparisonRow(BaseModel):
    """Method a against method b on one dataset and metric, paired over the same test-image
    resamples: ``difference`` = a − b with its interval and p-value; ``better`` the method that
    is significantly better (p < 0.05, by the metric's goal), else None."""

    model_config = _RECORD

    dataset: Name
    metric: Name
    method_a: Name
    method_b: Name
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    better: str | None = None

    @model_validator(mode="after")
    def _better_is_one_of_the_two(self) -> ComparisonRow:
        if self.better is not None and self.better not in (self.method_a, self.method_b):
            raise ValueError(
                f"better must be method_a ({self.method_a!r}), method_b ({self.method_b!r}) or "
                f"null, got {self.better!r}"
            )
        return self


class ComputeRow(BaseModel):
    """What one cell (dataset × method) spent: tuning trials and seconds, retraining seconds
    and the number of models retrained (top-k configurations × seeds)."""

    model_config = _RECORD

    dataset: Name
    method: Name
    trials: int = Field(ge=0)
    tune_seconds: float = Field(ge=0)
    retrain_seconds: float = Field(ge=0)
    retrained_models: int = Field(ge=0)


class ConfigRow(BaseModel):
    """One of a cell's top-k configurations (``rank`` 1 = best on validation): its parameters,
    its validation value of the primary metric, the test mean and interval of its retrained
    seeds (None where it was not retrained), and whether it is the configuration the cell's
    leaderboard rows report (``selected``)."""

    model_config = _RECORD

    dataset: Name
    method: Name
    rank: int = Field(ge=1)
    params: dict[str, Any]
    validation_value: float | None = None
    test_mean: float | None = None
    test_ci_low: float | None = None
    test_ci_high: float | None = None
    selected: bool = False


def _first_seen(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class Leaderboard(BaseModel):
    """Everything a benchmark reports. ``primary_metric`` maps each dataset to its primary
    metric; ``protocol`` is the protocol as run (split, seeds, top-k, interval level ...), shown
    as it is. Order is kept: datasets as in ``primary_metric``, methods and metrics in the order
    of their first row (the primary metric always first)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")

    version: Literal[1] = 1
    primary_metric: dict[str, str]
    protocol: dict[str, Any] = Field(default_factory=dict)
    rows: list[BoardRow]
    per_class: list[ClassRow] = Field(default_factory=list)
    comparisons: list[ComparisonRow] = Field(default_factory=list)
    compute: list[ComputeRow] = Field(default_factory=list)
    configs: list[ConfigRow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Leaderboard:
        seen: set[tuple[str, str, str]] = set()
        goals: dict[tuple[str, str], PrimaryMetricGoal] = {}
        for i, row in enumerate(self.rows):
            key = (row.dataset, row.method, row.metric)
            if key in seen:
                raise ValueError(f"rows.{i}: a second row for {key}; one row per cell and metric")
            seen.add(key)
            if goals.setdefault((row.dataset, row.metric), row.goal) is not row.goal:
                raise ValueError(
                    f"rows.{i}: metric {row.metric!r} of dataset {row.dataset!r} has two goals"
                )
        for dataset in _first_seen(r.dataset for r in self.rows):
            metric = self.primary_metric.get(dataset)
            if metric is None:
                raise ValueError(f"primary_metric names no metric for dataset {dataset!r}")
            if (dataset, metric) not in goals:
                raise ValueError(
                    f"primary_metric of dataset {dataset!r} is {metric!r}, which no row has"
                )
        return self

    # -- reading the table ---------------------------------------------------------------------

    def datasets(self) -> list[str]:
        """The datasets with rows: in ``primary_metric``'s order, then any other."""
        with_rows = set(r.dataset for r in self.rows)
        order = _first_seen([*self.primary_metric, *(r.dataset for r in self.rows)])
        return [d for d in order if d in with_rows]

    def methods(self, dataset: str) -> list[str]:
        return _first_seen(r.method for r in self.rows if r.dataset == dataset)

    def metrics(self, dataset: str) -> list[str]:
        """The dataset's metrics, its primary metric first."""
        primary = self.primary_metric[dataset]
        rest = [r.metric for r in self.rows if r.dataset == dataset and r.metric != primary]
        return [primary, *_first_seen(rest)]

    def goal(self, dataset: str, metric: str) -> PrimaryMetricGoal:
        """The goal of ``metric`` on ``dataset`` (maximize when no row says)."""
        return next(
            (r.goal for r in self.rows if r.dataset == dataset and r.metric == metric),
            PrimaryMetricGoal.MAXIMIZE,
        )

    def table(self, dataset: str) -> dict[str, dict[str, BoardRow]]:
        """``{method: {metric: row}}`` of one dataset (a missing cell is absent)."""
        out: dict[str, dict[str, BoardRow]] = {m: {} for m in self.methods(dataset)}
        for r in self.rows:
            if r.dataset == dataset:
                out[r.method][r.metric] = r
        return out

    def best_methods(self, dataset: str, metric: str) -> set[str]:
        """The methods with the best mean of ``metric`` on ``dataset`` by its goal (ties: all;
        a mean that is not a number never wins)."""
        rows = [
            r
            for r in self.rows
            if r.dataset == dataset and r.metric == metric and math.isfinite(r.mean)
        ]
        if not rows:
            return set()
        best = self.goal(dataset, metric).best(r.mean for r in rows)
        return {r.method for r in rows if r.mean == best}

    def classes(self, dataset: str, metric: ClassMetric = ClassMetric.AP) -> list[str]:
        return _first_seen(
            r.class_name for r in self.per_class if r.dataset == dataset and r.metric == metric
        )

    # -- files ---------------------------------------------------------------------------------

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            writer.writerow(
                [r.dataset, r.method, r.metric, repr(r.mean), repr(r.ci_low), repr(r.ci_high),
                 r.n_seeds]
            )  # fmt: skip
        return buffer.getvalue()

    def to_markdown(self) -> str:
        return _markdown(self)

    def write(self, out_dir: str | Path) -> list[Path]:
        """``leaderboard.json``, ``.csv`` and ``.md`` in ``out_dir`` (made if missing), each
        written atomically; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return [
            write_atomically(out / JSON_NAME, self.to_json()),
            write_atomically(out / CSV_NAME, self.to_csv()),
            write_atomically(out / MD_NAME, self.to_markdown()),
        ]

    @classmethod
    def from_json(cls, text: str | bytes, source: str | Path) -> Leaderboard:
        """The leaderboard in ``text``, or one ``LeaderboardError`` naming ``source``."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            raise LeaderboardError(f"{source} is not a leaderboard: {_problems(err)}") from None

    @classmethod
    def read(cls, out_dir: str | Path) -> Leaderboard:
        """The leaderboard ``out_dir/leaderboard.json`` holds; a ``LeaderboardError`` naming the
        file when there is none or it is not a valid one."""
        path = Path(out_dir) / JSON_NAME
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            raise LeaderboardError(
                f"{path} does not exist: {str(out_dir)!r} holds no benchmark leaderboard"
            ) from None
        except OSError as err:
            raise LeaderboardError(f"cannot read {path} ({err.strerror or err})") from None
        return cls.from_json(text, path)


def _problems(err: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` errors on one line: ``field.path: message``."""
    errors = err.errors(include_url=False, include_input=False)
    parts = []
    for e in errors[:limit]:
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {e['msg']}" if where else e["msg"])
    more = len(errors) - limit
    text = "; ".join(" ".join(p.split()) for p in parts)
    return text + (f" (and {more} more)" if more > 0 else "")


# -- markdown -------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\|*`<>\[\]#])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_text(text: str) -> str:
    """``text`` safe inside a markdown table cell: one line, ``|`` and the characters that
    would format or make HTML escaped with a backslash (an ``_`` inside a word is left, as
    markdown leaves it)."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), one_line)


def number(value: float | None, digits: int = 4) -> str:
    """A value to ``digits`` significant digits; ``-`` for none or not a number."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def interval_text(mean: float | None, low: float | None, high: float | None) -> str:
    """``mean [low, high]``."""
    return f"{number(mean)} [{number(low)}, {number(high)}]"


def p_text(p: float) -> str:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if not math.isfinite(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def duration(seconds: float) -> str:
    """``42 s``, ``3.5 min`` or ``2.1 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def params_text(params: dict[str, Any]) -> str:
    """``name=value`` pairs, sorted by name."""
    return ", ".join(
        f"{k}={json.dumps(v, default=str) if not isinstance(v, str) else v}"
        for k, v in sorted(params.items())
    )


def arrow(goal: PrimaryMetricGoal) -> str:
    return "↑" if goal is PrimaryMetricGoal.MAXIMIZE else "↓"


def _md_table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _bold(text: str, on: bool) -> str:
    return f"**{text}**" if on else text


def _protocol_lines(protocol: dict[str, Any]) -> list[str]:
    if not protocol:
        return []
    lines = ["## Protocol", ""]
    for key, value in protocol.items():
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        lines.append(f"- {md_text(key)}: {md_text(shown)}")
    return [*lines, ""]


def _md_dataset(board: Leaderboard, dataset: str) -> list[str]:
    metrics = board.metrics(dataset)
    primary = metrics[0]
    table = board.table(dataset)
    best = {m: board.best_methods(dataset, m) for m in metrics}
    head = [
        "method",
        *(
            f"{md_text(m)} {arrow(board.goal(dataset, m))}" + (" (primary)" if m == primary else "")
            for m in metrics
        ),
        "seeds",
    ]
    rows = []
    for method, cells in table.items():
        row = [_bold(md_text(method), method in best[primary])]
        for m in metrics:
            r = cells.get(m)
            text = interval_text(r.mean, r.ci_low, r.ci_high) if r else "-"
            row.append(_bold(text, r is not None and method in best[m]))
        seeds = sorted({r.n_seeds for r in cells.values()})
        row.append("/".join(str(s) for s in seeds))
        rows.append(row)
    goal = board.goal(dataset, primary)
    return [
        f"### {md_text(dataset)}",
        "",
        f"Primary metric: {md_text(primary)} ({goal_text(goal)}). Each cell: the mean over the "
        "seeds' models on the test split [confidence interval]; the best mean of each metric in "
        "bold (↑ higher is better, ↓ lower is better).",
        "",
        *_md_table(head, rows),
    ]


def _md_comparisons(board: Leaderboard) -> list[str]:
    if not board.comparisons:
        return []
    lines = [
        "## Paired comparisons",
        "",
        f"Difference a − b on the same test-image resamples, its confidence interval and p-value; "
        f"'better' names the method significantly better at p < {SIGNIFICANCE} by the metric's "
        "goal.",
        "",
    ]
    for dataset in _first_seen(c.dataset for c in board.comparisons):
        known = board.metrics(dataset) if dataset in board.datasets() else []
        order = {m: i for i, m in enumerate(known)}
        rows = sorted(
            (c for c in board.comparisons if c.dataset == dataset),
            key=lambda c: order.get(c.metric, len(order)),
        )
        lines += [f"### {md_text(dataset)}", ""]
        lines += _md_table(
            ["metric", "a", "b", "a − b [interval]", "p-value", "better"],
            (
                [
                    f"{md_text(c.metric)} {arrow(board.goal(dataset, c.metric))}",
                    md_text(c.method_a),
                    md_text(c.method_b),
                    interval_text(c.difference, c.ci_low, c.ci_high),
                    p_text(c.p_value),
                    _bold(md_text(c.better), True) if c.better else "no significant difference",
                ]
                for c in rows
            ),
        )
    return lines


def _md_compute(board: Leaderboard) -> list[str]:
    if not board.compute:
        return []
    return [
        "## Compute",
        "",
        *_md_table(
            ["dataset", "method", "trials", "tuning", "retraining", "retrained models"],
            (
                [
                    md_text(c.dataset),
                    md_text(c.method),
                    str(c.trials),
                    duration(c.tune_seconds),
                    duration(c.retrain_seconds),
                    str(c.retrained_models),
                ]
                for c in board.compute
            ),
        ),
    ]


def _md_configs(board: Leaderboard) -> list[str]:
    if not board.configs:
        return []
    lines = [
        "## Top-k configurations",
        "",
        "Ranked by the primary metric on validation; test: mean [interval] of the retrained "
        "seeds; ✓ the configuration the leaderboard reports.",
        "",
    ]
    rows = []
    datasets = {d: i for i, d in enumerate(board.datasets())}
    methods: dict[tuple[str, str], int] = {}
    for i, r in enumerate(board.rows):
        methods.setdefault((r.dataset, r.method), i)

    def place(c: ConfigRow) -> tuple[int, int, int]:
        return (
            datasets.get(c.dataset, len(datasets)),
            methods.get((c.dataset, c.method), len(methods)),
            c.rank,
        )

    for c in sorted(board.configs, key=place):
        metric = board.primary_metric.get(c.dataset, "")
        rows.append(
            [
                md_text(c.dataset),
                md_text(c.method),
                str(c.rank),
                md_text(metric),
                number(c.validation_value),
                interval_text(c.test_mean, c.test_ci_low, c.test_ci_high),
                "✓" if c.selected else "",
                md_text(params_text(c.params)),
            ]
        )
    head = ["dataset", "method", "rank", "metric", "validation", "test", "selected", "parameters"]
    return [*lines, *_md_table(head, rows)]


def _markdown(board: Leaderboard) -> str:
    lines = ["# Benchmark leaderboard", ""]
    lines += _protocol_lines(board.protocol)
    lines += ["## Results on the test split", ""]
    for dataset in board.datasets():
        lines += _md_dataset(board, dataset)
    lines += _md_comparisons(board)
    lines += _md_compute(board)
    lines += _md_configs(board)
    return "\n".join(lines).rstrip("\n") + "\n"
