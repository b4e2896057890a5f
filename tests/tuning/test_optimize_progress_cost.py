"""``optimize`` objectives may report their schedule progress and cost beside the value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl_vision.trial import COST_KEY, PROGRESS_KEY
from automl_vision.tuning.optimize import optimize

SPACE = {"x": 1.0}


def _run(objective):
    return optimize(objective, SPACE, sampling="grid", max_trials=1)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, {}),  # the old form: no progress, no cost
        ({"progress": 0.5}, {PROGRESS_KEY: 0.5}),
        ({"cost": 3}, {COST_KEY: 3.0}),
        ({"progress": 1, "cost": 0.0}, {PROGRESS_KEY: 1.0, COST_KEY: 0.0}),
        ({"progress": np.float32(0.25), "cost": np.int64(7)}, {PROGRESS_KEY: 0.25, COST_KEY: 7.0}),
        ({"progress": None, "cost": None}, {}),
    ],
)
def test_report_carries_progress_and_cost_in_its_metrics(kwargs, expected) -> None:
    def objective(params, report):
        report(1, 0.5, **kwargs)
        return 0.5

    (trial,) = _run(objective).trials
    (report,) = trial.reports
    assert dict(report.metrics) == {"value": 0.5, **expected}
    assert report.progress == expected.get(PROGRESS_KEY)
    assert report.cost == expected.get(COST_KEY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"progress": 1.5}, r"progress must be in \[0, 1\]"),
        ({"progress": -0.1}, r"progress must be in \[0, 1\]"),
        ({"progress": math.nan}, r"progress must be in \[0, 1\]"),
        ({"progress": "half"}, "progress must be a real number"),
        ({"progress": True}, "progress must be a real number"),
        ({"cost": -1.0}, "cost must be a finite number >= 0"),
        ({"cost": math.inf}, "cost must be a finite number >= 0"),
        ({"cost": math.nan}, "cost must be a finite number >= 0"),
        ({"cost": [1.0]}, "cost must be a real number"),
    ],
)
def test_bad_progress_or_cost_is_one_clear_value_error(kwargs, message) -> None:
    caught: list[Exception] = []

    def objective(params, report):
        try:
            report(1, 0.5, **kwargs)
        except ValueError as err:
            caught.append(err)
            raise
        return 0.5

    _run(objective)  # the objective's error fails its trial, not the sweep
    assert len(caught) == 1
    with pytest.raises(ValueError, match=message):
        raise caught[0]


def test_progress_and_cost_are_keyword_only() -> None:
    def objective(params, report):
        report(1, 0.5, 0.3)
        return 0.5

    (trial,) = _run(objective).trials
    assert not trial.reports  # the call failed: TypeError, the trial failed
