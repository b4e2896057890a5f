"""The dry run's early-termination lines say the resource unit and its rungs when not epochs."""

from __future__ import annotations

import pytest

from automl_vision.planning.plan import _policy_schedule
from automl_vision.policies import ASHAPolicy, HyperbandPolicy, MedianStoppingPolicy


@pytest.mark.parametrize(
    ("policy", "lines"),
    [
        (HyperbandPolicy(1, 9), ["  evaluated at reports: 1, 3", "  bracket 0 rungs: [1, 3]",
                                 "  bracket 1 rungs: [3]", "  bracket 2 rungs: []"]),
        (MedianStoppingPolicy(1, 3), ["  evaluated at reports: 3, 4, 5"]),
        (ASHAPolicy(1 / 9, resource="fraction"),
         ["  evaluated in fraction: at each trial's first report that reaches a rung",
          "  bracket 0 rungs (fraction): [0.1111, 0.3333]"]),
        (HyperbandPolicy(10, 270, 3, 2, resource="seconds"),
         ["  evaluated in seconds: at each trial's first report that reaches a rung",
          "  bracket 0 rungs (seconds): [10, 30, 90]", "  bracket 1 rungs (seconds): [30, 90]"]),
    ],
)  # fmt: skip
def test_the_plan_says_where_the_policy_judges(policy, lines) -> None:
    assert _policy_schedule(policy, 5) == lines
