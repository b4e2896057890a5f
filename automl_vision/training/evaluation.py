"""Rank 0's bookkeeping after each evaluation: metrics, best epoch, checkpoint, report, stops.

After an evaluation: compute the metrics (multilabel: also tune per-class thresholds), keep the
best epoch by the primary metric (a strictly better value wins; its weights are copied and,
with an output directory, written to ``best.safetensors``), call ``report(epoch, metrics)``
(True: stop now; the reported metrics also carry ``position()``: the schedule progress and
the seconds spent, ``spend.py``, which the history and ``metrics.jsonl`` do not keep), and
update early stopping. A training loss that is not finite stops the run ("diverged").
"""

from __future__ import annotations

import enum
import json
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automl_vision.data.task import Task
from automl_vision.training.checkpoint import BEST_FILE, Checkpoint
from automl_vision.training.early_stopping import EarlyStopping
from automl_vision.training.loop import EpochStats
from automl_vision.training.metrics import (
    classification_metrics,
    cross_fitted_thresholds,
    primary_metric,
    tune_thresholds,
)
from automl_vision.training.tensor_file import CorruptCheckpointError
from automl_vision.training.training_config import TrainingConfig
from automl_vision.trial import Verdict

__all__ = ["Progress", "ReportFn", "StopReason"]

log = logging.getLogger("automl_vision.training")

ReportFn = Callable[[int, dict[str, float]], object]


class StopReason(str, enum.Enum):
    EARLY_STOPPING = "early_stopping"  # the primary metric stopped improving
    REPORT = "report"  # report(...) answered True (Verdict.STOP): final
    PAUSED = "paused"  # report(...) answered Verdict.PAUSE: resumable, train(resume=True) goes on
    DIVERGED = "diverged"  # the training loss is not finite

    def __str__(self) -> str:
        return self.value


