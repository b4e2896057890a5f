"""Sweep results: best trial, table, metrics JSON, plots and parameter importance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from automl_vision.reporting.chart_data import comparable_values, parameter_importance
from automl_vision.reporting.plots import save_plots
from automl_vision.reporting.result import TuneResult
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus


def make_trials(goal_sign: float = 1.0) -> list[Trial]:
    rng = np.random.default_rng(0)
    trials = []
    for i in range(24):
        opt = ["sgd", "adam", "adamw"][i % 3]
        lr = float(10 ** rng.uniform(-4, -1))
        noise = float(rng.uniform(0, 1))
        value = {"sgd": 0.9, "adam": 0.6, "adamw": 0.3}[opt] + 0.01 * noise
        status = TrialStatus.STOPPED if i % 4 == 1 else TrialStatus.COMPLETED
        if i == 5:
            status, value = TrialStatus.FAILED, None
        reports = [
            Report(s, (value or 0.1) * s / 3, {"accuracy": (value or 0.1) * s / 3})
            for s in (1, 2, 3)
        ]
        if status is TrialStatus.STOPPED:
            reports = reports[:2]
            value = reports[-1].value
        t = Trial(
            index=i,
            params={"optimizer": opt, "lr": lr, "noise": noise},
            status=status,
            reports=reports,
            value=None if value is None else goal_sign * value,
            error="RuntimeError: x" if status is TrialStatus.FAILED else None,
        )
        t.artifacts = {
            "checkpoint": f"/ckpt/{t.trial_id}.pt",
            "metrics": {"accuracy": value or 0.0},
        }
        trials.append(t)
    return trials


def test_best_trial_table_and_json(tmp_path) -> None:
    trials = make_trials()
    result = TuneResult.from_trials(
        trials,
        goal=PrimaryMetricGoal.MAXIMIZE,
        primary_metric="accuracy",
        end_reason="max_trials reached (24)",
    )
    best = max((t for t in trials if t.value is not None), key=lambda t: t.value)
    assert result.best_trial is best and result.best_params == best.params
    assert (
        result.best_checkpoint is not None and result.best_checkpoint.name == f"{best.trial_id}.pt"
    )
    assert result.best_metrics == best.artifacts["metrics"]
    table = str(result.trials)
    assert "trial_0005  FAILED" in table and table.splitlines()[0].split()[:4] == [
        "trial",
        "status",
        "value",
        "reports",
    ]
    assert result.counts() == {
        "QUEUED": 0,
        "RUNNING": 0,
        "COMPLETED": 18,
        "STOPPED": 5,
        "FAILED": 1,
        "PAUSED": 0,
    }
    data = json.loads(result.to_json(tmp_path / "metrics.json").read_text())
    assert data["best_trial"] == best.trial_id and len(data["trials"]) == 24
    assert data["trials"][1]["reports"][0] == {
        "step": 1,
        "value": pytest.approx(trials[1].reports[0].value),
        "metrics": {"accuracy": pytest.approx(trials[1].reports[0].value)},
    }
    assert "best: " in result.summary()


def test_minimize_picks_the_lowest() -> None:
    trials = make_trials(goal_sign=-1.0)
    result = TuneResult.from_trials(
        trials, goal=PrimaryMetricGoal.MINIMIZE, primary_metric="loss", end_reason=""
    )
    assert result.best_value == min(t.value for t in trials if t.value is not None)


def test_no_value_is_a_clear_error() -> None:
    t = Trial(index=0, params={}, status=TrialStatus.FAILED, error="CUDA out of memory")
    result = TuneResult.from_trials(
        [t], goal=PrimaryMetricGoal.MAXIMIZE, primary_metric="accuracy", end_reason=""
    )
    with pytest.raises(ValueError, match="no trial produced a value.*CUDA out of memory"):
        _ = result.best_trial


@pytest.mark.parametrize("goal", [PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE])
def test_parameter_importance_ranks_the_parameter_that_matters(goal) -> None:
    scores = parameter_importance(make_trials(goal.sign), goal)
    assert next(iter(scores)) == "optimizer" and scores["optimizer"] > 0.7
    # 17 trials ran their full budget (the stopped ones are not compared with them); with 5
    # quantile bins a parameter that does not matter still scores about 4/16 by chance
    assert scores["noise"] < 0.5 and scores["lr"] < 0.5
    assert parameter_importance(make_trials()[:2], goal) == {}


def test_plots_are_written(tmp_path) -> None:
    trials = make_trials()
    best = max((t for t in trials if t.value is not None), key=lambda t: t.value)
    paths = save_plots(trials, PrimaryMetricGoal.MAXIMIZE, "accuracy", tmp_path, best)
    assert [p.name for p in paths] == [
        "learning_curves.png",
        "best_so_far.png",
        "parallel_coordinates.png",
        "parameter_importance.png",
    ]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    # degenerate sweeps still plot
    empty = save_plots([], PrimaryMetricGoal.MAXIMIZE, "accuracy", tmp_path / "empty", None)
    assert all(p.exists() for p in empty)


def _no_nan(text: str) -> None:
    raise ValueError(f"bare {text} in JSON")


def test_metrics_json_has_no_bare_nan(tmp_path) -> None:
    trial = Trial(index=0, params={"x": 1}, status=TrialStatus.COMPLETED, value=0.5)
    trial.reports = [Report(1, math.nan, {"accuracy": math.nan, "loss": math.inf})]
    trial.artifacts = {"metrics": {"accuracy": math.nan}, "best": np.float32("nan")}
    result = TuneResult.from_trials([trial], goal=PrimaryMetricGoal.MAXIMIZE, end_reason="x")
    data = json.loads(result.to_json(tmp_path / "m.json").read_text(), parse_constant=_no_nan)
    assert data["trials"][0]["artifacts"] == {"metrics": {"accuracy": None}, "best": None}
    assert data["trials"][0]["reports"][0]["metrics"] == {"accuracy": None, "loss": None}


def _trial(i: int, opt: str, status: TrialStatus, values: list[float]) -> Trial:
    return Trial(
        index=i,
        params={"optimizer": opt},
        status=status,
        value=values[-1],
        reports=[Report(s, v, {"accuracy": v}) for s, v in enumerate(values, start=1)],
    )


@pytest.mark.parametrize("goal", [PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE])
def test_importance_compares_like_with_like(goal) -> None:
    # stopped trials (epoch 1, low values) are all 'adam': mixed with the finished trials'
    # final values, 'optimizer' would look important; on comparable values it is not
    finished = [_trial(i, ["sgd", "adam"][i % 2], TrialStatus.COMPLETED, [0.5, 0.9]) for i in
                range(4)]  # fmt: skip
    stopped = [_trial(4 + i, "adam", TrialStatus.STOPPED, [0.1]) for i in range(4)]
    pairs, basis = comparable_values(finished + stopped)
    assert len(pairs) == 4 and "full budget" in basis
    assert parameter_importance(finished + stopped, goal) == {}  # no variation left
    few = finished[:2] + stopped
    pairs, basis = comparable_values(few)
    assert {v for _, v in pairs} == {0.5, 0.1} and "at report 1" in basis
