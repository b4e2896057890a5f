"""Bayesian sampling: duplicates, pending trials, prior trials, statuses, goals, and that it
beats random search on a smooth function."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sampling_loop import best_value, completed, run_loop

from automl_vision.sampling import BayesianParameterSampling, RandomParameterSampling
from automl_vision.sampling.fidelity import Observation, cap_observations, trial_observations
from automl_vision.space import ImageClassificationSearchSpace, choice, randint, uniform
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus

MAXIMIZE, MINIMIZE = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE
UNIT2 = {"x": uniform(0, 1), "y": uniform(0, 1)}


def bump(params: dict[str, Any]) -> float:
    """Smooth, one maximum at (0.3, 0.7)."""
    return math.exp(-((params["x"] - 0.3) ** 2 + (params["y"] - 0.7) ** 2) / 0.08)


def branin(params: dict[str, Any]) -> float:
    x1, x2 = params["x1"], params["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def observed(n: int, objective=bump, seed: int = 0) -> list[Trial]:
    return run_loop(RandomParameterSampling(UNIT2, seed=seed), objective, n)


def key(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


# -- the statistical test -----------------------------------------------------------------------
@pytest.mark.slow
def test_bayesian_beats_random_on_branin_over_30_trials_for_most_seeds() -> None:
    """Deterministic: fixed seeds, so this either always passes or always fails."""
    space = {"x1": uniform(-5, 10), "x2": uniform(0, 15)}
    wins = 0
    for seed in range(10):
        bayes = run_loop(BayesianParameterSampling(space, seed=seed), branin, 30, "minimize")
        rand = run_loop(RandomParameterSampling(space, seed=seed), branin, 30, "minimize")
        wins += best_value(bayes, "min") < best_value(rand, "min")
    assert wins >= 8


# -- duplicates ---------------------------------------------------------------------------------
def test_no_duplicates_in_a_small_discrete_space_until_exhausted() -> None:
    space = {"a": choice(1, 2, 3), "b": choice("x", "y"), "c": randint(2)}
    sampler = BayesianParameterSampling(space, seed=0, n_startup_trials=3)
    history = run_loop(sampler, lambda p: p["a"] + (p["b"] == "y") + p["c"], 40)
    assert len(history) == 12
    assert len({key(t.params) for t in history}) == 12
    assert sampler.ask(history) is None


def test_no_duplicates_in_a_larger_discrete_space() -> None:
    """Too many configurations to score them all: candidates are searched and deduplicated
    even though the model keeps wanting the same peak."""
    space = {"i": randint(60), "j": randint(60)}
    sampler = BayesianParameterSampling(space, seed=1, n_startup_trials=5)
    history = run_loop(sampler, lambda p: -((p["i"] - 20) ** 2) - (p["j"] - 40) ** 2, 30)
    assert len({key(t.params) for t in history}) == 30
    assert best_value(history, "max") >= -8  # and it does find the peak region


def test_failed_configurations_are_not_proposed_again() -> None:
    space = {"a": choice(1, 2, 3, 4)}
    history = [completed(i, {"a": a}, float(a)) for i, a in enumerate((1, 2))]
    history.append(Trial(2, {"a": 4}, 0, TrialStatus.FAILED, error="out of memory"))
    sampler = BayesianParameterSampling(space, seed=0, n_startup_trials=2)
    assert sampler.ask(history).params == {"a": 3}


# -- pending trials -----------------------------------------------------------------------------
@pytest.mark.parametrize("status", [TrialStatus.RUNNING, TrialStatus.QUEUED])
def test_pending_trials_make_concurrent_proposals_differ(status: TrialStatus) -> None:
    history = observed(10)
    sampler = BayesianParameterSampling(UNIT2, seed=0)
    proposals = []
    for _ in range(4):
        suggestion = sampler.ask(history)
        proposals.append((suggestion.params["x"], suggestion.params["y"]))
        history = [*history, Trial(len(history), suggestion.params, 0, status)]
    for i, a in enumerate(proposals):
        for b in proposals[:i]:
            assert math.dist(a, b) > 0.02, proposals


def test_running_trial_with_reports_is_still_pending() -> None:
    history = observed(10)
    sampler = BayesianParameterSampling(UNIT2, seed=0)
    first = sampler.ask(history)
    running = Trial(10, first.params, 0, TrialStatus.RUNNING, reports=[Report(1, 0.1)])
    second = sampler.ask([*history, running])
    assert second.params != first.params


# -- what the model learns from ---------------------------------------------------------------
def test_failed_trials_are_ignored_by_the_model() -> None:
    history = observed(10)
    with_value = Trial(10, {"x": 0.9, "y": 0.1}, 0, TrialStatus.FAILED, value=1e6)
    without = Trial(10, {"x": 0.9, "y": 0.1}, 0, TrialStatus.FAILED)
    sampler = BayesianParameterSampling(UNIT2, seed=0)
    assert sampler.ask([*history, with_value]) == sampler.ask([*history, without])


def _curve_trial(index, params, values, status) -> Trial:
    reports = [Report(i + 1, v) for i, v in enumerate(values)]
    value = values[-1] if status is TrialStatus.COMPLETED else None
    return Trial(index, params, 0, status, reports=reports, value=value)


def _with_reports(history: list[Trial], epochs: int) -> list[Trial]:
    """The random history as finished 9-epoch curves rising to each trial's value."""
    return [
        _curve_trial(t.index, t.params, [t.value * (k + 1) / epochs for k in range(epochs)],
                     TrialStatus.COMPLETED)
        for t in history
    ]  # fmt: skip


