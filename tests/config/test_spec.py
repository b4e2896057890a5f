"""SweepSpec: one validated definition of a sweep, the same from keywords, a YAML job and the CLI."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pydantic
import pytest
from helpers_sweep import tiny_space

from automl_vision.config.spec import DeviceChoice, SweepSpec
from automl_vision.executors.machine import DeviceKind, Devices
from automl_vision.planning.plan import plan_sweep
from automl_vision.policies import BanditPolicy, HyperbandPolicy
from automl_vision.sampling import SamplingAlgorithm
from automl_vision.space import ImageClassificationSearchSpace, choice, uniform
from automl_vision.trial import PrimaryMetricGoal
from automl_vision.tuning.tune import tune, tune_job

JOB = """\
task: image_classification
primary_metric: accuracy
target_column_name: label
training_data: {{path: {data}, type: uri_folder}}
validation_data_size: 0.25
limits: {{max_trials: 6, max_concurrent_trials: 2, timeout_minutes: 30, trial_timeout_minutes: 5,
          max_consecutive_failures: 3, target_value: 0.9, no_improvement_trials: 4}}
training_parameters: {{number_of_epochs: 2}}
sweep:
  sampling_algorithm: bayesian
  seed: 7
  early_termination: {{type: bandit, evaluation_interval: 1, slack_factor: 0.2}}
search_space:
  - model_name: "choice('test_resnet', 'test_efficientnet')"
    learning_rate: "uniform(0.001, 0.05)"
