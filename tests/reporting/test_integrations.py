"""TensorBoard and MLflow observers: written during a sweep, read back with their own readers."""

from __future__ import annotations

import importlib.util

import pytest

from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.reporting.integrations import LogTarget, make_observers, parse_log_to
from automl_vision.space.distributions import choice, uniform
from automl_vision.trial import PrimaryMetricGoal
from automl_vision.tuning.optimize import optimize


class StopLow(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        return Decision(len(history[trial_id]) >= 2 and history[trial_id][-1] < 0.3, "low")


def _sweep(observers, goal="maximize"):
    def objective(params, report):
        value = 0.0
        for step in range(1, 4):
            value = params["x"] * (1 + step / 10)
            if report(step, value):
                break
        return value

    return optimize(
        objective,
        {"x": uniform(0.05, 0.9), "model": choice("a", "b")},
        max_trials=4,
        seed=1,
        policy=StopLow(),
        observers=observers,
        goal=goal,
    )


def test_parse_log_to_names_the_pip_install(monkeypatch):
    assert parse_log_to(None) == []
    with pytest.raises(ValueError, match="log_to"):
        parse_log_to(["wandb"])
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "mlflow" else real(name)
    )
    with pytest.raises(ValueError, match="pip install mlflow-skinny"):
        parse_log_to("mlflow")


@pytest.mark.skipif(
    importlib.util.find_spec("tensorboard") is None, reason="tensorboard not installed"
)
def test_tensorboard_scalars_and_hparams_read_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    observers = make_observers(
        [LogTarget.TENSORBOARD], tmp_path, "accuracy", PrimaryMetricGoal.MAXIMIZE
    )
    result = _sweep(observers)
    folders = sorted((tmp_path / "tensorboard").iterdir())
    assert [f.name for f in folders] == [t.trial_id for t in result.trials]
    for trial, folder in zip(result.trials, folders, strict=True):
        acc = EventAccumulator(str(folder))
        acc.Reload()
        events = acc.Scalars("accuracy")
        assert [e.step for e in events] == [r.step for r in trial.reports]
        assert events[-1].value == pytest.approx(trial.reports[-1].value)
        # the HParams plugin's table row: the trial's params and its final value
        assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
        assert acc.Scalars("hparam/accuracy")[-1].value == pytest.approx(trial.value)


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow not installed")
@pytest.mark.parametrize("goal", ["maximize", "minimize"])
def test_mlflow_parent_and_child_runs_read_back(tmp_path, goal, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

    observers = make_observers([LogTarget.MLFLOW], tmp_path, "accuracy", PrimaryMetricGoal(goal))
    result = _sweep(observers, goal)
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    exp = client.get_experiment_by_name("automl-vision")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {r.info.run_name: r for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert len(parents) == 1 and set(children) == {t.trial_id for t in result.trials}
    assert parents[0].data.tags["best_trial"] == result.best_trial.trial_id
    for trial in result.trials:
        child = children[trial.trial_id]
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert child.data.tags["status"] == trial.status.value
        assert float(child.data.params["x"]) == pytest.approx(trial.params["x"])
        history = client.get_metric_history(child.info.run_id, "accuracy")
        assert [m.step for m in history] == [r.step for r in trial.reports]


@pytest.mark.skipif(
    importlib.util.find_spec("tensorboard") is None, reason="tensorboard not installed"
)
def test_tune_log_to_writes_tensorboard_events(digits_folder, tmp_path):
    """``tune(log_to=...)`` reaches the running sweep (not only the observers' own factory)."""
    from helpers_sweep import tiny_space

    from automl_vision import NoTerminationPolicy, tune

    result = tune(
        digits_folder,
        search_space=tiny_space(number_of_epochs=1),
        max_trials=1,
        policy=NoTerminationPolicy(),
        output_dir=tmp_path / "run",
        progress=False,
        log_to=["tensorboard"],
    )
    folders = sorted(p.name for p in (tmp_path / "run" / "tensorboard").iterdir())
    assert folders == [t.trial_id for t in result.trials]
