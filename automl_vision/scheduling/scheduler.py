"""The sweep loop: ask the sampler, start trials, apply the policy to reports, record outcomes.

One class, one job. It knows nothing about training: an ``Executor`` runs the trials, a
``Sampler`` proposes them, an ``EarlyTerminationPolicy`` judges their reports, observers (the
store, the progress display) are told what happens. Only the scheduler's thread touches its
state; executors deliver reports to ``_on_report`` on that thread.

Pause and promotion: a policy's decision may pause a trial (``Decision.pause``): it stops running
and is kept PAUSED. Whenever a worker is free the scheduler first asks the policy to
``promote`` one of the paused trials, which then continues from its checkpoint (its trial
function resumes after the reports it made), and only then asks the sampler for a new trial.
Once no new trial can start (``max_trials`` reached, the sampler exhausted) a free worker asks
``promote(..., closing=True)``: no rung will get more trials, so the policy may promote the best
paused ones it would otherwise keep waiting. Trials still paused when the sweep ends are STOPPED
at the report they reached.

Schedule-aware judging: ``windows(trial)`` gives each trial's ``JudgingWindow`` (where its
learning-rate schedule makes its curve mislead), handed to the policy with each decision.

Known objectives: ``known(trial)`` gives a trial's objectives known before it trains (its
deployment metrics), asked once per trial and handed to the policy in ``PolicyContext.known``
(for the front-aware policy of a multi-objective sweep); None: the policy is told nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_vision.executors.base import AttemptEnd, AttemptOutcome, Executor
from automl_vision.faults import fault_point
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.policies.context import PolicyContext
from automl_vision.policies.window import JudgingWindow
from automl_vision.sampling.base import Sampler
from automl_vision.scheduling.criteria import StopCriterion
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.reuse import ReuseIndex
from automl_vision.trial import (
    PrimaryMetricGoal,
    Report,
    TrainingProgress,
    Trial,
    TrialStatus,
    Verdict,
    metric_history,
)

__all__ = ["Scheduler", "SweepOutcome"]


@dataclass
class SweepOutcome:
    trials: list[Trial]
    end_reason: str
    #: why the sweep was interrupted (a signal, a storage problem); None when it ran to its end
    interrupted: str | None = None
    #: the storage problem that interrupted it (disk full, read-only), if that was the cause
    storage_problem: str | None = None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class Scheduler:
    """Runs a sweep to its end. ``trials`` may hold an earlier history (resume): QUEUED ones
    are started first, the others only inform the sampler and the policy."""

    #: how often a trial's process may die before the trial fails (each death: a new attempt
    #: that resumes from the trial's last resume checkpoint)
    MAX_PROCESS_DEATHS = 1

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
        reuse: ReuseIndex | None = None,
        trial_timeout: float | None = None,
        windows: Callable[[Trial], JudgingWindow | None] | None = None,
        known: Callable[[Trial], Mapping[str, float] | None] | None = None,
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
        # the same trials' reports (the lists themselves: they grow as reports arrive)
        self._reports: dict[str, list[Report]] = {
            t.trial_id: t.reports for t in self.trials if t.reports
        }
        self._ending: str | None = None
        self._interrupted: str | None = None
        self._storage_problem: str | None = None
        self._requeueing: set[str] = set()  # running trials paused by an interrupt
        self._queue: list[Trial] = []  # trials to start before asking the sampler
        self._deaths: dict[str, int] = {}  # trial id -> how often its process died
        self._started_at = 0.0
        self.windows = windows
        self._windows: dict[str, JudgingWindow | None] = {}
        self.known = known
        self._known: dict[str, Mapping[str, float]] = {}
        self._known_asked: set[str] = set()
        self._pausing: set[str] = set()  # paused by a decision, outcome not yet returned
        self._stopping: set[str] = set()  # answered 'stop' (or halted), outcome not yet returned
        self._paused: dict[str, Trial] = {
            t.trial_id: t for t in self.trials if t.status is TrialStatus.PAUSED
        }

    def interrupt(self, reason: str) -> None:
        """End the sweep soon and leave it resumable (Ctrl-C, SIGTERM, a full disk).

        No trial is started any more; each running trial is paused at its next report (the
        report is recorded and judged first: a stop decision stays a stop), goes back to the
        queue, and a resumed sweep continues it after that report. Safe to call from a signal
        handler on the scheduler's thread: it only sets state."""
        if self._interrupted is None:
            self._interrupted = reason

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> SweepOutcome:
        self.executor.bind(self._on_report, self._on_placed, self._on_start, self._on_progress)
        self._started_at = self.executor.now()
        exhausted = False
        self._review_requeued()
        self._queue = [t for t in self.trials if t.status is TrialStatus.QUEUED]
        try:
            while True:
                self._check_criteria()
                while (
                    self._ending is None
                    and self._interrupted is None
                    and self.executor.running < self.executor.capacity
                ):
                    if self._queue:
                        self._launch(self._queue.pop(0))
                        continue
                    if self._promote():
                        continue
                    if len(self.trials) >= self.max_trials or exhausted:
                        if self._promote(closing=True):
                            continue
                        break
                    suggestion = self.sampler.ask(self.trials, self.goal)
                    if suggestion is None:
                        exhausted = True  # back to the top: a closing promotion may follow
                        continue
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
        except BaseException:  # aborted (a second Ctrl-C, an error here): no grace for workers
            self.executor.abort()
            raise
        self.executor.close()
        reason = self._interrupted or self._ending or self._natural_end(exhausted)
        if self._interrupted is None:  # interrupted, paused trials stay promotable on resume
            self._stop_paused(reason)
        for observer in self.observers:
            observer.sweep_finished(self.trials, reason)
        return SweepOutcome(self.trials, reason, self._interrupted, self._storage_problem)

    def _inactive(self, params: Mapping[str, Any], space_index: int) -> frozenset[str]:
        """The fields of the trial's sub-space that its params leave inactive (for the record)."""
        spaces = self.sampler.spaces
        return spaces[space_index].inactive(params) if space_index < len(spaces) else frozenset()

    def _natural_end(self, exhausted: bool) -> str:
        if exhausted and len(self.trials) < self.max_trials:
            # a sampler that ends the sampling itself says why (``ConstrainedSampler``)
            ended = getattr(self.sampler, "ended", None)
            if isinstance(ended, str) and ended:
                return ended
            size = self.sampler.size
            return (
                f"search space exhausted ({size} configurations)" if size else "sampler exhausted"
            )
        return f"max_trials reached ({self.max_trials})"

    # -- pause and promotion -----------------------------------------------------------------
    def _decide(self, trial: Trial) -> Decision:
        assert self.policy is not None
        return self.policy.judge(self._context(trial))

    def _context(self, trial: Trial | None = None) -> PolicyContext:
        """What the policy is told: every history, the goal, the finished trials and ``trial``
        (the one judged, with its judging window; None for a promotion)."""
        finished = [t.trial_id for t in self.trials if t.status is TrialStatus.COMPLETED]
        context = PolicyContext(
            history=self._history,
            goal=self.goal,
            finished=finished,
            known=self._known_now(),
            reports=self._reports,
        )
        if trial is None:
            return context
        return context.about(trial.trial_id, self._window(trial))

    def _known_now(self) -> Mapping[str, Mapping[str, float]]:
        """Every trial's known objectives (asked once per trial, when first needed)."""
        if self.known is None:
            return {}
        for trial in self.trials:
            if trial.trial_id not in self._known_asked:
                self._known_asked.add(trial.trial_id)
                values = self.known(trial)
                if values is not None:
                    self._known[trial.trial_id] = dict(values)
        return self._known

    def _window(self, trial: Trial) -> JudgingWindow | None:
        if self.windows is None:
            return None
        if trial.trial_id not in self._windows:
            self._windows[trial.trial_id] = self.windows(trial)
        return self._windows[trial.trial_id]

    def _review_requeued(self) -> None:
        """A re-queued trial (the sweep died while it ran) whose last report was answered with
        a pause is paused again rather than run on; one whose last report was answered 'go on'
        goes on, even where its checkpoint holds an earlier pause (it died after a promotion)."""
        if self.policy is None:
            return
        for trial in self.trials:
            if trial.status is TrialStatus.QUEUED and trial.reports:
                decision = self._decide(trial)
                if not decision.stop:
                    trial.resume_stopped = True
                elif decision.pause:
                    trial.status = TrialStatus.PAUSED
                    trial.stop_reason = decision.reason
                    trial.value = self.goal.best(trial.values)  # a trainer's value: its best
                    self._paused[trial.trial_id] = trial
                    for observer in self.observers:
                        observer.trial_paused(trial)

    def _promote(self, *, closing: bool = False) -> bool:
        """Start the paused trial the policy promotes, if any; ``closing``: no new trial can
        start any more (the policy may then promote where it would otherwise wait)."""
        if not self._paused or self.policy is None:
            return False
        promotion = self.policy.judge_paused(list(self._paused), self._context(), closing=closing)
        if promotion is None:
            return False
        trial = self._paused.pop(promotion.trial_id)
        trial.status = TrialStatus.RUNNING
        trial.resume_stopped = True
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
        if self._ending is not None or self._interrupted is not None:
            return
        elapsed = self.executor.now() - self._started_at
        for criterion in self.criteria:
            reason = criterion(self.trials, self.goal, elapsed)
            if reason:
                self._ending = reason
                for trial in self.trials:
                    if trial.status is TrialStatus.RUNNING:
                        trial.stop_reason = trial.stop_reason or f"sweep ended: {reason}"
                        self._stopping.add(trial.trial_id)
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
        earlier = self.reuse.lookup(trial, self.trials) if self.reuse is not None else None
        if earlier is not None:
            self._reuse(trial, earlier)
        else:
            for observer in self.observers:
                observer.trial_dispatched(trial)
            self.executor.start(trial)

    def _reuse(self, trial: Trial, earlier: Trial) -> None:
        """Finish ``trial`` with the records of an identical trial that already completed."""
        for report in earlier.reports:
            trial.reports.append(report)
            self._reports[trial.trial_id] = trial.reports
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

    def _on_placed(self, trial_id: str, where: str) -> None:
        trial = self._by_id[trial_id]
        trial.placement = where
        for observer in self.observers:
            observer.trial_placed(trial)

    def _on_start(self, trial_id: str, step: int) -> None:
        trial = self._by_id[trial_id]
        for observer in self.observers:
            observer.attempt_starts(trial, step)

    def _on_progress(self, trial_id: str, progress: TrainingProgress) -> None:
        """Told to the observers only: no policy sees it and the store keeps nothing of it."""
        trial = self._by_id.get(trial_id)
        if trial is None or trial.status is not TrialStatus.RUNNING:
            return
        for observer in self.observers:
            observer.trial_progress(trial, progress)

    def _on_report(self, trial_id: str, step: int, metrics: Mapping[str, float]) -> Verdict:
        verdict = self._judge(trial_id, step, metrics)
        if verdict is Verdict.STOP:
            self._stopping.add(trial_id)  # its attempt ends stopped (it is told so)
        return verdict

    def _judge(self, trial_id: str, step: int, metrics: Mapping[str, float]) -> Verdict:
        trial = self._by_id[trial_id]
        if trial.status is not TrialStatus.RUNNING:
            return Verdict.STOP
        if self.primary_metric not in metrics:
            trial.error = (
                f"report {step} has no primary metric {self.primary_metric!r} "
                f"(reported: {', '.join(sorted(metrics)) or 'nothing'})"
            )
            return Verdict.STOP
        value = float(metrics[self.primary_metric])
        if trial.reports and int(step) <= trial.reports[-1].step:
            # a step already recorded (an attempt that restarted before its checkpoint):
            # not recorded again; the answer is the policy's on the unchanged history
            return self._replayed(trial)
        fault_point("report")
        report = Report(int(step), value, dict(metrics))
        trial.reports.append(report)
        self._reports[trial_id] = trial.reports
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
        if self._interrupted is not None and not decision.stop:
            decision = Decision(
                False, f"{decision.reason}; paused: {self._interrupted} (resumes after this report)"
            )
        for observer in self.observers:
            observer.trial_reported(trial, report, decision)
        if decision.stop and trial.error is None:
            trial.stop_reason = decision.reason
            if decision.pause:  # PAUSE: the run ends resumably, to go on if promoted
                self._pausing.add(trial_id)
                return Verdict.PAUSE
        if decision.stop:
            return Verdict.STOP
        self._check_criteria()
        if self._interrupted is not None:
            self._requeueing.add(trial_id)
            return Verdict.PAUSE
        return Verdict.STOP if self._ending is not None else Verdict.CONTINUE

    def _replayed(self, trial: Trial) -> Verdict:
        if self._ending is not None or trial.stop_reason is not None:
            return Verdict.STOP
        if not math.isfinite(trial.reports[-1].value):
            return Verdict.STOP
        if self.policy is not None:
            decision = self._decide(trial)
            # a promoted trial that sends its paused report again goes on: it was promoted there
            if decision.stop and not (decision.pause and trial.resume_stopped):
                return Verdict.STOP
        if self._interrupted is not None:
            self._requeueing.add(trial.trial_id)
            return Verdict.PAUSE
        return Verdict.CONTINUE

    def _finish(self, outcome: AttemptOutcome) -> None:
        """Decide the status of ``outcome``'s trial: the one place a trial's attempt ends."""
        trial = self._by_id[outcome.trial_id]
        end = outcome.end
        stopping = outcome.trial_id in self._stopping
        self._stopping.discard(outcome.trial_id)
        if end is AttemptEnd.STORAGE:
            # the trial could not go on for a reason outside it (the disk is full): it is not
            # its failure; the sweep pauses every trial and ends, resumable
            problem = outcome.error or "the storage failed"
            self._storage_problem = self._storage_problem or problem
            self.interrupt(problem)
            self._requeue(trial, problem)
            return
        if trial.trial_id in self._requeueing and end not in (
            AttemptEnd.RAISED,
            AttemptEnd.TIMED_OUT,
        ):
            self._requeue(trial, self._interrupted or "interrupted")
            return
        if end is AttemptEnd.DIED and trial.error is None and self._interrupted is None:
            deaths = self._deaths[trial.trial_id] = self._deaths.get(trial.trial_id, 0) + 1
            if deaths <= self.MAX_PROCESS_DEATHS:
                # its process died (killed, out of memory): a new attempt resumes it from its
                # last resume checkpoint, at once; a second death fails it
                self._requeue(trial, f"{outcome.error or 'its process died'}; resumed")
                self._queue.insert(0, trial)
                return
        trial.finished_at = self.executor.now()
        result = outcome.result
        if result is not None:
            trial.artifacts.update(result.artifacts)
            if result.metrics:
                trial.artifacts["metrics"] = dict(result.metrics)
        pausing = outcome.trial_id in self._pausing
        self._pausing.discard(outcome.trial_id)
        failed_end = end in (AttemptEnd.RAISED, AttemptEnd.TIMED_OUT, AttemptEnd.DIED)
        if trial.error is None and failed_end:
            trial.error = outcome.error or "failed"
        stopped = stopping or end is AttemptEnd.HALTED or trial.stop_reason is not None
        # a value the trial function vouches for (a trainer: its best epoch's); a bare
        # function's return value counts only when it ran to its end
        own = None if result is None else result.value
        if trial.error is None and own is None and result is None and not (stopped or pausing):
            own = outcome.returned
            if own is None or isinstance(own, bool) or not _is_number(own):
                trial.error = f"objective returned {own!r} ({type(own).__name__}), not a number"
        if trial.error is None and own is not None:
            if not _is_number(own) or not math.isfinite(float(own)):
                trial.error = f"objective returned {own}"
            else:
                own = float(own)
        if pausing and trial.error is None and trial.reports:
            trial.status = TrialStatus.PAUSED
            trial.value = own if own is not None else trial.values[-1]
            self._paused[trial.trial_id] = trial
            for observer in self.observers:
                observer.trial_paused(trial)
            return
        if trial.error is not None:
            trial.status = TrialStatus.FAILED
            trial.value = None
        elif stopped:
            # a stopped bare objective keeps its last reported value
            trial.status = TrialStatus.STOPPED
            trial.value = own if own is not None else (trial.values[-1] if trial.reports else None)
        elif own is None and not trial.reports:
            trial.status = TrialStatus.FAILED
            trial.error = "the trial ended without a value"
        else:
            trial.status = TrialStatus.COMPLETED
            trial.value = own if own is not None else trial.values[-1]
        for observer in self.observers:
            observer.trial_finished(trial)

    def _requeue(self, trial: Trial, reason: str) -> None:
        """``trial``'s attempt ended unfinished: back to the queue, to resume after its last
        report (its reports stay, so the policy's view is unchanged)."""
        self._requeueing.discard(trial.trial_id)
        self._pausing.discard(trial.trial_id)
        self._stopping.discard(trial.trial_id)
        trial.status = TrialStatus.QUEUED
        trial.stop_reason = trial.error = None
        for observer in self.observers:
            observer.trial_requeued(trial, reason)
