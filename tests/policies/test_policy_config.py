"""Policy constructors (HyperDrive signatures), validation errors, and the YAML/dict form."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import yaml

from automl_vision.policies import (
    POLICY_TYPES,
    BanditPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PolicyConfigError,
    Resource,
    RungSystem,
    TruncationSelectionPolicy,
    policy_from_dict,
)


@pytest.mark.parametrize(
    ("cls", "parameters"),
    [
        (BanditPolicy, [("evaluation_interval", 1), ("slack_factor", None),
                        ("slack_amount", None), ("delay_evaluation", 0)]),
        (MedianStoppingPolicy, [("evaluation_interval", 1), ("delay_evaluation", 5)]),
        (TruncationSelectionPolicy, [("truncation_percentage", inspect.Parameter.empty),
                                     ("evaluation_interval", 1), ("delay_evaluation", 0),
                                     ("exclude_finished_jobs", False)]),
        (NoTerminationPolicy, []),
        (HyperbandPolicy, [("min_resource", 1), ("max_resource", None), ("reduction_factor", 3),
                           ("brackets", "auto")]),
    ],
)  # fmt: skip
def test_hyperdrive_signatures(cls, parameters) -> None:
    params = inspect.signature(cls).parameters.values()
    positional = [p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert [(p.name, p.default) for p in positional] == parameters
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in positional)
    # our opt-in switches come after HyperDrive's arguments, by keyword only, off by default
    switches = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
    expected = {"schedule_aware": False} if cls is not NoTerminationPolicy else {}
    if cls is HyperbandPolicy:
        expected["promotion"] = False
        expected["rung_system"] = RungSystem.PER_BRACKET
        expected["resource"] = Resource.EPOCHS
    assert switches == expected


def test_positional_order() -> None:
    bandit = BanditPolicy(2, 0.1, None, 4)
    assert (bandit.evaluation_interval, bandit.slack_factor, bandit.delay_evaluation) == (2, 0.1, 4)
    assert BanditPolicy(1, None, 0.05).slack_amount == 0.05
    median = MedianStoppingPolicy(3, 7)
    assert (median.evaluation_interval, median.delay_evaluation) == (3, 7)
    trunc = TruncationSelectionPolicy(20, 2, 5, True)
    assert (trunc.truncation_percentage, trunc.evaluation_interval) == (20, 2)
    assert (trunc.delay_evaluation, trunc.exclude_finished_jobs) == (5, True)
    hb = HyperbandPolicy(2, 50, 4, 2)
    assert (hb.min_resource, hb.max_resource, hb.reduction_factor, hb.brackets) == (2, 50, 4, 2)


def test_numpy_integers_and_integral_reals_are_accepted() -> None:
    assert HyperbandPolicy(np.int64(2), np.int32(20)).max_resource == 20
    assert BanditPolicy(slack_factor=np.float32(0.5)).slack_factor == 0.5
    assert BanditPolicy(slack_factor=1).slack_factor == 1.0


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: BanditPolicy(), "exactly one of slack_factor and slack_amount"),
        (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1), "exactly one of slack_factor"),
        (lambda: BanditPolicy(slack_factor=0), "slack_factor must be > 0"),
        (lambda: BanditPolicy(slack_factor=-0.1), "slack_factor must be > 0"),
        (lambda: BanditPolicy(slack_factor=float("inf")), "slack_factor must be a finite"),
        (lambda: BanditPolicy(slack_factor="0.1"), "slack_factor must be a number"),
        (lambda: BanditPolicy(slack_amount=-0.01), "slack_amount must be >= 0"),
        (lambda: BanditPolicy(0, 0.1), "evaluation_interval must be an integer >= 1"),
        (lambda: BanditPolicy(1.5, 0.1), "evaluation_interval must be an integer >= 1"),
        (lambda: BanditPolicy(True, 0.1), "evaluation_interval must be an integer"),
        (lambda: BanditPolicy(1, 0.1, None, -1), "delay_evaluation must be an integer >= 0"),
        (lambda: BanditPolicy(1, 0.1, None, 2.0), "delay_evaluation must be an integer >= 0"),
        (lambda: MedianStoppingPolicy(0), "evaluation_interval must be an integer >= 1"),
        (lambda: MedianStoppingPolicy(1, -5), "delay_evaluation must be an integer >= 0"),
        (lambda: TruncationSelectionPolicy(0), "truncation_percentage must be an integer in [1, 99]"),
        (lambda: TruncationSelectionPolicy(100), "truncation_percentage must be an integer in [1, 99]"),
        (lambda: TruncationSelectionPolicy(20.5), "truncation_percentage must be an integer in [1, 99]"),
        (lambda: TruncationSelectionPolicy(20, 0), "evaluation_interval must be an integer >= 1"),
        (lambda: TruncationSelectionPolicy(20, 1, -1), "delay_evaluation must be an integer >= 0"),
        (lambda: TruncationSelectionPolicy(20, exclude_finished_jobs=1), "exclude_finished_jobs must be true or false"),
        (lambda: HyperbandPolicy(0), "min_resource must be an integer >= 1"),
        (lambda: HyperbandPolicy(1.5), "min_resource must be an integer >= 1"),
        (lambda: HyperbandPolicy(1, 0), "max_resource must be an integer >= 1"),
        (lambda: HyperbandPolicy(10, 5), "min_resource must be <= max_resource"),
        (lambda: HyperbandPolicy(reduction_factor=1), "reduction_factor must be an integer >= 2"),
        (lambda: HyperbandPolicy(reduction_factor=2.5), "reduction_factor must be an integer >= 2"),
        (lambda: HyperbandPolicy(brackets=0), "brackets must be 'auto' or an integer >= 1"),
        (lambda: HyperbandPolicy(brackets="all"), "brackets must be 'auto' or an integer >= 1"),
        (lambda: HyperbandPolicy(1, 9, 3, 4), "brackets=4 is too many"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_field(build, field) -> None:
    with pytest.raises(ValueError) as info:
        build()
    assert isinstance(info.value, PolicyConfigError)
    assert field in str(info.value)
    assert str(info.value).split(":")[0].endswith("Policy")  # names the policy too


def test_policies_are_frozen_values() -> None:
    policy = BanditPolicy(slack_factor=0.2)
    with pytest.raises(ValueError):
        policy.slack_factor = 0.5  # type: ignore[misc]
    assert policy == BanditPolicy(1, 0.2)
    assert hash(policy) == hash(BanditPolicy(1, 0.2))
    assert policy != BanditPolicy(slack_factor=0.3)


# -- YAML / dict form --------------------------------------------------------------------------
AZURE_YAML = [
    (
        "type: bandit\nslack_factor: 0.1\nevaluation_interval: 1\ndelay_evaluation: 5\n",
        BanditPolicy(1, 0.1, None, 5),
    ),
    ("type: bandit\nslack_amount: 0.05\n", BanditPolicy(slack_amount=0.05)),
    (
        "type: median_stopping\nevaluation_interval: 1\ndelay_evaluation: 5\n",
        MedianStoppingPolicy(1, 5),
    ),
    ("type: median_stopping\n", MedianStoppingPolicy()),
    (
        "type: truncation_selection\nevaluation_interval: 1\ndelay_evaluation: 5\n"
        "truncation_percentage: 20\n",
        TruncationSelectionPolicy(20, 1, 5),
    ),
    (
        "type: truncation_selection\ntruncation_percentage: 10\nexclude_finished_jobs: true\n",
        TruncationSelectionPolicy(10, exclude_finished_jobs=True),
    ),
    (
        "type: hyperband\nmin_resource: 1\nmax_resource: 27\nreduction_factor: 3\nbrackets: 3\n",
        HyperbandPolicy(1, 27, 3, 3),
    ),
    ("type: asha\nmax_resource: 20\n", HyperbandPolicy(1, 20, 3, 1)),
    ("type: hyperband\nmax_resource: 20\n", HyperbandPolicy(1, 20, 3, 3)),
    ("type: hyperband\nmax_resource: 20\nbrackets: auto\n", HyperbandPolicy(1, 20)),
    ("type: no_termination\n", NoTerminationPolicy()),
    ("type: none\n", NoTerminationPolicy()),
    ("type: MedianStopping\n", MedianStoppingPolicy()),
    ("type: BanditPolicy\nslack_factor: 0.2\n", BanditPolicy(slack_factor=0.2)),
    ("type: truncation-selection\ntruncation_percentage: 5\n", TruncationSelectionPolicy(5)),
    ("type: ASHA\n", HyperbandPolicy(brackets=1)),
    ("null\n", NoTerminationPolicy()),
]


@pytest.mark.parametrize(("text", "expected"), AZURE_YAML)
def test_yaml_parses_to_the_policy(text, expected) -> None:
    assert policy_from_dict(yaml.safe_load(text)) == expected


def test_an_azure_sweep_job_block() -> None:
    job = yaml.safe_load(
        """
        sweep:
          sampling_algorithm: random
          early_termination:
            type: bandit
            evaluation_interval: 2
            slack_factor: 0.2
            delay_evaluation: 6
        """
    )
    policy = policy_from_dict(job["sweep"]["early_termination"])
    assert policy == BanditPolicy(2, 0.2, None, 6)
    assert policy.evaluation_points(12) == [6, 8, 10, 12]


def test_other_accepted_forms() -> None:
    policy = MedianStoppingPolicy()
    assert policy_from_dict(policy) is policy
    assert policy_from_dict("median_stopping") == policy
    assert policy_from_dict(None) == NoTerminationPolicy()


@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(2, 0.2, None, 3),
        BanditPolicy(slack_amount=0.0),
        MedianStoppingPolicy(2, 1),
        TruncationSelectionPolicy(30, 2, 1, True),
        HyperbandPolicy(2, 54, 3, 3),
        HyperbandPolicy(),
        NoTerminationPolicy(),
    ],
)
def test_to_dict_round_trips(policy) -> None:
    data = policy.to_dict()
    assert data["type"] in POLICY_TYPES
    assert policy_from_dict(data) == policy
    assert policy_from_dict(yaml.safe_load(yaml.safe_dump(data))) == policy


def test_to_dict_is_the_azure_shape() -> None:
    assert BanditPolicy(1, 0.1, None, 5).to_dict() == {
        "type": "bandit",
        "evaluation_interval": 1,
        "slack_factor": 0.1,
        "delay_evaluation": 5,
    }
    assert MedianStoppingPolicy().to_dict() == {
        "type": "median_stopping",
        "evaluation_interval": 1,
        "delay_evaluation": 5,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "bandt", "slack_factor": 0.1}, "unknown early_termination type 'bandt' (did you mean 'bandit'?)"),
        ({"type": "random"}, "allowed: bandit, median_stopping, truncation_selection, hyperband, asha, no_termination"),
        ({"type": 3}, "early_termination type must be a string"),
        ({"type": "bandit", "slack_factr": 0.1}, "unknown key 'slack_factr' for early_termination type 'bandit' (did you mean 'slack_factor'?)"),
        ({"type": "median_stopping", "slack_factor": 0.1}, "allowed keys: evaluation_interval, delay_evaluation"),
        ({"type": "asha", "brackets": 2}, "unknown key 'brackets' for early_termination type 'asha'"),
        ({"type": "no_termination", "delay_evaluation": 1}, "allowed keys: none"),
        ({"type": "truncation_selection"}, "'truncation_selection' needs truncation_percentage"),
        ({"slack_factor": 0.1}, "has no 'type' key"),
        ([("type", "bandit")], "must be a mapping"),
        ({"type": "bandit"}, "BanditPolicy: exactly one of slack_factor and slack_amount"),
        ({"type": "bandit", "slack_factor": 0.1, "evaluation_interval": "2"}, "evaluation_interval must be an integer"),
        ({"type": "truncation_selection", "truncation_percentage": 120}, "truncation_percentage must be an integer in [1, 99]"),
    ],
)  # fmt: skip
def test_dict_errors(data, message) -> None:
    with pytest.raises(PolicyConfigError) as info:
        policy_from_dict(data)
    assert message in str(info.value)
