"""Optional sweep observers that mirror a sweep into TensorBoard or MLflow.

Each is active only when asked for (``log_to=["tensorboard", "mlflow"]``) and its package is
installed; asking for one whose package is missing is a ValueError naming the pip install.
TensorBoard: one event folder per trial under ``RUN_DIR/tensorboard`` with every per-epoch
metric as a scalar, plus the HParams plugin's table (each trial's params and final value).
MLflow: one parent run per sweep, a nested child run per trial (params, per-epoch metrics,
status), the best trial's checkpoint logged as an artifact of the parent run.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from automl_vision.enums import ChoiceEnum
from automl_vision.policies.base import Decision
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus, best_trial

__all__ = ["LogTarget", "MLflowObserver", "TensorBoardObserver", "make_observers", "parse_log_to"]

log = logging.getLogger(__name__)


class LogTarget(ChoiceEnum):
    TENSORBOARD = "tensorboard"
    MLFLOW = "mlflow"


_PACKAGES = {
    LogTarget.TENSORBOARD: ("tensorboard", "tensorboard"),
    LogTarget.MLFLOW: ("mlflow", "mlflow-skinny"),
}


def parse_log_to(values: Iterable[str | LogTarget] | str | None) -> list[LogTarget]:
    """The targets asked for; a ValueError for an unknown name or a package that is missing."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise ValueError(f"log_to must be a list of tensorboard, mlflow, got {values!r:.80}")
    targets = []
    for value in values:
        target = LogTarget.parse(value.strip() if isinstance(value, str) else value, "log_to")
        module, pip_name = _PACKAGES[target]
        if importlib.util.find_spec(module) is None:
            raise ValueError(
                f"log_to={target.value!r} needs the {pip_name} package: "
                f"pip install {pip_name} (or pip install 'automl-vision[integrations]')"
            )
        targets.append(target)
    return list(dict.fromkeys(targets))


def _finite(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[key] = float(value)
    return out


def _hparam(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool)) else str(value)


class TensorBoardObserver(SweepObserver):
    """Scalars per trial and the HParams table, written with tensorboard's own writer."""

    def __init__(self, log_dir: str | Path, primary_metric: str) -> None:
        self.log_dir = Path(log_dir)
        self.primary_metric = primary_metric
        self._writers: dict[str, Any] = {}

    def _writer(self, trial: Trial) -> Any:
        from torch.utils.tensorboard import (
            SummaryWriter,  # lazy: TensorBoard (and torch) only when log_to asks for it
        )

        if trial.trial_id not in self._writers:
            self._writers[trial.trial_id] = SummaryWriter(str(self.log_dir / trial.trial_id))
        return self._writers[trial.trial_id]

    def trial_started(self, trial: Trial) -> None:
        self._writer(trial)

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        writer = self._writer(trial)
        scalars = {self.primary_metric: report.value, **_finite(dict(report.metrics))}
        for key, value in _finite(scalars).items():
            writer.add_scalar(key, value, report.step)
        writer.flush()

    def trial_finished(self, trial: Trial) -> None:
        writer = self._writer(trial)
        if trial.value is not None and math.isfinite(trial.value):
            writer.add_hparams(
                {k: _hparam(v) for k, v in trial.params.items()},
                {f"hparam/{self.primary_metric}": float(trial.value)},
                run_name=".",
            )
        writer.close()
        self._writers.pop(trial.trial_id, None)

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


class MLflowObserver(SweepObserver):
    """A parent MLflow run per sweep and a child run per trial (through ``MlflowClient``)."""

    def __init__(
        self,
        tracking_uri: str,
        experiment: str,
        sweep_name: str,
        primary_metric: str,
        goal: PrimaryMetricGoal,
    ) -> None:
        from mlflow.tracking import MlflowClient  # lazy: MLflow only when log_to asks for it

        if tracking_uri.startswith("file:"):
            # the local mlruns/ directory needs no database packages; MLflow 3 asks for opt-in
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.client = MlflowClient(tracking_uri=tracking_uri)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = (
            found.experiment_id if found else self.client.create_experiment(experiment)
        )
        self.parent = self.client.create_run(self.experiment_id, run_name=sweep_name).info.run_id
        self.primary_metric = primary_metric
        self.goal = goal
        self._runs: dict[str, str] = {}

    def trial_started(self, trial: Trial) -> None:
        run = self.client.create_run(
            self.experiment_id,
            run_name=trial.trial_id,
            tags={"mlflow.parentRunId": self.parent, "trial_index": str(trial.index)},
        )
        self._runs[trial.trial_id] = run.info.run_id
        for key, value in trial.params.items():
            self.client.log_param(run.info.run_id, key, _hparam(value))

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        run_id = self._runs.get(trial.trial_id)
        if run_id is None:
            return
        scalars = _finite({self.primary_metric: report.value, **dict(report.metrics)})
        for key, value in scalars.items():
            self.client.log_metric(run_id, key.replace("@", "_at_"), value, step=report.step)

    def trial_finished(self, trial: Trial) -> None:
        run_id = self._runs.pop(trial.trial_id, None)
        if run_id is None:
            return
        self.client.set_tag(run_id, "status", trial.status.value)
        if trial.stop_reason:
            self.client.set_tag(run_id, "stop_reason", trial.stop_reason[:500])
        status = "FAILED" if trial.status is TrialStatus.FAILED else "FINISHED"
        self.client.set_terminated(run_id, status)

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        best = best_trial(trials, self.goal)
        if best is not None:
            self.client.log_metric(self.parent, f"best_{self.primary_metric}", float(best.value))  # type: ignore[arg-type]
            self.client.set_tag(self.parent, "best_trial", best.trial_id)
            checkpoint = best.artifacts.get("checkpoint")
            if checkpoint and Path(checkpoint).is_file():
                self.client.log_artifact(self.parent, str(checkpoint), artifact_path="best_model")
        self.client.set_tag(self.parent, "finish_reason", reason[:500])
        self.client.set_terminated(self.parent, "FINISHED")


def make_observers(
    targets: Sequence[LogTarget],
    output_dir: Path,
    primary_metric: str,
    goal: PrimaryMetricGoal,
    mlflow_tracking_uri: str | None = None,
) -> list[SweepObserver]:
    observers: list[SweepObserver] = []
    for target in targets:
        if target is LogTarget.TENSORBOARD:
            observers.append(TensorBoardObserver(output_dir / "tensorboard", primary_metric))
        else:
            uri = mlflow_tracking_uri or (output_dir / "mlruns").resolve().as_uri()
            observers.append(
                MLflowObserver(uri, "automl-vision", output_dir.name, primary_metric, goal)
            )
    return observers
