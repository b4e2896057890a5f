"""The process pool: worker per slot, reports over pipes, crashes and timeouts fail only the trial."""

from __future__ import annotations

import itertools
import time

import pytest
from helpers_sweep import tiny_space
from pool_targets import curve, misbehave, with_children

from automl_vision.executors.pool import ProcessPoolExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import Trial, TrialStatus


class StopSlow(EarlyTerminationPolicy):
    def decide(self, trial_id, history, goal, finished=()):
        values = history[trial_id]
        return Decision(len(values) >= 2 and values[-1] < 0.3, "slow")


def test_pool_runs_trials_on_their_slots_and_applies_the_policy(tmp_path) -> None:
    configs = [{"rate": r} for r in (0.05, 0.2, 0.1, 0.25)]
    executor = ProcessPoolExecutor(curve, slots=["0", "1"], output_dir=tmp_path)
    outcome = Scheduler(
        FixedConfigurations(configs),
        executor,
        max_trials=4,
        policy=StopSlow(),
        primary_metric="accuracy",
    ).run()
    by_rate = {t.params["rate"]: t for t in outcome.trials}
    assert by_rate[0.05].status is TrialStatus.STOPPED and len(by_rate[0.05].reports) == 2
    assert by_rate[0.1].status is TrialStatus.STOPPED and by_rate[0.1].value == 0.2
    assert by_rate[0.2].status is TrialStatus.COMPLETED and by_rate[0.2].value == 0.8
    assert by_rate[0.25].status is TrialStatus.COMPLETED and by_rate[0.25].value == 1.0
    assert {t.artifacts["devices"] for t in outcome.trials} == {"0", "1"}
    assert by_rate[0.2].artifacts["metrics"] == {"accuracy": 0.8}
    log = tmp_path / "trials" / by_rate[0.2].trial_id / "log.txt"
    assert f"trial {by_rate[0.2].trial_id} done" in log.read_text()


@pytest.mark.slow
def test_crashes_deaths_and_timeouts_fail_only_their_trial(tmp_path) -> None:
    configs = [{"kind": k} for k in ("raise", "die", "ok", "hang", "ok2")]
    executor = ProcessPoolExecutor(misbehave, slots=["", ""], output_dir=tmp_path, trial_timeout=20)
    outcome = Scheduler(
        FixedConfigurations(configs), executor, max_trials=5, primary_metric="accuracy"
    ).run()
    by_kind = {t.params["kind"]: t for t in outcome.trials}
    assert by_kind["raise"].status is TrialStatus.FAILED
    assert by_kind["raise"].error == "RuntimeError: bad trial"
    assert by_kind["die"].status is TrialStatus.FAILED
    assert "the trial's process died (exit code 3)" in by_kind["die"].error
    assert by_kind["hang"].status is TrialStatus.FAILED
    assert "exceeded its time limit of 20 s" in by_kind["hang"].error
    assert by_kind["ok"].status is TrialStatus.COMPLETED and by_kind["ok"].value == 0.9
    assert by_kind["ok2"].status is TrialStatus.COMPLETED


@pytest.mark.slow
def test_pool_workers_continue_promoted_trials_from_their_own_state(tmp_path) -> None:
    from pool_targets import resumable

    from automl_vision.policies import ASHAPolicy

    configs = [{"rate": r} for r in (0.01, 0.05, 0.03, 0.1, 0.02, 0.08)]
    executor = ProcessPoolExecutor(resumable, slots=["", ""], output_dir=tmp_path)
    outcome = Scheduler(
        FixedConfigurations(configs),
        executor,
        max_trials=6,
        policy=ASHAPolicy(1, 9, 3, promotion=True),
        primary_metric="accuracy",
    ).run()
    promoted = [t for t in outcome.trials if len(t.reports) > 1]
    assert promoted
    for trial in outcome.trials:
        assert [r.step for r in trial.reports] == list(range(1, len(trial.reports) + 1))
        starts = (tmp_path / "trials" / trial.trial_id / "starts").read_text().splitlines()
        assert starts[0] == "0"  # a new trial
        assert all(int(a) < int(b) for a, b in itertools.pairwise(starts))  # each goes on
        assert len(starts) == 1 + (trial in promoted) * len(
            [r for r in (1, 3) if r < len(trial.reports)]
        )


