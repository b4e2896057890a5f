"""The words of a trial in the progress display: its parameters in short, durations, and the
line of a finished trial, with each number it shows labelled.

A STOPPED trial has two values worth showing: the one it is ranked by (its trainer's best
evaluation, ``trial.value``) and the one its stop was decided on (the report answered 'stop',
its last). Both are labelled here, at display time, whatever words the policy chose for its
reason. A COMPLETED trial whose trainer's own early stopping ended it before its last epoch
says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from automl_vision.trial import Trial, TrialStatus

__all__ = ["duration", "finished_line", "short_params", "trainer_stop_note"]

#: parameters shown first (when a trial has them), and their short names
_KEY_PARAMS = ("model_name", "learning_rate", "training_batch_size", "optimizer")
_SHORT_NAMES = {
    "model_name": "model",
    "learning_rate": "lr",
    "training_batch_size": "batch",
    "optimizer": "opt",
    "number_of_epochs": "epochs",
    "weight_decay": "wd",
    "momentum": "mom",
}
_TRAINER_EARLY_STOPPING = "early_stopping"  # training.StopReason.EARLY_STOPPING's value


def duration(seconds: float) -> str:
    """``42s``, ``3m07s``, ``2h05m``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _short_value(value: Any, width: int = 16) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def short_params(params: Mapping[str, Any], limit: int = 3) -> str:
    """The trial's key parameters in a few words: ``model=resnet18 lr=0.003 batch=32``."""
    names = [n for n in _KEY_PARAMS if n in params] or sorted(params)
    return " ".join(f"{_SHORT_NAMES.get(n, n)}={_short_value(params[n])}" for n in names[:limit])


def _unit(trial: Trial) -> str:
    """What a report's step counts: epochs for a training trial, reports otherwise."""
    trains = "epochs_run" in trial.artifacts or "number_of_epochs" in trial.params
    return "epoch" if trains else "report"


def _total_epochs(trial: Trial) -> int | None:
    total = trial.artifacts.get("number_of_epochs", trial.params.get("number_of_epochs"))
    return int(total) if isinstance(total, int | float) else None


def trainer_stop_note(trial: Trial) -> str:
    """`` (trainer early stopping at epoch 3/6)`` for a trial its trainer's early stopping
    ended before its last epoch; empty otherwise."""
    if trial.artifacts.get("trainer_stop") != _TRAINER_EARLY_STOPPING:
        return ""
    ran = trial.artifacts.get("epochs_run")
    total = _total_epochs(trial)
    at = "" if ran is None else f" at epoch {ran}" + ("" if total is None else f"/{total}")
    return f" (trainer early stopping{at})"


def _stopped_text(trial: Trial, metric: str) -> str:
    parts = []
    if trial.value is not None and math.isfinite(trial.value):
        best_epoch = trial.artifacts.get("best_epoch")
        at = f" ({_unit(trial)} {best_epoch})" if best_epoch else ""
        parts.append(f"best {metric}={trial.value:.4f}{at}")
    judged = ""
    if trial.reports:
        last = trial.reports[-1]
        judged = f"judged on {metric}={last.value:.4f} ({_unit(trial)} {last.step})"
    why = trial.stop_reason or ""
    if judged and why:
        parts.append(f"{judged}: {why}")
    elif judged or why:
        parts.append(judged or why)
    return " " + "; ".join(parts) if parts else ""


def finished_line(trial: Trial, metric: str, count: str) -> str:
    """One line for a finished trial: ``[5/12] trial_0007 STOPPED best accuracy=0.6964
    (epoch 2); judged on accuracy=0.4624 (epoch 3): <the policy's reason>``."""
    where = f" on {trial.placement}" if trial.placement else ""
    status = trial.status.value
    if trial.status is TrialStatus.STOPPED:
        text = _stopped_text(trial, metric)
    elif trial.status is TrialStatus.FAILED:
        text = f" — {trial.error.splitlines()[0][:160]}" if trial.error else ""
    else:
        status += trainer_stop_note(trial)
        text = "" if trial.value is None else f" {metric}={trial.value:.4f}"
    return f"{count} {trial.trial_id} {status}{text}{where}"
