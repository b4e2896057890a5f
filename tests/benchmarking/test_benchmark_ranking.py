"""Which configurations a cell retrains (its sweep's top k) and which one it reports."""

from __future__ import annotations

import math

import pytest

from automl_vision.benchmarking.ranking import select_rank, top_trials
from automl_vision.benchmarking.spec import RetrainOn
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus

C, S, F = TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED
MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def _trials(*rows) -> list[Trial]:
    """(status, value, learning rate[, random_seed]) per trial, in start order."""
    out = []
    for i, (status, value, lr, *seed) in enumerate(rows):
        params = {"learning_rate": lr, **({"random_seed": seed[0]} if seed else {})}
        out.append(Trial(index=i, params=params, status=status, value=value))
    return out


@pytest.mark.parametrize(
    ("rows", "goal", "k", "expected"),
    [
        # best first by the goal
        ([(C, 0.5, 1), (C, 0.9, 2), (C, 0.7, 3)], MAX, 2, [1, 2]),
        ([(C, 0.5, 1), (C, 0.9, 2), (C, 0.7, 3)], MIN, 2, [0, 2]),
        # completed trials before stopped ones, whatever their value; failed and NaN never
        ([(S, 0.99, 1), (C, 0.5, 2), (F, None, 3), (C, math.nan, 4)], MAX, 3, [1, 0]),
        # ties to the earlier trial
        ([(C, 0.7, 1), (C, 0.7, 2)], MAX, 1, [0]),
        # one trial per configuration: a random_seed does not make another one
        ([(C, 0.9, 1, 5), (C, 0.8, 1, 6), (C, 0.7, 2)], MAX, 2, [0, 2]),
        # fewer configurations than k: those there are
        ([(C, 0.9, 1)], MAX, 3, [0]),
    ],
)
def test_top_trials(rows, goal, k, expected) -> None:
    trials = _trials(*rows)
    assert [t.index for t in top_trials(trials, goal, k)] == expected


@pytest.mark.parametrize(
    ("validation", "goal", "on", "expected"),
    [
        ({1: [0.6, 0.6], 2: [0.9, 0.5]}, MAX, RetrainOn.TRAIN, 2),  # the best mean over seeds
        ({1: [0.6, 0.6], 2: [0.9, 0.5]}, MIN, RetrainOn.TRAIN, 1),
        ({1: [0.7, 0.7], 2: [0.7, 0.7]}, MAX, RetrainOn.TRAIN, 1),  # a tie: the better tuning rank
        ({1: [None, None], 2: [0.1, 0.2]}, MAX, RetrainOn.TRAIN, 2),
        ({1: [0.1, 0.1], 2: [0.9, 0.9]}, MAX, RetrainOn.TRAIN_VALIDATION, 1),  # nothing selected
    ],
)
def test_select_rank(validation, goal, on, expected) -> None:
    assert select_rank(validation, goal, on) == expected