# -- a seeded trial's result does not depend on the executor -------------------------------
@pytest.mark.slow
def test_inline_and_pool_give_identical_metrics(digits_folder, tmp_path) -> None:
    import functools

    import torch

    from automl_vision.data import load_dataset
    from automl_vision.executors.base import TrialContext
    from automl_vision.executors.function import FunctionExecutor
    from automl_vision.executors.pool import ProcessPoolExecutor
    from automl_vision.tuning.training_trial import TrainingJob, run_training_trial

    dataset = load_dataset(digits_folder, seed=0)
    job = TrainingJob(dataset=dataset, primary_metric="accuracy", seed=3, device="cpu", threads=1)
    params = {**tiny_space(), "learning_rate": 0.05, "optimizer": "sgd"}
    target = functools.partial(run_training_trial, job=job)

    def run(executor) -> tuple[float, dict, dict]:
        executor.bind(lambda trial_id, step, metrics: False)
        executor.start(Trial(index=4, params=dict(params), trial_id="t"))
        outcomes: list = []
        while not outcomes:
            outcomes = executor.wait()
        executor.close()
        (outcome,) = outcomes
        assert outcome.error is None, outcome.error
        return outcome.result.value, outcome.result.metrics, outcome.result.artifacts

    def runner(trial, report):
        context = TrialContext(trial.trial_id, trial.index, str(tmp_path / "inline" / "t"), "")
        return target(trial.params, report, context)

    torch.set_num_threads(2)  # the sweep's own setting must not leak into the trial
    inline = run(FunctionExecutor(runner, capacity=1))
    assert torch.get_num_threads() == 2  # and is restored afterwards
    torch.set_num_threads(1)
    pool = run(ProcessPoolExecutor(target, slots=[""], output_dir=tmp_path / "pool",
                                   threads_per_worker=2))  # fmt: skip
    assert inline[0] == pool[0] and inline[1] == pool[1]
    assert inline[2]["threads"] == pool[2]["threads"] == 1
    assert inline[2]["random_seed"] == pool[2]["random_seed"]


def test_abort_kills_every_worker_at_once(tmp_path) -> None:
    """An aborted sweep (a second Ctrl-C) does not wait for idle workers, some of which may
    still be starting up (importing torch) and would read their Exit only then."""
    executor = ProcessPoolExecutor(curve, slots=["", ""], output_dir=tmp_path)
    start = time.monotonic()
    executor.abort()
    assert time.monotonic() - start < 2
    assert not any(w.process.is_alive() for w in executor._workers)


def test_a_trial_may_start_processes_of_its_own(tmp_path) -> None:
    """Pool workers were daemonic: a trainer with data-loader workers (number_of_workers > 0,
    the default on a GPU) failed with 'daemonic processes are not allowed to have children'."""
    executor = ProcessPoolExecutor(with_children, slots=[""], output_dir=tmp_path)
    outcome = Scheduler(
        FixedConfigurations([{"rate": 0.5}]), executor, max_trials=1, primary_metric="accuracy"
    ).run()
    (trial,) = outcome.trials
    assert trial.status is TrialStatus.COMPLETED, trial.error
    assert trial.value == 0.5


def test_progress_messages_cross_from_a_worker_to_the_scheduler_side(tmp_path) -> None:
    from pool_targets import tells_progress

    from automl_vision.executors.pool import ProcessPoolExecutor
    from automl_vision.trial import TrainingProgress

    told: list = []
    reports: list = []
    executor = ProcessPoolExecutor(tells_progress, slots=[""], output_dir=tmp_path)
    executor.bind(
        lambda trial_id, step, metrics: reports.append(step) or False,
        on_progress=lambda trial_id, progress: told.append((trial_id, progress)),
    )
    executor.start(Trial(index=0, params={}, trial_id="t"))
    outcomes: list = []
    while not outcomes:
        outcomes = executor.wait()
    executor.close()
    assert told == [("t", TrainingProgress(1, 2, 1, 2)), ("t", TrainingProgress(1, 2, 2, 2))]
    assert reports == [1, 2]  # progress is never a report