"""


@pytest.fixture
def job(tmp_path: Path) -> Path:
    (tmp_path / "images").mkdir()
    path = tmp_path / "job.yaml"
    path.write_text(JOB.format(data=tmp_path / "images"))
    return path


def keywords(data: Path) -> dict:
    return dict(
        data=data,
        task="multiclass",
        primary_metric="accuracy",
        validation_size=0.25,
        max_trials=6,
        max_concurrent_trials=2,
        timeout=30 * 60,
        trial_timeout=5 * 60,
        max_consecutive_failures=3,
        target_value=0.9,
        no_improvement_trials=4,
        sampling="bayesian",
        seed=7,
        policy={"type": "bandit", "evaluation_interval": 1, "slack_factor": 0.2},
        search_space=[
            ImageClassificationSearchSpace(
                model_name=choice("test_resnet", "test_efficientnet"),
                learning_rate=uniform(0.001, 0.05),
                number_of_epochs=2,
            )
        ],
    )


CLI = [
    "--task", "multiclass", "--primary-metric", "accuracy", "--max-trials", "6",
    "--max-concurrent-trials", "2", "--timeout-minutes", "30", "--trial-timeout-minutes", "5",
    "--target-value", "0.9", "--no-improvement-trials", "4", "--sampling", "bayesian",
    "--seed", "7", "--policy", "bandit:evaluation_interval=1,slack_factor=0.2",
]  # fmt: skip


def test_yaml_keywords_and_cli_give_equal_specs(job: Path) -> None:
    data = job.parent / "images"
    from_yaml = SweepSpec.from_yaml(job)
    from_keywords = SweepSpec(**keywords(data))
    assert from_yaml == from_keywords
    # the CLI: the same job file, or flags for everything a flag exists for
    assert SweepSpec.from_cli(["-c", str(job)]) == from_yaml
    space = job.parent / "space.yaml"
    space.write_text(
        "model_name: \"choice('test_resnet', 'test_efficientnet')\"\n"
        "learning_rate: uniform(0.001, 0.05)\nnumber_of_epochs: 2\n"
    )
    flags = SweepSpec.from_cli(["--data", str(data), "--search-space", str(space), *CLI])
    assert flags == from_keywords.replace(max_consecutive_failures=5, validation_size=0.2)
    # what the spec holds is typed and in the library's units
    assert from_yaml.timeout == 1800.0 and from_yaml.trial_timeout == 300.0
    assert from_yaml.sampling is SamplingAlgorithm.BAYESIAN
    assert from_yaml.policy == BanditPolicy(evaluation_interval=1, slack_factor=0.2)
    assert from_yaml.device is DeviceChoice.AUTO and from_yaml.data == data


def test_flags_and_keywords_override_the_job_file(job: Path) -> None:
    spec = SweepSpec.from_cli(["-c", str(job), "--max-trials", "9", "--sampling", "random"])
    assert spec.max_trials == 9 and spec.sampling is SamplingAlgorithm.RANDOM
    assert spec.seed == 7  # the rest stays the file's
    assert SweepSpec.from_yaml(job, max_trials=9, sampling="random") == spec


def test_the_spec_is_frozen_and_replace_validates(job: Path) -> None:
    spec = SweepSpec.from_yaml(job)
    with pytest.raises(pydantic.ValidationError):
        spec.max_trials = 3  # type: ignore[misc]
    assert spec.replace(max_trials="3").max_trials == 3  # lax numbers, as the keywords
    with pytest.raises(ValueError, match="max_trials must be >= 1"):
        spec.replace(max_trials=0)
    assert SweepSpec(**spec.options()) == spec


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_trials", 0, "max_trials must be >= 1, got 0"),
        ("max_trials", "many", "max_trials must be an integer, got 'many'"),
        ("max_trials", True, "max_trials must be an integer, got True"),
        ("timeout", 0, "timeout must be > 0, got 0"),
        ("trial_timeout", float("nan"), "trial_timeout must be a finite number"),
        ("seed", -1, "seed must be >= 0"),
        ("validation_size", 1.5, r"validation_size must be in \(0, 1\)"),
        ("no_improvement_trials", 0, "no_improvement_trials must be >= 1"),
        ("min_improvement", -0.1, "min_improvement must be >= 0"),
        ("max_consecutive_failures", 0, "max_consecutive_failures must be >= 1"),
        ("threads_per_trial", 0, "threads_per_trial must be in \\[1, 1024\\]"),
        ("max_concurrent_trials", "lots", "max_concurrent_trials must be an integer >= 1 or 'auto'"),
        ("recycle_workers_after", 0, "recycle_workers_after must be an integer >= 1 or 'auto'"),
        ("keep_checkpoints", 0, r"keep_checkpoints must be >= 1 or None \(keep all\)"),
        ("device", "tpu", "device='tpu' is not allowed; device must be 'auto', 'cpu' or 'cuda'"),
        ("task", "detection", "task='detection' is not allowed"),
        ("goal", "up", "goal='up' is not allowed"),
        ("sampling", "annealing", "sampling='annealing' is not allowed; sampling must be a Sampler or"),
        ("policy", {"type": "bandit", "slack": 1}, "slack"),
        ("search_space", 3, "search_space must be an ImageClassificationSearchSpace"),
        ("search_space", "no_such_preset", "search_space: "),
        ("training_options", {"pretrained": "maybe"}, "training_options.pretrained"),
        ("log_to", ["wandb"], "log_to"),
        ("data", None, "no data: give data"),
    ],
)  # fmt: skip
def test_each_bad_option_is_one_error_naming_it(tmp_path, option, value, message) -> None:
    options = {"data": tmp_path, option: value}
    with pytest.raises(ValueError, match=message) as caught:
        SweepSpec(**options)
    text = str(caught.value)
    assert "\n" not in text and "validation error" not in text and "pydantic" not in text


def test_several_bad_options_are_one_line_each_and_unknown_ones_suggest(tmp_path) -> None:
    with pytest.raises(ValueError) as caught:
        SweepSpec(data=tmp_path, max_trials=0, seed=-1)
    assert str(caught.value).splitlines() == ["max_trials must be >= 1, got 0",
                                              "seed must be >= 0, got -1"]  # fmt: skip
    with pytest.raises(TypeError, match="'max_trail'; did you mean 'max_trials'"):
        SweepSpec(data=tmp_path, max_trail=3)
    with pytest.raises(TypeError, match="did you mean 'max_trials'"):
        tune(tmp_path, max_trail=3)


def test_a_job_without_data_and_a_bad_job_key_are_clear_errors(tmp_path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text("limits: {max_trials: 2}\n")
    with pytest.raises(ValueError, match="no data: give data"):
        SweepSpec.from_yaml(path)
    assert SweepSpec.from_yaml(path, data=tmp_path).max_trials == 2
    path.write_text("limits: {max_trails: 2}\n")
    with pytest.raises(ValueError, match="max_trails"):
        SweepSpec.from_yaml(path)


def test_tune_runs_a_spec_a_job_file_or_keywords_the_same_way(job: Path, digits_folder) -> None:
    """``tune(config=...)``, ``tune_job`` and ``tune(spec)`` plan the same sweep as keywords."""
    options = dict(data=digits_folder, output_dir=job.parent / "run", dry_run=True)
    by_keywords = tune(**{**keywords(digits_folder), **options})
    by_job = tune(config=job, **options)
    by_tune_job = tune_job(job, **options)
    by_spec = tune(SweepSpec(**{**keywords(digits_folder), "output_dir": job.parent / "run"}),
                   dry_run=True)  # fmt: skip
    assert by_keywords.spec == by_job.spec == by_tune_job.spec == by_spec.spec
    assert by_keywords.describe() == by_job.describe() == by_spec.describe()


def test_the_plan_is_frozen_with_a_typed_device(digits_folder, tmp_path) -> None:
    plan = plan_sweep(
        SweepSpec(data=digits_folder, device="cpu", max_trials=2, output_dir=tmp_path / "r",
                  search_space=ImageClassificationSearchSpace(model_name="test_resnet"))
    )  # fmt: skip
    assert plan.device == Devices(DeviceKind.CPU) and not plan.device.cuda
    assert str(plan.device) == "cpu" and plan.slots == [""]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.max_trials = 3  # type: ignore[misc]
    assert str(Devices(DeviceKind.CUDA, 2)) == "cuda (2 GPUs)"
    assert isinstance(plan.policy, HyperbandPolicy) and plan.policy.max_resource is not None
    assert plan.goal is PrimaryMetricGoal.MAXIMIZE and plan.output_dir == tmp_path / "r"
    assert DeviceChoice.parse("cuda:1") is DeviceChoice.CUDA  # a sweep uses every GPU


# -- keywords and numbers ------------------------------------------------------------------
def test_misspelt_keyword_names_the_close_match(digits_folder) -> None:
    with pytest.raises(TypeError, match=r"'max_trail'.*did you mean 'max_trials'"):
        tune(digits_folder, max_trail=3)


def test_numbers_are_coerced_or_refused_by_name(digits_folder) -> None:
    plan = plan_sweep(digits_folder, search_space=tiny_space(), max_trials="3", seed="2")
    assert plan.max_trials == 3 and plan.seed == 2
    for kwargs, pattern in [
        ({"max_trials": "three"}, "max_trials must be an integer"),
        ({"max_trials": 2.5}, "max_trials must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"target_value": math.nan}, "target_value must be a finite number"),
        ({"max_concurrent_trials": True}, "max_concurrent_trials must be an integer"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            plan_sweep(digits_folder, search_space=tiny_space(), **kwargs)


def test_a_misspelt_keyword_names_the_function_called(tmp_path) -> None:
    from automl_vision import optimize, tune_job, uniform

    with pytest.raises(TypeError, match=r"^tune\(\) got .*'max_trail'; did you mean 'max_trials'"):
        tune(tmp_path, max_trail=3)
    job = tmp_path / "job.yaml"
    job.write_text(f"training_data: {{path: {tmp_path}}}\n")
    with pytest.raises(TypeError, match=r"^tune_job\(\) got .*did you mean 'max_trials'"):
        tune_job(job, max_trail=3)
    with pytest.raises(TypeError, match=r"^optimize\(\) got .*did you mean 'max_trials'"):
        optimize(lambda p: 0.0, {"x": uniform(0, 1)}, max_trail=3)
