"""``objectives`` and ``constraints``: their checks (a keyword and a flag give the same line),
the primary metric derived from the objectives, and their place in the output folder's digest."""

from __future__ import annotations

from typing import Any

import pytest

from automl_vision.config.spec import SweepSpec
from automl_vision.pareto import Bound, Constraint
from automl_vision.planning.plan import _identity
from automl_vision.trial import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE

#: (keyword options, the same as flags, a piece of the one error line)
BAD: list[tuple[dict[str, Any], list[str], str]] = [
    ({"objectives": {"acc": "max"}}, ["--objectives", "acc=max"], "'acc' is not a metric"),
    ({"objectives": {"latency_ms": "min"}}, ["--objectives", "latency_ms=min"], "no trainer metric"),
    ({"objectives": {"accuracy": "up"}}, ["--objectives", "accuracy=up"], "'maximize' or 'minimize'"),
    ({"constraints": {"speed": 3}}, ["--constraints", "speed=3"], "'speed' is not a metric"),
    ({"constraints": {"latency_ms": "fast"}}, ["--constraints", "latency_ms=fast"], "'<=N', '>=N'"),
    ({"constraints": {"latency_ms": float("inf")}}, ["--constraints", "latency_ms=.inf"], "finite"),
    (
        {"objectives": {"accuracy": "max"}, "primary_metric": "log_loss"},
        ["--objectives", "accuracy=max", "--primary-metric", "log_loss"],
        "not among objectives",
    ),
    (
        {"objectives": {"accuracy": "max"}, "goal": "minimize"},
        ["--objectives", "accuracy=max", "--goal", "minimize"],
        "contradicts",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("keywords", "flags", "piece"), BAD)
def test_a_bad_objective_or_constraint_is_one_line_both_ways(keywords, flags, piece) -> None:
    with pytest.raises(ValueError) as by_keyword:
        SweepSpec(data=".", **keywords)
    with pytest.raises(ValueError) as by_flag:
        SweepSpec.from_cli(["--data", ".", *flags])
    line = str(by_keyword.value)
    assert "\n" not in line and piece in line
    assert line in str(by_flag.value)


#: (keyword options, the primary metric, its goal, the constraints)
GOOD: list[tuple[dict[str, Any], str | None, PrimaryMetricGoal | None, Any]] = [
    ({}, None, None, None),
    ({"objectives": {"latency_ms": "min", "accuracy": "max"}}, "accuracy", MAX, None),
    ({"objectives": {"log_loss": "min", "accuracy": "max"}}, "log_loss", MIN, None),
    ({"objectives": {"log_loss": "min", "accuracy": "max"}, "primary_metric": "accuracy"}, "accuracy", MAX, None),
    ({"constraints": {"params_m": 25, "latency_ms": "<=10"}}, None, None,
     (Constraint("latency_ms", 10), Constraint("params_m", 25))),
    ({"constraints": {"accuracy": ">=0.5", "macs_g": (">=", 1)}}, None, None,
     (Constraint("accuracy", 0.5, Bound.AT_LEAST), Constraint("macs_g", 1, Bound.AT_LEAST))),
    ({"constraints": {}}, None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("keywords", "metric", "goal", "constraints"), GOOD)
def test_objectives_give_the_primary_metric_and_constraints_parse(
    keywords, metric, goal, constraints
) -> None:
    spec = SweepSpec(data=".", **keywords)
    assert (spec.primary_metric, spec.goal, spec.constraints) == (metric, goal, constraints)


def test_objectives_and_constraints_enter_the_digest_only_when_given() -> None:
    plain = _identity(SweepSpec(data="."), {})
    assert "objectives" not in plain["options"] and "constraints" not in plain["options"]
    bounded = _identity(SweepSpec(data=".", constraints={"params_m": 5}), {})
    assert bounded["options"]["constraints"] == [["params_m", "<=", 5.0]]
    both = _identity(SweepSpec(data=".", objectives={"accuracy": "max", "params_m": "min"}), {})
    assert both["options"]["objectives"] == [["accuracy", "maximize"], ["params_m", "minimize"]]
