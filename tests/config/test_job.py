"""SweepJob: Azure's CLI v2 sweep-job YAML shape, validated before anything runs."""

from __future__ import annotations

import pytest
import yaml

from automl_vision import BanditPolicy, choice, uniform
from automl_vision.config.job import (
    DataType,
    SweepJob,
    TaskType,
    load_sweep_job,
    sweep_job_from_data,
)
from automl_vision.trial import PrimaryMetricGoal

FRIDGE = """
$schema: https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json
type: automl
experiment_name: dpv2-cli-automl-image-classification-experiment
description: A multi-class Image classification job using fridge items dataset
compute: azureml:gpu-cluster
task: image_classification
log_verbosity: debug
primary_metric: accuracy
target_column_name: label
training_data:
  path: data/training-mltable-folder
  type: mltable
validation_data:
  path: data/validation-mltable-folder
  type: mltable
limits:
  timeout_minutes: 60
  max_trials: 10
  max_concurrent_trials: 2
training_parameters:
  early_stopping: true
  evaluation_frequency: 1
sweep:
  sampling_algorithm: random
  early_termination:
    type: bandit
    evaluation_interval: 2
    slack_factor: 0.2
    delay_evaluation: 6
search_space:
  - model_name:
      type: choice
      values: [vitb16r224, vits16r224]
    learning_rate:
      type: uniform
      min_value: 0.001
      max_value: 0.01
    number_of_epochs:
      type: choice
      values: [15, 30]
  - model_name:
      type: choice
      values: [seresnext, resnet50]
    learning_rate:
      type: uniform
      min_value: 0.001
      max_value: 0.01
    layers_to_freeze:
      type: choice
      values: [0, 2]
outputs:
  best_model:
    type: mlflow_model
"""


def test_loads_azures_fridge_objects_job(tmp_path) -> None:
    path = tmp_path / "job.yml"
    path.write_text(FRIDGE)
    job = load_sweep_job(path)
    assert job.task is TaskType.IMAGE_CLASSIFICATION and job.primary_metric == "accuracy"
    assert job.training_data.type is DataType.MLTABLE
    assert job.training_data.path == str(tmp_path / "data" / "training-mltable-folder")
    assert (
        job.limits.max_trials,
        job.limits.max_concurrent_trials,
        job.limits.timeout_minutes,
    ) == (10, 2, 60)
    assert job.sweep.policy() == BanditPolicy(
        evaluation_interval=2, slack_factor=0.2, delay_evaluation=6
    )
    assert job.ignored_keys == {
        "compute": "runs on this machine's devices (see --device / max_concurrent_trials)"
    }
    spaces = job.spaces()
    assert len(spaces) == 2 and spaces[0].model_name == choice("vitb16r224", "vits16r224")
    assert spaces[1].learning_rate == uniform(0.001, 0.01)
    assert all(s.early_stopping is True and s.evaluation_frequency == 1 for s in spaces)


def test_defaults_and_azure_sweep_job_names() -> None:
    job = sweep_job_from_data(
        {"limits": {"max_total_trials": 7, "timeout": 600, "trial_timeout": 120}}
    )
    assert (
        job.limits.max_trials == 7
        and job.limits.timeout_minutes == 10
        and job.limits.trial_timeout_minutes == 2
    )
    assert job.sweep.sampling_algorithm.value == "random" and job.sweep.policy() is None
    assert SweepJob(goal="MINIMIZE").goal is PrimaryMetricGoal.MINIMIZE
    assert SweepJob(task="Image_Classification_Multilabel").task.multilabel


@pytest.mark.parametrize(
    ("patch", "match"),
    [
        ({"foo": 1}, "unknown key 'foo' in the sweep job"),
        ({"serach_space": []}, "did you mean 'search_space'"),
        (
            {"limits": {"max_trials": 0}},
            "limits.max_trials must be >= 1, got 0",
        ),
        ({"limits": {"max_trails": 3}}, "limits.max_trails: Extra inputs are not permitted"),
        ({"sweep": {"sampling_algorithm": "genetic"}}, "sweep.sampling_algorithm"),
        (
            {"sweep": {"early_termination": {"type": "bandit", "slack_factor": -1}}},
            "slack_factor must be > 0",
        ),
        ({"sweep": {"early_termination": {"type": "bandits"}}}, "bandits"),
        (
            {"search_space": [{"learning_rate": "uniform(0.5, 2)"}]},
            r"search_space\[0\]: learning_rate=uniform\(0\.5, 2\)",
        ),
        (
            {"search_space": [{"learning_rate": "uniform(0.1,"}]},
            r"cannot parse distribution 'uniform\(0\.1,'",
        ),
        ({"training_parameters": {"optimiser": "sgd"}}, "did you mean 'optimizer'"),
        (
            {"training_parameters": {"learning_rate": "uniform(0.1, 0.2)"}},
            "fixed values, not distributions",
        ),
        (
            {
                "training_parameters": {"learning_rate": 0.1},
                "search_space": [{"learning_rate": "uniform(0.01, 0.2)"}],
            },
            "learning_rate set both in training_parameters and in search_space",
        ),
        ({"task": "object_detection"}, "task"),
        ({"validation_data_size": 1.5}, "validation_data_size"),
        ({"training_data": {"path": "x", "type": "parquet"}}, "training_data.type"),
    ],
)
def test_bad_jobs_raise_one_clear_error(patch, match) -> None:
    with pytest.raises(ValueError, match=match):
        sweep_job_from_data(patch)


def test_error_names_the_file(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"limits": {"max_trials": -1}}))
    with pytest.raises(ValueError, match=r"bad\.yaml: limits\.max_trials"):
        load_sweep_job(path)
    with pytest.raises(ValueError, match="does not exist"):
        load_sweep_job(tmp_path / "missing.yaml")
    path.write_text("limits: [")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_sweep_job(path)


def test_log_to_is_a_job_key_that_reaches_tune(tmp_path) -> None:
    """``log_to`` in the YAML job is checked like the keyword and handed to ``tune``."""
    from automl_vision.config.spec import SweepSpec

    (tmp_path / "data").mkdir()
    job = tmp_path / "job.yaml"
    job.write_text(
        "task: image_classification\n"
        "training_data: {path: data, type: uri_folder}\n"
        "log_to: [tensorboard]\n"
    )
    assert load_sweep_job(job).log_to == ["tensorboard"]
    spec = SweepSpec.from_cli(["-c", str(job)])
    assert list(spec.log_to) == ["tensorboard"]
    with pytest.raises(ValueError, match="log_to"):
        sweep_job_from_data({"log_to": ["wandb"]})


def test_the_multilabel_loss_fields_are_job_keys() -> None:
    """This project's extension fields (not Azure's) are accepted in both places a job sets
    fields, with the same checks as any field."""
    job = sweep_job_from_data(
        {
            "task": "image_classification_multilabel",
            "training_parameters": {"asl_clip": 0.1},
            "search_space": [{"loss_function": "choice('bce', 'asl')", "asl_gamma_neg": 2}],
        }
    )
    (space,) = job.spaces()
    assert space.loss_function == choice("bce", "asl")
    assert (space.asl_gamma_neg, space.asl_clip) == (2.0, 0.1)
    with pytest.raises(ValueError, match=r"asl_clip must be a number in \[0, 1\)"):
        sweep_job_from_data({"training_parameters": {"asl_clip": 1}})
