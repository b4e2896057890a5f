"""One notion of "the same configuration", used by the samplers' duplicate check, the default
first trial (FixedConfigurations) and reuse of finished trials."""

from __future__ import annotations

import numpy as np
import pytest

from automl_vision.sampling import FixedConfigurations
from automl_vision.sampling.configs import config_key
from automl_vision.scheduling.reuse import reuse_key
from automl_vision.trial import PrimaryMetricGoal, Trial

# (stored configuration, proposed configuration, the same?)
CASES = [
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": np.float64(0.5)}, {"a": 0.5}, True),
    ({"a": 1, "b": "x"}, {"b": "x", "a": 1}, True),  # order of keys does not matter
    ({"a": True}, {"a": 1}, False),
    ({"a": False}, {"a": 0}, False),
    ({"a": "1"}, {"a": 1}, False),
    ({"a": None}, {"a": 0}, False),
    ({"a": 1}, {"a": 2}, False),
]


@pytest.mark.parametrize(("stored", "proposed", "same"), CASES)
def test_one_identity_everywhere(stored, proposed, same) -> None:
    assert (config_key(stored) == config_key(proposed)) is same
    assert (reuse_key(stored, "data") == reuse_key(proposed, "data")) is same
    # the default first trial is proposed exactly when the history does not hold it
    fixed = FixedConfigurations([proposed])
    history = [Trial(trial_id="trial_0000", index=0, params=dict(stored))]
    suggestion = fixed.suggest(history, PrimaryMetricGoal.MAXIMIZE, np.random.default_rng(0))
    assert (suggestion is None) is same


def test_reuse_needs_the_same_data() -> None:
    assert reuse_key({"a": 1}, "data-1") != reuse_key({"a": 1}, "data-2")
