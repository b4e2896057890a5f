"""Sweep-test helpers: eight short learning curves (values per report, maximized; curve 5 is the
highest at every report, curve 6 the lowest) and ``Replayer``, which records what a policy saw
at every report so that the decisions can be taken again from scratch."""

from __future__ import annotations

from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import TrialStatus, metric_history

CURVES = [
    [0.30, 0.40, 0.45, 0.50, 0.52, 0.53, 0.54, 0.55, 0.56],
    [0.50, 0.60, 0.70, 0.75, 0.78, 0.80, 0.81, 0.82, 0.83],
    [0.10, 0.15, 0.20, 0.22, 0.25, 0.26, 0.27, 0.28, 0.30],
    [0.45, 0.55, 0.62, 0.70, 0.72, 0.74, 0.75, 0.76, 0.77],
    [0.20, 0.25, 0.30, 0.35, 0.40, 0.42, 0.44, 0.45, 0.46],
    [0.55, 0.65, 0.72, 0.77, 0.80, 0.83, 0.85, 0.86, 0.88],
    [0.05, 0.10, 0.12, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19],
    [0.40, 0.50, 0.58, 0.60, 0.61, 0.62, 0.63, 0.64, 0.65],
]


class Replayer(SweepObserver):
    """Records what the policy saw at every report: (trial id, histories, finished trials,
    stop, reason); set ``scheduler`` before the sweep runs."""

    def __init__(self) -> None:
        self.scheduler: Scheduler | None = None
        self.seen: list[tuple[str, dict, list, bool, str]] = []

    def trial_reported(self, trial, report, decision) -> None:
        assert self.scheduler is not None
        trials = self.scheduler.trials
        history = metric_history(trials)
        finished = [t.trial_id for t in trials if t.status is TrialStatus.COMPLETED]
        self.seen.append((trial.trial_id, history, finished, decision.stop, decision.reason))
