"""Results of a sweep: the best trial, a table of all trials, the metrics JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_vision.baseline import BaselineVerdict, check_baseline
from automl_vision.reporting.front import front_trials, select_trial
from automl_vision.storage import write_atomically
from automl_vision.store.sweep_dir import artifact_path, read_sweep
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus, best_trial

__all__ = ["NoTrialValueError", "OptimizeResult", "TrialTable", "TuneResult", "trial_to_dict"]


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
        placed = any(t.placement for t in self)  # a cluster sweep: where each trial ran
        return [
            {
                "trial": t.trial_id,
                "status": t.status.value,
                "value": t.value,
                "reports": len(t.reports),
                **({"where": t.placement} if placed else {}),
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


def _finite(value: Any) -> Any:
    """``value`` with every NaN/infinity replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _finite(value.item())
    return value


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
        "placement": trial.placement,
        "reports": [
            {
                "step": r.step,
                "value": num(r.value),
                "metrics": {k: num(v) for k, v in r.metrics.items()},
            }
            for r in trial.reports
        ],
    }


class NoTrialValueError(ValueError):
    """A finished sweep in which no trial produced a value (the CLI exits with status 3)."""


@dataclass
class OptimizeResult:
    """What ``optimize`` found: the best trial and every trial, in the order they started."""

    trials: list[Trial]
    goal: PrimaryMetricGoal
    end_reason: str

    @property
    def best_trial(self) -> Trial:
        best = best_trial(self.trials, self.goal)
        if best is None:
            errors = sorted({t.error.splitlines()[0] for t in self.trials if t.error})
            raise NoTrialValueError(
                f"no trial produced a value ({len(self.trials)} trials"
                + (f"; errors: {'; '.join(errors)[:800]}" if errors else "")
                + ")"
            )
        return best

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    def __repr__(self) -> str:
        done = sum(t.status is TrialStatus.COMPLETED for t in self.trials)
        stopped = sum(t.status is TrialStatus.STOPPED for t in self.trials)
        failed = sum(t.status is TrialStatus.FAILED for t in self.trials)
        best = best_trial(self.trials, self.goal)
        shown = f"best_value={best.value:.6g}, best_params={best.params}" if best else "no value"
        return (
            f"OptimizeResult({len(self.trials)} trials: {done} completed, {stopped} stopped, "
            f"{failed} failed; {shown}; ended: {self.end_reason})"
        )


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
        return artifact_path(self.best_trial, "checkpoint", self.output_dir)

    def predictor(self, **kwargs: Any) -> Any:
        """The best trial's model as a ``Predictor`` (``automl_vision.predict.load_model``)."""
        from automl_vision.predict import load_model  # lazy: torch: the predictor loads a model

        if self.best_checkpoint is None or not self.best_checkpoint.is_file():
            raise ValueError("the best trial has no checkpoint to predict with")
        return load_model(self.best_checkpoint, **kwargs)

    @classmethod
    def load(cls, run_dir: str | Path) -> TuneResult:
        """Rebuild the result of a sweep (finished, killed or still running) from its store."""
        record = read_sweep(run_dir)
        return cls.from_trials(
            record.trials,
            goal=record.goal,
            primary_metric=record.primary_metric,
            end_reason=record.end_reason or "not finished (running, or killed: resume it)",
            output_dir=record.run_dir,
            settings=record.settings,
        )

    @property
    def baseline(self) -> BaselineVerdict | None:
        """The best trial beside the sweep's trivial baseline (``.warning()`` when it does not
        beat it); None without a best trial or a recorded baseline (an older sweep)."""
        best = best_trial(self.trials, self.goal)
        if best is None:
            return None
        try:
            return check_baseline(best.value, best.params, self.settings)
        except ValueError:  # a malformed record: nothing to compare with
            return None

    @property
    def class_thresholds(self) -> dict[str, float]:
        """The best trial's tuned per-class thresholds (multilabel; empty otherwise)."""
        best = best_trial(self.trials, self.goal)
        found = best.artifacts.get("class_thresholds") if best is not None else None
        if not isinstance(found, dict):
            return {}
        return {str(k): float(v) for k, v in found.items() if isinstance(v, (int, float))}

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed trials on the Pareto front of the sweep's objectives, among those
        meeting its constraints (``reporting/front.py``). A single-objective sweep's front is
        its best trial alone."""
        return front_trials(self.trials, self.settings, self.primary_metric, self.goal)

    def select(self, **bounds: float) -> Trial:
        """The completed trial best in the primary metric within ``bounds``, e.g.
        ``select(latency_ms=10, params_m=5)`` (costs at most; ``throughput_ips`` at least).
        Raises ``ValueError`` naming the bounds when no trial meets them."""
        return select_trial(self.trials, self.primary_metric, self.goal, bounds)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(t.status is s for t in self.trials) for s in TrialStatus}

    def to_dict(self) -> dict[str, Any]:
        best = best_trial(self.trials, self.goal)
        return {
            "primary_metric": self.primary_metric,
            "goal": self.goal.value,
            "end_reason": self.end_reason,
            "best_trial": best.trial_id if best else None,
            "baseline": verdict.to_dict() if (verdict := self.baseline) else None,
            "class_thresholds": self.class_thresholds or None,
            "counts": self.counts(),
            "settings": self.settings,
            "trials": [trial_to_dict(t) for t in self.trials],
        }

    def to_json(self, path: str | Path) -> Path:
        """Write the metrics JSON: every trial, every report, the sweep's settings."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_finite(self.to_dict()), indent=2, default=str, allow_nan=False)
        return write_atomically(path, text)

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
        verdict = self.baseline
        if verdict is not None:
            lines.append(verdict.line())
            warning = verdict.warning()
            if warning:
                lines.append(warning)
        refused = self.settings.get("refused")
        if isinstance(refused, int) and refused:
            reasons = self.settings.get("refusals") or {}
            lines.append(
                f"refused by the constraints before training: {refused} configurations ("
                + ", ".join(f"{k}: {v}" for k, v in reasons.items())
                + ")"
            )
        if self.class_thresholds:
            lines.append(
                "tuned thresholds: "
                + ", ".join(f"{k} {v:.3f}" for k, v in self.class_thresholds.items())
            )
        if self.best_checkpoint:
            lines.append(f"checkpoint: {self.best_checkpoint}")
        if self.output_dir:
            lines.append(f"outputs: {self.output_dir}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"TuneResult({self.summary()!r})"
