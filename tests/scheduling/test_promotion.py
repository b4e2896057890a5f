"""Promotion sweeps in simulated time: paused trials continue their recorded curves when
promoted, the store records pauses and promotions, a seed repeats the sweep, a killed and resumed
sweep loses nothing, and schedule-aware judging gets its windows from the scheduler."""

from __future__ import annotations

import numpy as np
import pytest

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies import ASHAPolicy, HyperbandPolicy, JudgingWindow
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.store.database import EventKind, SweepStore
from automl_vision.trial import TrialStatus

EPOCHS, TRIALS = 9, 14


def curves(seed: int = 0) -> np.ndarray:
    """Rising curves with different rates and end points (some cross each other)."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, EPOCHS + 1)
    top = rng.uniform(0.5, 0.95, size=(TRIALS, 1))
    rate = rng.uniform(0.1, 1.0, size=(TRIALS, 1))
    return top * (1 - np.exp(-rate * t)) + rng.normal(0, 0.01, size=(TRIALS, EPOCHS))


def sweep(policy, *, capacity=3, seed=0, observers=(), trials=(), windows=None):
    data = curves()
    executor = SimulatedExecutor(data, capacity=capacity, seed=seed)
    scheduler = Scheduler(
        FixedConfigurations([{"curve": i} for i in range(TRIALS)]),
        executor,
        max_trials=TRIALS,
        policy=policy,
        primary_metric="accuracy",
        observers=observers,
        trials=trials,
        windows=windows,
    )
    return scheduler.run(), executor, data


class Log(SweepObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def trial_paused(self, trial) -> None:
        self.events.append(("paused", trial.trial_id))

    def trial_promoted(self, trial, promotion) -> None:
        self.events.append(("promoted", trial.trial_id))


@pytest.mark.parametrize("policy", [ASHAPolicy(1, EPOCHS, 3, promotion=True),
                                    HyperbandPolicy(1, EPOCHS, 3, promotion=True)], ids=repr)  # fmt: skip
def test_promoted_trials_continue_their_curves(policy) -> None:
    log = Log()
    outcome, executor, data = sweep(policy, observers=[log])
    promoted = {t for kind, t in log.events if kind == "promoted"}
    assert promoted, "the sweep promoted nobody"
    for trial in outcome.trials:
        assert [r.step for r in trial.reports] == list(range(1, len(trial.reports) + 1))
        assert trial.values == list(data[trial.params["curve"]][: len(trial.reports)])
        assert trial.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
        first_rung = policy.bracket_min_resource(policy.bracket_of(trial.trial_id))
        if first_rung < len(trial.reports):
            assert trial.trial_id in promoted  # only a promotion takes a trial past a rung
    assert executor.epochs_run == sum(len(t.reports) for t in outcome.trials)  # nothing re-run
    completed = [t for t in outcome.trials if t.status is TrialStatus.COMPLETED]
    assert all(len(t.reports) == EPOCHS for t in completed)
    left = [t for t in outcome.trials if t.stop_reason and "not promoted" in t.stop_reason]
    assert left and all(
        t.stop_reason.startswith(f"paused at report {len(t.reports)} and not promoted before "
                                 "the sweep ended (max_trials reached")
        for t in left
    )  # fmt: skip


def test_a_seed_repeats_a_promotion_sweep() -> None:
    def run(seed):
        log = Log()
        outcome, _, _ = sweep(ASHAPolicy(1, EPOCHS, 3, promotion=True), seed=seed, observers=[log])
        return [(t.trial_id, t.status, t.values, t.stop_reason) for t in outcome.trials], log.events

    assert run(3) == run(3)
    assert run(3) != run(4)  # the seed sets the simulated durations, hence the order


def test_the_store_records_pauses_and_promotions(tmp_path) -> None:
    store = SweepStore(tmp_path / "sweep.db")
    outcome, _, _ = sweep(ASHAPolicy(1, EPOCHS, 3, promotion=True), observers=[store])
    kinds = [kind for _, kind, _ in store.events()]
    assert EventKind.TRIAL_PAUSED.value in kinds and EventKind.TRIAL_PROMOTED.value in kinds
    promoted = [t for t in outcome.trials if len(t.reports) > 1]
    attempts = store.attempts(promoted[0].index)
    assert attempts[0]["status"] == TrialStatus.PAUSED.value and len(attempts) >= 2
    assert attempts[1]["started_from_epoch"] == 1  # continued after its pause at rung 1
    final = {t.trial_id: (t.status, t.values) for t in store.load_trials()}
    assert final == {t.trial_id: (t.status, t.values) for t in outcome.trials}
    assert TrialStatus.PAUSED not in {status for status, _ in final.values()}


class Killed(BaseException):
    pass


class Killer(SweepObserver):
    """Kills the sweep at its ``at``-th report (after the store recorded it)."""

    def __init__(self, at: int) -> None:
        self.at, self.seen = at, 0

    def trial_reported(self, trial, report, decision) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise Killed


@pytest.mark.parametrize("at", [2, 7, 12, 20])
def test_a_killed_and_resumed_promotion_sweep_loses_nothing(tmp_path, at) -> None:
    policy = ASHAPolicy(1, EPOCHS, 3, promotion=True)
    whole_store = SweepStore(tmp_path / "whole.db")
    whole, _, _ = sweep(policy, capacity=1, observers=[whole_store])
    store = SweepStore(tmp_path / "cut.db")
    with pytest.raises(Killed):
        sweep(policy, capacity=1, observers=[store, Killer(at)])
    store.close()
    store = SweepStore(tmp_path / "cut.db")
    history = store.load_trials()
    assert any(t.status is TrialStatus.PAUSED for t in history) or at < 3
    resumed, executor, _ = sweep(policy, capacity=1, observers=[store], trials=history)
    summary = [(t.trial_id, t.status, t.values, t.stop_reason) for t in resumed.trials]
    assert summary == [(t.trial_id, t.status, t.values, t.stop_reason) for t in whole.trials]
    assert store.decisions() == whole_store.decisions()  # every report once, same verdicts
    assert executor.epochs_run == sum(len(t.reports) for t in resumed.trials) - at


def test_schedule_aware_judging_gets_each_trials_window() -> None:
    seen = []

    def windows(trial):
        seen.append(trial.trial_id)
        return JudgingWindow(warmup=2)

    outcome, _, _ = sweep(ASHAPolicy(1, EPOCHS, 3, schedule_aware=True), windows=windows)
    assert sorted(seen) == sorted({t.trial_id for t in outcome.trials})  # asked once per trial
    reasons = [t.stop_reason for t in outcome.trials if t.status is TrialStatus.STOPPED]
    assert reasons and all(not r.startswith("stopped at rung 1:") for r in reasons)
    assert any("decision moved from report 1 to report 3" in r for r in reasons)
    assert all(len(t.reports) >= 3 for t in outcome.trials)  # nobody judged in warm-up


def test_a_black_box_objective_promoted_runs_again_and_its_replays_are_not_recorded() -> None:
    from automl_vision import optimize, uniform

    calls: list[tuple[float, int]] = []

    def objective(params, report):
        value = 0.0
        for epoch in range(1, EPOCHS + 1):
            value = (1 - (params["x"] - 0.3) ** 2) * (1 - 0.5 / epoch)
            calls.append((params["x"], epoch))
            if report(epoch, value):
                break
        return value

    result = optimize(
        objective,
        {"x": uniform(0, 1)},
        max_trials=9,
        policy=ASHAPolicy(1, EPOCHS, 3, promotion=True),
        seed=0,
    )
    assert any(len(t.reports) > 1 for t in result.trials)
    for trial in result.trials:
        assert [r.step for r in trial.reports] == list(range(1, len(trial.reports) + 1))
    # a promoted objective starts over (it has no checkpoint): its earlier steps are replays
    promoted = [t for t in result.trials if len(t.reports) > 1]
    x = promoted[0].params["x"]
    assert [e for v, e in calls if v == x][:3] == [1, 1, 2]


@pytest.mark.parametrize("goal", ["maximize", "minimize"])
@pytest.mark.parametrize("closing", [True, False])
def test_a_small_trial_bounded_sweep_closes_by_promoting_its_best(goal, closing) -> None:
    """Two trials, promotion ASHA: no rung ever holds 3 trials, so the open rule promotes nobody;
    once no new trial may start, the best paused trial of each rung goes on and the sweep ends
    with its best trial trained to the end (the closing promotion switched off shows the difference)."""
    data = curves()[:2] * (1 if goal == "maximize" else -1)

    class NoClosing(ASHAPolicy):
        def promote(self, paused, history, goal, *, closing=False):
            return super().promote(paused, history, goal, closing=False)

    policy = (ASHAPolicy if closing else NoClosing)(1, EPOCHS, 3, promotion=True)
    log = Log()
    outcome = Scheduler(
        FixedConfigurations([{"curve": i} for i in range(2)]),
        SimulatedExecutor(data, capacity=2, seed=0),
        max_trials=2,
        policy=policy,
        primary_metric="accuracy",
        goal=goal,
        observers=[log],
    ).run()
    completed = [t for t in outcome.trials if t.status is TrialStatus.COMPLETED]
    if not closing:
        assert completed == [] and all(len(t.reports) == 1 for t in outcome.trials)
        return
    # as in stopping ASHA, the first at a rung goes on while no other reached it, so both may
    # finish; the best always does
    best = max(range(2), key=lambda i: data[i][0] * (1 if goal == "maximize" else -1))
    assert best in [t.params["curve"] for t in completed]
    assert all(len(t.reports) == EPOCHS for t in completed)
    assert all(("promoted", t.trial_id) in log.events for t in completed)
    for trial in outcome.trials:
        assert trial.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED)
