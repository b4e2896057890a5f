"""``SimulatedExecutor(progress=True)``: each replayed report carries progress and cost."""

from __future__ import annotations

import math

import pytest

from automl_vision.executors.simulated import SimulatedExecutor
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Report, Trial

NAN = math.nan
CURVES = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, NAN, NAN]]


def _reports(executor: SimulatedExecutor, policy=None):
    sampler = FixedConfigurations([{"curve": i} for i in range(len(CURVES))])
    scheduler = Scheduler(sampler, executor, max_trials=2, primary_metric="accuracy", policy=policy)
    return {t.params["curve"]: t.reports for t in scheduler.run().trials}


@pytest.mark.parametrize(
    ("kwargs", "progress", "cost"),
    [
        # the curves' own lengths; cost: epochs x seconds per epoch
        (
            {"epoch_seconds": [2.0, 3.0]},
            {0: [0.25, 0.5, 0.75, 1.0], 1: [0.25, 0.5, 0.75, 1.0]},
            {0: [2.0, 4.0, 6.0, 8.0], 1: [3.0, 6.0, 9.0, 12.0]},
        ),
        # the NaN-padded row's schedule is 2 reports long: its padding says 1
        (
            {"epoch_seconds": [2.0, 3.0], "schedule_lengths": [4, 2]},
            {0: [0.25, 0.5, 0.75, 1.0], 1: [0.5, 1.0, 1.0, 1.0]},
            {0: [2.0, 4.0, 6.0, 8.0], 1: [3.0, 6.0, 9.0, 12.0]},
        ),
        # per-report cumulative costs given
        (
            {"costs": [[1, 2, 3, 4], [10, 20, 20, 20]], "schedule_lengths": [4, 2]},
            {0: [0.25, 0.5, 0.75, 1.0], 1: [0.5, 1.0, 1.0, 1.0]},
            {0: [1.0, 2.0, 3.0, 4.0], 1: [10.0, 20.0, 20.0, 20.0]},
        ),
    ],
)
def test_reports_carry_progress_and_cost(kwargs, progress, cost) -> None:
    reports = _reports(SimulatedExecutor(CURVES, capacity=2, progress=True, **kwargs))
    for curve, rs in reports.items():
        n = len(rs)  # a NaN report ends its trial
        assert n >= 3
        assert [r.progress for r in rs] == progress[curve][:n]
        assert [r.cost for r in rs] == cost[curve][:n]


def test_default_reports_are_unchanged() -> None:
    reports = _reports(SimulatedExecutor(CURVES, capacity=2, seed=3))
    for rs in reports.values():
        assert all(set(r.metrics) == {"accuracy"} for r in rs)
        assert all(r.progress is None and r.cost is None for r in rs)
        assert len(rs) >= 3


def test_cost_continues_after_a_restart() -> None:
    # a trial started again continues its curve and its simulated seconds
    executor = SimulatedExecutor(CURVES, capacity=1, progress=True, epoch_seconds=[2.0, 3.0])
    trial = Trial(index=0, params={"curve": 0})
    trial.reports.extend([Report(1, 0.1, {}), Report(2, 0.2, {})])
    seen = []
    executor.report = lambda tid, step, metrics: seen.append((step, dict(metrics))) or False
    executor.start(trial)
    executor.wait()
    executor.wait()
    assert [(s, m[PROGRESS_KEY], m[COST_KEY]) for s, m in seen] == [(3, 0.75, 6.0), (4, 1.0, 8.0)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"progress": True, "schedule_lengths": [4]}, "schedule_lengths must give"),
        ({"progress": True, "schedule_lengths": [4, 0]}, "schedule_lengths must give"),
        ({"progress": True, "schedule_lengths": [4, 2.5]}, "schedule_lengths must give"),
        ({"progress": True, "costs": [[1, 2, 3, 4]]}, "costs must give"),
        ({"progress": True, "costs": [[1, 2, 3, 4], [1, 0, 1, 1]]}, "costs must give"),
        ({"progress": True, "costs": [[1, 2, 3, 4], [1, 2, NAN, 3]]}, "costs must give"),
        ({"progress": True, "costs": [[1, 2, 3], [1, 2, 3, 4]]}, "costs must give"),
        ({"schedule_lengths": [4, 2]}, "need progress=True"),
    ],
)
def test_bad_schedule_lengths_or_costs(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        SimulatedExecutor(CURVES, **kwargs)
