"""The sweep loop: ask the sampler, start trials, apply the policy to reports, record outcomes.

One class, one job. It knows nothing about training: an ``Executor`` runs the trials, a
``Sampler`` proposes them, an ``EarlyTerminationPolicy`` judges their reports, observers (the
store, the progress display) are told what happens. Only the scheduler's thread touches its
state; executors deliver reports to ``_on_report`` on that thread.

Pause and promotion: a policy's decision may pause a trial (``Decision.pause``): it stops running
and is kept PAUSED. Whenever a worker is free the scheduler first asks the policy to
``promote`` one of the paused trials, which then continues from its checkpoint (its trial
function resumes after the reports it made), and only then asks the sampler for a new trial.
Trials still paused when the sweep ends are STOPPED at the report they reached.

Schedule-aware judging: ``windows(trial)`` gives each trial's ``JudgingWindow`` (where its
learning-rate schedule makes its curve mislead), handed to the policy with each decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_vision.faults import fault_point
from automl_vision.policies.base import Decision, EarlyTerminationPolicy, Promotion
from automl_vision.policies.window import JudgingWindow
from automl_vision.sampling.base import Sampler
from automl_vision.sweep.criteria import StopCriterion
from automl_vision.sweep.executors import Executor, TrialOutcome
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus, metric_history

__all__ = ["Scheduler", "SweepObserver", "SweepOutcome"]


class SweepObserver:
    """Hooks for the store, logs and progress displays. Every method is optional."""

    def trial_started(self, trial: Trial) -> None:
        """``trial`` is RUNNING."""

    def trial_reported(self, trial: Trial, report: Report, decision: Decision) -> None:
        """``trial`` reported; ``decision`` is the policy's verdict on it."""

    def trial_finished(self, trial: Trial) -> None:
        """``trial`` is COMPLETED, STOPPED or FAILED."""

    def trial_paused(self, trial: Trial) -> None:
        """``trial`` is PAUSED at its last report (it may be promoted later)."""

    def trial_promoted(self, trial: Trial, promotion: Promotion) -> None:
        """The paused ``trial`` is RUNNING again, continuing after its last report."""

    def sweep_finished(self, trials: Sequence[Trial], reason: str) -> None:
        """The sweep ended for ``reason``."""


@dataclass
class SweepOutcome:
    trials: list[Trial]
    end_reason: str


