"""The SQLite store: every record written as it happens, state rebuilt by reading it back."""

from __future__ import annotations

import sqlite3

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.store.database import SweepStore
from automl_vision.trial import Trial, TrialStatus

CURVES = [[0.1, 0.2, 0.3], [0.5, 0.6, 0.7], [0.2, 0.25, 0.3], [0.6, 0.7, 0.9]]


class StopWeak(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        v = history[trial_id][-1]
        return Decision(v < 0.2, f"{v} < 0.2" if v < 0.2 else f"{v} >= 0.2")


def run(store: SweepStore, trials=(), max_trials=4, policy=None) -> list[Trial]:
    sampler = FixedConfigurations([{"curve": i} for i in range(len(CURVES))])
    executor = SimulatedExecutor(CURVES, capacity=2, seed=0)
    scheduler = Scheduler(
        sampler,
        executor,
        max_trials=max_trials,
        policy=policy,
        primary_metric="accuracy",
        observers=[store],
        trials=trials,
    )
    return scheduler.run().trials


def test_store_round_trips_every_trial_and_report(tmp_path) -> None:
    store = SweepStore(tmp_path / "sweep.db")
    trials = run(store, policy=StopWeak())
    loaded = SweepStore(tmp_path / "sweep.db").load_trials()
    assert [t.trial_id for t in loaded] == [t.trial_id for t in trials]
    for a, b in zip(trials, loaded, strict=True):
        assert (a.params, a.status, a.value, a.stop_reason) == (
            b.params,
            b.status,
            b.value,
            b.stop_reason,
        )
        assert [(r.step, r.value, dict(r.metrics)) for r in a.reports] == [
            (r.step, r.value, dict(r.metrics)) for r in b.reports
        ]
    assert loaded[0].status is TrialStatus.STOPPED and loaded[0].stop_reason == "0.1 < 0.2"
    decisions = store.decisions()
    assert ("trial_0000", 1, True, "0.1 < 0.2") in decisions
    assert store.events()[-1][1:] == ("sweep_finished", "max_trials reached (4)")


def test_wal_mode_and_readable_view(tmp_path) -> None:
    store = SweepStore(tmp_path / "sweep.db")
    run(store)
    db = sqlite3.connect(tmp_path / "sweep.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = db.execute("SELECT trial_id, status FROM trial_status ORDER BY trial_index").fetchall()
    assert rows == [(f"trial_{i:04d}", "COMPLETED") for i in range(4)]


def test_unfinished_attempts_are_rerun_on_resume_and_finished_ones_are_not(tmp_path) -> None:
    path = tmp_path / "sweep.db"
    store = SweepStore(path)
    run(store, max_trials=2)  # trials 0 and 1 complete
    # a third trial started, reported, then the process died
    crashed = Trial(index=2, params={"curve": 2}, status=TrialStatus.RUNNING, started_at=1.0)
    store.trial_started(crashed)
    store.trial_reported(crashed, crashed_report(), Decision(False, "ok"))
    store.close()

    reopened = SweepStore(path)
    history = reopened.load_trials()
    assert [t.status for t in history] == [
        TrialStatus.COMPLETED,
        TrialStatus.COMPLETED,
        TrialStatus.QUEUED,
    ]
    trials = run(reopened, trials=history, max_trials=4)
    assert [t.status for t in trials] == [TrialStatus.COMPLETED] * 4
    assert reopened.attempt_counts() == {0: 1, 1: 1, 2: 2, 3: 1}
    final = SweepStore(path).load_trials()
    assert [len(t.reports) for t in final] == [
        3,
        3,
        3,
        3,
    ]  # the dead attempt's report is not mixed in


def crashed_report():
    from automl_vision.trial import Report

    return Report(1, 0.2, {"accuracy": 0.2})


def test_meta_round_trip(tmp_path) -> None:
    store = SweepStore(tmp_path / "s.db")
    store.set_meta({"seed": 3, "space": [{"x": "uniform(0, 1)"}], "fingerprint": "abc"})
    assert SweepStore(tmp_path / "s.db").meta() == {
        "seed": 3,
        "space": [{"x": "uniform(0, 1)"}],
        "fingerprint": "abc",
    }