@pytest.mark.parametrize("fidelity", ["joint", "rung"])
def test_a_trial_stopped_at_epoch_3_is_not_a_finished_trial_with_that_value(fidelity) -> None:
    history = _with_reports(observed(10), 9)
    params = {"x": 0.31, "y": 0.69}
    curve = [0.5, 0.7, 0.95]
    stopped = _curve_trial(10, params, curve, TrialStatus.STOPPED)
    finished_at_3 = _curve_trial(10, params, [*curve, *[0.95] * 6], TrialStatus.COMPLETED)
    sampler = BayesianParameterSampling(UNIT2, seed=0, fidelity=fidelity)
    assert sampler.ask([*history, stopped]) != sampler.ask([*history, finished_at_3])
    # what the model is given: the stopped trial at the fidelity it reached, never u = 1
    found = trial_observations(stopped, MAXIMIZE, 9, 0)
    assert [(o.resource, o.value) for o in found] == [(3, 0.95), (1, 0.5)]
    assert all(o.fidelity < 1 for o in found)
    assert found[0].fidelity == pytest.approx(math.log(3) / math.log(9))
    done = trial_observations(finished_at_3, MAXIMIZE, 9, 0)
    assert (done[0].resource, done[0].fidelity, done[0].value) == (9, 1.0, 0.95)


def test_stopped_trials_still_inform_the_model() -> None:
    history = _with_reports(observed(10), 9)
    params = {"x": 0.31, "y": 0.69}
    stopped = _curve_trial(10, params, [0.5, 0.7, 0.95], TrialStatus.STOPPED)
    missing = Trial(10, params, 0, TrialStatus.FAILED)
    sampler = BayesianParameterSampling(UNIT2, seed=0)
    assert sampler.ask([*history, stopped]) != sampler.ask([*history, missing])
    # a stopped trial without reports says nothing about its fidelity: it is not used
    bare = Trial(10, params, 0, TrialStatus.STOPPED, value=0.95)
    assert sampler.ask([*history, bare]) == sampler.ask([*history, missing])


def test_stopped_at_the_last_report_is_full_fidelity() -> None:
    trial = _curve_trial(0, {"x": 0.5, "y": 0.5}, [0.1, 0.2, 0.3], TrialStatus.STOPPED)
    assert trial_observations(trial, MINIMIZE, 3, 0)[0] == Observation(3, 1.0, -0.3, 0)


def test_observation_cap_keeps_each_trials_best_informed_point_first() -> None:
    per_trial = [
        [Observation(9, 1.0, 0.0, 0), Observation(3, 0.5, 0.0, 0), Observation(1, 0.0, 0.0, 0)],
        [Observation(3, 0.5, 0.0, 1), Observation(1, 0.0, 0.0, 1)],
        [Observation(1, 0.0, 0.0, 2)],
    ]
    assert cap_observations(per_trial, 3) == [(0, 0), (1, 0), (2, 0)]
    assert cap_observations(per_trial, 4) == [(0, 0), (1, 0), (2, 0), (0, 1)]
    assert len(cap_observations(per_trial, 100)) == 6


@pytest.mark.parametrize("fidelity", ["joint", "rung"])
def test_same_seed_same_proposal_with_partial_trials(fidelity) -> None:
    history = _with_reports(observed(10), 9)
    history.append(_curve_trial(10, {"x": 0.2, "y": 0.2}, [0.1, 0.1, 0.1], TrialStatus.STOPPED))
    history.append(Trial(11, {"x": 0.9, "y": 0.9}, 0, TrialStatus.RUNNING))
    a = BayesianParameterSampling(UNIT2, seed=3, fidelity=fidelity).ask(history)
    b = BayesianParameterSampling(UNIT2, seed=3, fidelity=fidelity).ask(history)
    assert a == b