class Progress:
    """What rank 0 knows about the run so far."""

    def __init__(
        self,
        config: TrainingConfig,
        *,
        task: Task,
        class_names: tuple[str, ...],
        checkpoint_fields: dict,
        report: ReportFn | None,
        output_dir: Path | None,
    ) -> None:
        self.config = config
        self.task = task
        self.class_names = class_names
        self.checkpoint_fields = checkpoint_fields
        self.report = report
        self.output_dir = output_dir
        self.spec = primary_metric(task, config.primary_metric)
        self.stopper = EarlyStopping(
            config.early_stopping_delay, config.early_stopping_patience, self.spec.goal
        )
        self.history: list[tuple[int, dict[str, float]]] = []
        self.best_value = math.nan
        self.best_epoch = 0
        self.best_metrics: dict[str, float] = {}
        self.best: Checkpoint | None = None
        self.checkpoint_path: Path | None = None

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return math.isnan(self.best_value) or self.spec.goal.is_better(value, self.best_value)

    def after_evaluation(
        self,
        epoch: int,
        stats: EpochStats,
        logits: torch.Tensor,
        targets: torch.Tensor,
        model: nn.Module,
        lr: float,
        position: Callable[[], Mapping[str, float]] | None = None,
    ) -> StopReason | None:
        """Record one evaluation; the reason to stop now, if any. ``position()``: fields the
        report carries beside the metrics (read just before reporting)."""
        multilabel = self.task is Task.MULTILABEL
        thresholds = tune_thresholds(logits, targets) if multilabel else None
        metrics = classification_metrics(
            logits,
            targets,
            self.task,
            threshold=self.config.multilabel_threshold,
            # the *_tuned metrics: thresholds cross-fitted on halves (honest), not `thresholds`
            class_thresholds=cross_fitted_thresholds(logits, targets) if multilabel else None,
        )
        metrics["train_loss"] = stats.loss
        self.history.append((epoch, dict(metrics)))
        value = metrics[self.spec.name]
        # weights trained on a non-finite loss are never the best (they are NaN)
        if math.isfinite(stats.loss) and self._improved(value):
            self.best_value, self.best_epoch, self.best_metrics = value, epoch, dict(metrics)
            self._keep_best(epoch, metrics, model, thresholds)
        self._log(epoch, stats, lr, metrics)
        self._append_metrics(epoch, metrics)
        stop = None
        answer = Verdict.CONTINUE
        if self.report is not None:
            extra = dict(position()) if position is not None else {}
            answer = Verdict.of(self.report(epoch, dict(metrics) | extra))
        if answer is Verdict.STOP:
            stop = StopReason.REPORT
        if self.config.early_stopping and self.stopper.update(epoch, value) and stop is None:
            stop = StopReason.EARLY_STOPPING
        if not math.isfinite(stats.loss) and stop is None:
            stop = StopReason.DIVERGED
        if answer is Verdict.PAUSE and stop is None:  # the trainer's own stops stay final
            stop = StopReason.PAUSED
        return stop

    def state(self) -> dict:
        """What a resume checkpoint keeps of this bookkeeping (see ``resume.py``)."""
        return {
            "history": [(e, dict(m)) for e, m in self.history],
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "best_metrics": dict(self.best_metrics),
            "best": None
            if self.best is None
            else {"fields": self.best.to_tree(), "state_dict": self.best.state_dict},
            "stopper": (self.stopper.best, self.stopper.counter),
        }

    def restore(self, state: dict) -> None:
        """Continue from ``state()`` of an interrupted run."""
        self.history = [(int(e), dict(m)) for e, m in state["history"]]
        self.best_value = float(state["best_value"])
        self.best_epoch = int(state["best_epoch"])
        self.best_metrics = dict(state["best_metrics"])
        self.best = _restored_best(state["best"])
        self.stopper.best, self.stopper.counter = state["stopper"]
        if self.output_dir is not None and self.best is not None:
            # rewritten: a kill between the best checkpoint and the resume state may have left
            # a later one
            self.checkpoint_path = self.best.save(self.output_dir / BEST_FILE)

    def log_epoch(self, epoch: int, stats: EpochStats, lr: float) -> None:
        """The log line of an epoch without evaluation."""
        self._log(epoch, stats, lr, {})

    def _keep_best(
        self,
        epoch: int,
        metrics: dict[str, float],
        model: nn.Module,
        thresholds: torch.Tensor | None,
    ) -> None:
        state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        self.best = Checkpoint(
            state_dict=state,
            config=self.config.model_dump(mode="json"),
            task=self.task,
            class_names=list(self.class_names),
            threshold=self.config.multilabel_threshold,
            class_thresholds=None if thresholds is None else [float(t) for t in thresholds],
            epoch=epoch,
            metrics=dict(metrics),
            **self.checkpoint_fields,
        )
        if self.output_dir is not None:
            self.checkpoint_path = self.best.save(self.output_dir / BEST_FILE)

    def _append_metrics(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.output_dir is not None:
            with (self.output_dir / "metrics.jsonl").open("a", encoding="utf-8") as f:
                f.write(json.dumps({"epoch": epoch, **metrics}) + "\n")

    def _log(self, epoch: int, stats: EpochStats, lr: float, metrics: dict[str, float]) -> None:
        shown = "".join(
            f" {name} {metrics[name]:.4f}"
            for name in (self.spec.name, "log_loss")
            if name in metrics
        )
        best = f" (best {self.best_value:.4f} @ {self.best_epoch})" if metrics else ""
        log.info(
            "epoch %d/%d train_loss %.4f lr %.3g%s%s %.1f s %.0f img/s",
            epoch,
            self.config.number_of_epochs,
            stats.loss,
            lr,
            shown,
            best,
            stats.seconds,
            stats.images / max(stats.seconds, 1e-9),
        )


def _restored_best(saved: Any) -> Checkpoint | None:
    """The best checkpoint of a resume state (release 1 kept the object itself)."""
    if saved is None or isinstance(saved, Checkpoint):
        return saved
    if not isinstance(saved, dict) or not isinstance(saved.get("state_dict"), dict):
        raise CorruptCheckpointError("the resume state's best checkpoint is malformed")
    return Checkpoint.from_tree(saved.get("fields"), saved["state_dict"], "the resume state")
