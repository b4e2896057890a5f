"""Results of a sweep: the best trial, a table of all trials, the metrics JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_vision.sweep.optimize import OptimizeResult, best_trial
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

__all__ = ["TrialTable", "TuneResult", "trial_to_dict"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


class TrialTable(list):  # list[Trial]
    """The trials of a sweep, printable as a table (``print(result.trials)``)."""

    def rows(self, all_params: bool = False) -> list[dict[str, Any]]:
        """One flat dict per trial: id, status, value, reports, then the parameters that vary
        across trials (every parameter with ``all_params`` or when there is one trial)."""
        params = sorted({k for t in self for k in t.params})
        if not all_params and len(self) > 1:
            params = [p for p in params if len({repr(t.params.get(p)) for t in self}) > 1]
        return [
            {
                "trial": t.trial_id,
                "status": t.status.value,
                "value": t.value,
                "reports": len(t.reports),
                **{p: t.params.get(p, "") for p in params},
            }
            for t in self
        ]

    def __str__(self) -> str:
        rows = self.rows()
        if not rows:
            return "(no trials)"
        columns = list(rows[0])
        cells = [[_fmt(r[c]) if r[c] is not None else "-" for c in columns] for r in rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
        line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
        body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
        return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def trial_to_dict(trial: Trial) -> dict[str, Any]:
    def num(v: float | None) -> float | None:
        return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

    return {
        "trial_id": trial.trial_id,
        "index": trial.index,
        "status": trial.status.value,
        "space_index": trial.space_index,
        "params": trial.params,
        "inactive": sorted(trial.inactive),
        "value": num(trial.value),
        "error": trial.error,
        "stop_reason": trial.stop_reason,
        "started_at": trial.started_at,
        "finished_at": trial.finished_at,
        "artifacts": trial.artifacts,
        "reports": [
            {
                "step": r.step,
                "value": num(r.value),
                "metrics": {k: num(v) for k, v in r.metrics.items()},
            }
            for r in trial.reports
        ],
    }


@dataclass
class TuneResult(OptimizeResult):
    """What a sweep produced (``best_trial``, ``best_params``, ``best_value`` as for
    ``optimize``). ``output_dir`` holds the store, checkpoints, plots and metrics JSON."""

    trials: TrialTable
    primary_metric: str = "value"
    output_dir: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_trials(cls, trials: Sequence[Trial], **kwargs: Any) -> TuneResult:
        return cls(trials=TrialTable(trials), **kwargs)

    @property
    def best_metrics(self) -> dict[str, float]:
        """All metrics of the best trial's best evaluation (or its final report)."""
        trial = self.best_trial
        metrics = trial.artifacts.get("metrics")
        if metrics:
            return dict(metrics)
        return (
            dict(trial.reports[-1].metrics)
            if trial.reports
            else {self.primary_metric: self.best_value}
        )

    @property
    def best_checkpoint(self) -> Path | None:
        path = self.best_trial.artifacts.get("checkpoint")
        return Path(path) if path else None

    def predictor(self, **kwargs: Any) -> Any:
        """The best trial's model as a ``Predictor`` (``automl_vision.predict.load_model``)."""
        from automl_vision.predict import load_model

        if self.best_checkpoint is None or not self.best_checkpoint.is_file():
            raise ValueError("the best trial has no checkpoint to predict with")
        return load_model(self.best_checkpoint, **kwargs)

    @classmethod
    def load(cls, run_dir: str | Path) -> TuneResult:
        """Rebuild the result of a sweep (finished, killed or still running) from its store."""
        from automl_vision.sweep.store import SweepStore

        run_dir = Path(run_dir)
        store = SweepStore.read_only(run_dir / SweepStore.FILENAME)
        try:
            meta = store.meta()
            trials = store.load_trials()
            ended = [message for _, kind, message in store.events() if kind == "sweep_finished"]
        finally:
            store.close()
        for t in trials:  # an unfinished attempt is running (or was, if the sweep died)
            if t.status is TrialStatus.QUEUED and t.started_at is not None:
                t.status = TrialStatus.RUNNING
        return cls.from_trials(
            trials,
            goal=PrimaryMetricGoal.parse(meta.get("goal", "maximize")),
            primary_metric=meta.get("primary_metric", "value"),
            end_reason=ended[-1] if ended else "not finished (running, or killed: resume it)",
            output_dir=run_dir,
            settings=meta.get("settings", {}),
        )

    def counts(self) -> dict[str, int]:
        return {s.value: sum(t.status is s for t in self.trials) for s in TrialStatus}

    def to_dict(self) -> dict[str, Any]:
        best = best_trial(self.trials, self.goal)
        return {
            "primary_metric": self.primary_metric,
            "goal": self.goal.value,
            "end_reason": self.end_reason,
            "best_trial": best.trial_id if best else None,
            "counts": self.counts(),
            "settings": self.settings,
            "trials": [trial_to_dict(t) for t in self.trials],
        }

    def to_json(self, path: str | Path) -> Path:
        """Write the metrics JSON: every trial, every report, the sweep's settings."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path

    def summary(self) -> str:
        counts = self.counts()
        head = (
            f"{len(self.trials)} trials: {counts['COMPLETED']} completed, "
            f"{counts['STOPPED']} stopped early, {counts['FAILED']} failed ({self.end_reason})"
        )
        best = best_trial(self.trials, self.goal)
        if best is None:
            return head + "\nno trial produced a value"
        lines = [head, f"best: {best.trial_id} {self.primary_metric}={best.value:.4f}"]
        lines += [f"  {k} = {_fmt(v)}" for k, v in best.params.items()]
        if self.best_checkpoint:
            lines.append(f"checkpoint: {self.best_checkpoint}")
        if self.output_dir:
            lines.append(f"outputs: {self.output_dir}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"TuneResult({self.summary()!r})"