def test_bad_fidelity() -> None:
    with pytest.raises(ValueError, match="fidelity='exact' is not allowed"):
        BayesianParameterSampling(UNIT2, fidelity="exact")


def test_minimizing_v_is_maximizing_minus_v() -> None:
    history = observed(12)
    negated = [completed(t.index, t.params, -t.value) for t in history]
    sampler = BayesianParameterSampling(UNIT2, seed=4)
    assert sampler.ask(history, "maximize") == sampler.ask(negated, "minimize")
    assert sampler.ask(history, "maximize") != sampler.ask(history, "minimize")


def test_startup_proposals_are_the_sobol_sequence() -> None:
    bayes = BayesianParameterSampling(UNIT2, seed=7, n_startup_trials=5)
    sobol = RandomParameterSampling(UNIT2, seed=7, rule="sobol")
    history = run_loop(bayes, bump, 5)
    assert [t.params for t in history] == [t.params for t in run_loop(sobol, bump, 5)]


def test_the_model_takes_over_after_startup() -> None:
    history = observed(10)
    bayes = BayesianParameterSampling(UNIT2, seed=7, n_startup_trials=10).ask(history)
    sobol = RandomParameterSampling(UNIT2, seed=7, rule="sobol").ask(history)
    assert bayes != sobol
    assert bump(bayes.params) > max(t.value for t in history)


# -- prior trials (warm start) ------------------------------------------------------------------
def test_prior_trials_warm_start_the_model() -> None:
    priors = observed(12, seed=3)
    sampler = BayesianParameterSampling(UNIT2, seed=0, prior_trials=priors)
    assert sampler.skipped_prior_trials == 0
    first = sampler.ask([])  # no startup phase: the priors are enough observations
    assert first != BayesianParameterSampling(UNIT2, seed=0).ask([])
    assert bump(first.params) > max(t.value for t in priors)


def test_prior_trials_outside_every_sub_space_are_skipped_and_counted() -> None:
    priors = [
        *observed(6),
        completed(6, {"x": 2.0, "y": 0.5}, 1.0),  # out of range
        completed(7, {"x": 0.5}, 1.0),  # missing a parameter
        completed(8, {"x": 0.5, "y": 0.5, "z": 1}, 1.0),  # unknown parameter
        completed(9, {"x": "a", "y": 0.5}, 1.0),  # wrong type
        Trial(10, {"x": 0.5, "y": 0.5}, 0, TrialStatus.FAILED),  # in space: kept, unused
    ]
    sampler = BayesianParameterSampling(UNIT2, seed=0, prior_trials=priors)
    assert sampler.skipped_prior_trials == 4
    assert len(sampler.prior_trials) == 7


def test_prior_trials_find_their_sub_space_and_ignore_inactive_records() -> None:
    spaces = [
        ImageClassificationSearchSpace(model_name="resnet18", learning_rate=uniform(0.001, 0.1)),
        ImageClassificationSearchSpace(
            model_name="resnet50",
            optimizer=choice("sgd", "adam"),
            momentum=uniform(0.8, 0.95),
            learning_rate=uniform(0.001, 0.1),
        ),
    ]
    priors = [
        # recorded from another sweep, where this was sub-space 0
        Trial(0, {"model_name": "resnet50", "optimizer": "sgd", "momentum": 0.9,
                  "learning_rate": 0.01}, 0, TrialStatus.COMPLETED, value=0.8),
        # momentum kept in the record but marked inactive
        Trial(1, {"model_name": "resnet50", "optimizer": "adam", "momentum": 0.9,
                  "learning_rate": 0.02}, 1, TrialStatus.COMPLETED, value=0.7,
              inactive=frozenset({"momentum"})),
        Trial(2, {"model_name": "resnet18", "learning_rate": 0.05}, 0,
              TrialStatus.COMPLETED, value=0.6),
    ]  # fmt: skip
    sampler = BayesianParameterSampling(spaces, seed=0, prior_trials=priors)
    assert sampler.skipped_prior_trials == 0
    assert [p.space_index for p, _ in sampler.prior_trials] == [1, 1, 0]
    assert "momentum" not in sampler.prior_trials[1][0].params


def test_bad_startup_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="n_startup_trials"):
        BayesianParameterSampling(UNIT2, n_startup_trials=0)