class Scheduler:
    """Runs a sweep to its end. ``trials`` may hold an earlier history (resume): QUEUED ones
    are started first, the others only inform the sampler and the policy."""

    def __init__(
        self,
        sampler: Sampler,
        executor: Executor,
        *,
        goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
        max_trials: int,
        policy: EarlyTerminationPolicy | None = None,
        primary_metric: str = "value",
        criteria: Sequence[StopCriterion] = (),
        observers: Sequence[SweepObserver] = (),
        trials: Sequence[Trial] = (),
        reuse: Callable[[Trial], Trial | None] | None = None,
        trial_timeout: float | None = None,
        windows: Callable[[Trial], JudgingWindow | None] | None = None,
    ) -> None:
        if max_trials < 1:
            raise ValueError(f"max_trials must be >= 1, got {max_trials}")
        self.sampler = sampler
        self.executor = executor
        self.goal = PrimaryMetricGoal.parse(goal)
        self.max_trials = max_trials
        self.policy = policy
        self.primary_metric = primary_metric
        self.criteria = list(criteria)
        self.observers = list(observers)
        self.trials: list[Trial] = list(trials)
        self.reuse = reuse
        self.trial_timeout = trial_timeout
        self._by_id = {t.trial_id: t for t in self.trials}
        # the policies' view: trial id -> primary-metric values, kept up to date as reports
        # arrive (rebuilding it on every report would cost O(reports) each time)
        self._history: dict[str, list[float]] = metric_history(self.trials)
        self._ending: str | None = None
        self._started_at = 0.0
        self.windows = windows
        self._windows: dict[str, JudgingWindow | None] = {}
        self._pausing: set[str] = set()  # paused by a decision, outcome not yet returned
        self._paused: dict[str, Trial] = {
            t.trial_id: t for t in self.trials if t.status is TrialStatus.PAUSED
        }

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> SweepOutcome:
        self.executor.bind(self._on_report)
        self._started_at = self.executor.now()
        exhausted = False
        self._pause_interrupted()
        queued = [t for t in self.trials if t.status is TrialStatus.QUEUED]
        try:
            while True:
                self._check_criteria()
                while self._ending is None and self.executor.running < self.executor.capacity:
                    if queued:
                        self._launch(queued.pop(0))
                        continue
                    if self._promote():
                        continue
                    if len(self.trials) >= self.max_trials or exhausted:
                        break
                    suggestion = self.sampler.ask(self.trials, self.goal)
                    if suggestion is None:
                        exhausted = True
                        break
                    trial = Trial(
                        index=len(self.trials),
                        params=dict(suggestion.params),
                        space_index=suggestion.space_index,
                        inactive=self._inactive(suggestion.params, suggestion.space_index),
                    )
                    self.trials.append(trial)
                    self._by_id[trial.trial_id] = trial
                    self._launch(trial)
                if self.executor.running == 0:
                    break
                for outcome in self.executor.wait():
                    self._finish(outcome)
        finally:
            self.executor.close()
        reason = self._ending or self._natural_end(exhausted)
        self._stop_paused(reason)
        for observer in self.observers:
            observer.sweep_finished(self.trials, reason)
        return SweepOutcome(self.trials, reason)

    def _inactive(self, params: Mapping[str, Any], space_index: int) -> frozenset[str]:
        """The fields of the trial's sub-space that its params leave inactive (for the record)."""
        spaces = self.sampler.spaces
        return spaces[space_index].inactive(params) if space_index < len(spaces) else frozenset()

    def _natural_end(self, exhausted: bool) -> str:
        if exhausted and len(self.trials) < self.max_trials:
            size = self.sampler.size
            return (
                f"search space exhausted ({size} configurations)" if size else "sampler exhausted"
            )
        return f"max_trials reached ({self.max_trials})"

    # -- pause and promotion -----------------------------------------------------------------
    def _decide(self, trial: Trial) -> Decision:
        assert self.policy is not None
        finished = [t.trial_id for t in self.trials if t.status is TrialStatus.COMPLETED]
        return self.policy.decide_with(
            trial.trial_id, self._history, self.goal, finished, self._window(trial)
        )

    def _window(self, trial: Trial) -> JudgingWindow | None:
        if self.windows is None:
            return None
        if trial.trial_id not in self._windows:
            self._windows[trial.trial_id] = self.windows(trial)
        return self._windows[trial.trial_id]

    def _pause_interrupted(self) -> None:
        """A re-queued trial whose last report was answered with a pause (the sweep died
        before recording it) is paused again rather than run on."""
        if self.policy is None:
            return
        for trial in self.trials:
            if trial.status is TrialStatus.QUEUED and trial.reports:
                decision = self._decide(trial)
                if decision.pause:
                    trial.status = TrialStatus.PAUSED
                    trial.stop_reason = decision.reason
                    trial.value = trial.values[-1]
                    self._paused[trial.trial_id] = trial
                    for observer in self.observers:
                        observer.trial_paused(trial)

    def _promote(self) -> bool:
        """Start the paused trial the policy promotes, if any."""
        if not self._paused or self.policy is None:
            return False
        promotion = self.policy.promote(list(self._paused), self._history, self.goal)
        if promotion is None:
            return False
        trial = self._paused.pop(promotion.trial_id)
        trial.status = TrialStatus.RUNNING
        trial.promoted = True
        trial.stop_reason = None
        trial.value = None
        trial.started_at = self.executor.now()
        for observer in self.observers:
            observer.trial_promoted(trial, promotion)
        self.executor.start(trial)
        return True

    def _stop_paused(self, reason: str) -> None:
        for trial in list(self._paused.values()):
            n = len(trial.reports)
            trial.status = TrialStatus.STOPPED
            trial.stop_reason = (
                f"paused at report {n} and not promoted before the sweep ended ({reason})"
            )
            trial.finished_at = self.executor.now()
            for observer in self.observers:
                observer.trial_finished(trial)
        self._paused.clear()

    def _check_criteria(self) -> None:
        if self._ending is not None:
            return
        elapsed = self.executor.now() - self._started_at
        for criterion in self.criteria:
            reason = criterion(self.trials, self.goal, elapsed)
            if reason:
                self._ending = reason
                for trial in self.trials:
                    if trial.status is TrialStatus.RUNNING:
                        trial.stop_reason = trial.stop_reason or f"sweep ended: {reason}"
                        self.executor.stop(trial.trial_id)
                return

    # -- trial events ------------------------------------------------------------------------
    def _launch(self, trial: Trial) -> None:
        # a re-queued trial keeps the reports of its interrupted attempt: its trial function
        # resumes after them (or, if it cannot, sends them again and they are recognised as
        # replays in _on_report), so the policy sees the same history
        trial.status = TrialStatus.RUNNING
        trial.started_at = self.executor.now()
        for observer in self.observers:
            observer.trial_started(trial)
        earlier = self.reuse(trial) if self.reuse is not None else None
        if earlier is not None:
            self._reuse(trial, earlier)
        else:
            self.executor.start(trial)

    def _reuse(self, trial: Trial, earlier: Trial) -> None:
        """Finish ``trial`` with the records of an identical trial that already completed."""
        for report in earlier.reports:
            trial.reports.append(report)
            self._history.setdefault(trial.trial_id, []).append(report.value)
            for observer in self.observers:
                observer.trial_reported(
                    trial, report, Decision(False, f"reused {earlier.trial_id}")
                )
        trial.artifacts.update(earlier.artifacts)
        trial.artifacts["reused_from"] = earlier.trial_id
        trial.status = TrialStatus.COMPLETED
        trial.value = earlier.value
        trial.finished_at = self.executor.now()
        for observer in self.observers:
            observer.trial_finished(trial)

    def _on_report(self, trial_id: str, step: int, metrics: Mapping[str, float]) -> bool:
        trial = self._by_id[trial_id]
        if trial.status is not TrialStatus.RUNNING:
            return True
        if self.primary_metric not in metrics:
            trial.error = (
                f"report {step} has no primary metric {self.primary_metric!r} "
                f"(reported: {', '.join(sorted(metrics)) or 'nothing'})"
            )
            return True
        value = float(metrics[self.primary_metric])
        if trial.reports and int(step) <= trial.reports[-1].step:
            # a step already recorded (an attempt that restarted before its checkpoint):
            # not recorded again; the answer is the policy's on the unchanged history
            return self._replayed(trial)
        fault_point("report")
        report = Report(int(step), value, dict(metrics))
        trial.reports.append(report)
        self._history.setdefault(trial_id, []).append(value)
        elapsed = self.executor.now() - (trial.started_at or self.executor.now())
        if not math.isfinite(value):
            trial.error = f"{self.primary_metric} is {value} at report {len(trial.reports)}"
            decision = Decision(True, trial.error)
        elif self.trial_timeout is not None and elapsed > self.trial_timeout:
            trial.error = f"trial exceeded its time limit of {self.trial_timeout:.0f} s"
            decision = Decision(True, trial.error)
        elif self._ending is not None:
            decision = Decision(True, f"sweep ended: {self._ending}")
        elif self.policy is not None:
            decision = self._decide(trial)
        else:
            decision = Decision(False, "no early-termination policy")
        for observer in self.observers:
            observer.trial_reported(trial, report, decision)
        if decision.stop and trial.error is None:
            trial.stop_reason = decision.reason
            if decision.pause:
                self._pausing.add(trial_id)
        if not decision.stop:
            self._check_criteria()
            return self._ending is not None
        return True

    def _replayed(self, trial: Trial) -> bool:
        if self._ending is not None or trial.stop_reason is not None:
            return True
        if self.policy is None or not math.isfinite(trial.reports[-1].value):
            return not math.isfinite(trial.reports[-1].value)
        decision = self._decide(trial)
        # a promoted trial that sends its paused report again goes on: it was promoted there
        return decision.stop and not (decision.pause and trial.promoted)

    def _finish(self, outcome: TrialOutcome) -> None:
        trial = self._by_id[outcome.trial_id]
        trial.finished_at = self.executor.now()
        trial.artifacts.update(outcome.artifacts)
        if outcome.metrics:
            trial.artifacts["metrics"] = dict(outcome.metrics)
        pausing = outcome.trial_id in self._pausing
        self._pausing.discard(outcome.trial_id)
        failed = trial.error is not None or outcome.status is TrialStatus.FAILED
        if pausing and not failed and trial.reports:
            trial.status = TrialStatus.PAUSED
            trial.value = outcome.value if outcome.value is not None else trial.values[-1]
            self._paused[trial.trial_id] = trial
            for observer in self.observers:
                observer.trial_paused(trial)
            return
        if failed:
            trial.status = TrialStatus.FAILED
            trial.error = trial.error or outcome.error or "failed"
            trial.value = None
        elif outcome.status is TrialStatus.STOPPED or trial.stop_reason is not None:
            # a trial function that knows better says so (a trainer keeps its best epoch's
            # checkpoint and value); a bare objective keeps its last reported value
            trial.status = TrialStatus.STOPPED
            trial.value = (
                outcome.value
                if outcome.value is not None
                else (trial.values[-1] if trial.reports else None)
            )
        elif outcome.value is None and not trial.reports:
            trial.status = TrialStatus.FAILED
            trial.error = "the trial ended without a value"
        else:
            trial.status = TrialStatus.COMPLETED
            trial.value = outcome.value if outcome.value is not None else trial.values[-1]
        for observer in self.observers:
            observer.trial_finished(trial)
