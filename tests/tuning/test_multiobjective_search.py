"""A sweep with a trained objective and deployment objectives searches with the multi-objective
Bayesian sampler (its known objectives the sweep's deployment measurement); other samplers and
single-objective sweeps are unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_deployment import fake_measurement
from helpers_sweep import tiny_space

from automl_vision import TuneResult, choice, tune
from automl_vision.policies import FrontAwarePolicy
from automl_vision.sampling import (
    BayesianParameterSampling,
    DeferredKnown,
    FixedConfigurations,
    ParetoBayesianSampling,
    RandomParameterSampling,
)
from automl_vision.tuning.deployment import SweepDeployment
from automl_vision.tuning.run import _front_aware, run_plan

TWO = {"accuracy": "max", "latency_ms": "min"}


@pytest.fixture
def measured(monkeypatch) -> list[str]:
    """The fake measurement in place; the list of architectures measured."""
    return fake_measurement(monkeypatch)


def _sweep(data: Path, output: Path, max_trials: int, **extra):
    return tune(
        data,
        search_space=tiny_space(
            model_name=choice("test_resnet", "resnet18"),
            learning_rate=choice(0.01, 0.05),
            validation_crop_size=32,
            validation_resize_size=32,
            training_crop_size=32,
            number_of_epochs=1,
        ),
        max_trials=max_trials,
        seed=5,
        executor="inline",
        threads_per_trial=1,
        include_default_trial=False,
        training_options={"pretrained": False},
        output_dir=output,
        progress=False,
        **extra,
    )


def _search(plan) -> object:
    sampler = plan.sampler
    return sampler.then if isinstance(sampler, FixedConfigurations) else sampler


@pytest.mark.parametrize(
    ("sampling", "objectives", "expected"),
    [
        (None, TWO, ParetoBayesianSampling),
        ("bayesian", {"accuracy": "max", "params_m": "min", "latency_ms": "min"},
         ParetoBayesianSampling),
        ("random", TWO, RandomParameterSampling),
        (None, None, BayesianParameterSampling),
        (None, {"accuracy": "max"}, BayesianParameterSampling),
        (None, {"latency_ms": "min", "accuracy": "max"}, ParetoBayesianSampling),
        (None, {"accuracy": "max", "log_loss": "min"}, BayesianParameterSampling),  # trained
    ],
)  # fmt: skip
def test_which_sampler_the_plan_searches_with(
    digits_folder, tmp_path, sampling, objectives, expected
):
    extra = {} if objectives is None else {"objectives": objectives}
    plan = _sweep(digits_folder, tmp_path / "run", 3, sampling=sampling, dry_run=True, **extra)
    search = _search(plan)
    assert type(search) is expected
    text = plan.describe()
    if expected is ParetoBayesianSampling:
        assert plan.pareto_sampler is search
        assert isinstance(search.known, DeferredKnown)
        assert search.seed == plan.seed
        how = "expected hypervolume improvement" if len(objectives) == 2 else "random Chebyshev"
        assert f"sampler: bayesian, multi-objective: {how}" in text
        assert "known before training" in text
    else:
        assert plan.pareto_sampler is None
        assert "multi-objective" not in text
        if objectives is not None and len(objectives) > 1:
            assert "the search follows accuracy alone" in text
    # early termination is front-aware wherever deployment objectives are known before training
    deployment = objectives is not None and any(k in objectives for k in ("latency_ms", "params_m"))
    assert ("early termination is front-aware" in text) is deployment
    assert ("early termination follows accuracy alone" in text) is (
        objectives is not None and len(objectives) > 1 and not deployment
    )
    policy, known = _front_aware(plan, SweepDeployment.for_plan(plan))
    if deployment:
        assert isinstance(policy, FrontAwarePolicy) and policy.inner is plan.policy
        assert policy.objectives[0].name == plan.primary_metric == "accuracy"
        assert known is not None
    else:
        assert policy is plan.policy and known is None


def test_an_unbound_known_refuses_to_guess():
    known = DeferredKnown()
    with pytest.raises(RuntimeError, match="not bound"):
        known({"model_name": "test_resnet"})
    known.bind(lambda params: {"latency_ms": 1.0})
    assert known({}) == {"latency_ms": 1.0}


def test_a_two_objective_sweep_searches_the_front_and_is_deterministic(
    digits_folder, tmp_path, measured, monkeypatch
):
    asked: list[str] = []
    original = SweepDeployment.known

    def spy(self, params):
        asked.append(str(params.get("model_name")))
        return original(self, params)

    monkeypatch.setattr(SweepDeployment, "known", spy)
    runs = []
    for i in range(2):
        plan = _sweep(digits_folder, tmp_path / f"run{i}", 4, objectives=TWO, dry_run=True)
        assert isinstance(plan.pareto_sampler, ParetoBayesianSampling)
        # two start-up trials, so the multi-objective acquisition proposes the last two
        plan.pareto_sampler.n_startup_trials = 2
        runs.append(run_plan(plan, progress=False))
    first, second = runs
    assert len(first.trials) == 4
    assert all(t.finished for t in first.trials)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert [(t.status, t.value) for t in first.trials] == [
        (t.status, t.value) for t in second.trials
    ]
    assert asked  # the search read the known objectives ...
    # ... from the same cached measurement: each architecture measured once per sweep
    assert sorted(measured) == sorted(["test_resnet", "resnet18"] * 2)
    assert TuneResult.load(tmp_path / "run0").pareto_front
