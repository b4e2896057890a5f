"""Enum-like inputs parse through one mechanism (``ChoiceEnum``): any case, spacing and
separators, the class's aliases, the same lookup for ``Cls(value)``, ``parse`` and pydantic."""

from __future__ import annotations

import pytest

from automl_vision.config.job import DataType, SweepJob, TaskType
from automl_vision.data import Task
from automl_vision.training import TrainingConfig
from automl_vision.training.optim import OptimizerKind
from automl_vision.training.schedule import SchedulerKind
from automl_vision.trial import PrimaryMetricGoal

# (enum, spelling, member)
CASES = [
    (PrimaryMetricGoal, " MAXIMIZE ", PrimaryMetricGoal.MAXIMIZE),
    (PrimaryMetricGoal, "min", PrimaryMetricGoal.MINIMIZE),
    (Task, "Multi-Label", Task.MULTILABEL),
    (Task, "multi_label", Task.MULTILABEL),
    (Task, "image_classification", Task.MULTICLASS),  # Azure's task names are aliases
    (Task, "Image_Classification_Multilabel", Task.MULTILABEL),
    (TaskType, "IMAGE_CLASSIFICATION", TaskType.IMAGE_CLASSIFICATION),
    (DataType, "URI_Folder", DataType.URI_FOLDER),
    (OptimizerKind, "AdamW", OptimizerKind.ADAMW),
    (SchedulerKind, "Warmup-Cosine", SchedulerKind.WARMUP_COSINE),
]


@pytest.mark.parametrize(("kind", "text", "member"), CASES)
def test_spellings_find_the_member(kind, text, member) -> None:
    assert kind(text) is member and kind.parse(text) is member
    assert member == member.value and hash(member) == hash(member.value)
    assert member.value in {member} and str(member) == member.value


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (PrimaryMetricGoal, "goal='up' is not allowed; goal must be 'maximize' or 'minimize'"),
        (Task, "task='up' is not allowed; task must be 'multiclass' or 'multilabel'"),
        (OptimizerKind, "OptimizerKind='up' is not allowed; OptimizerKind must be one of 'sgd'"),
    ],
)
def test_one_clear_error(kind, message) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        kind.parse("up")


def test_pydantic_fields_take_any_spelling() -> None:
    job = SweepJob(task="Image_Classification_Multilabel", goal="MAX")
    assert job.task is TaskType.IMAGE_CLASSIFICATION_MULTILABEL
    assert job.goal is PrimaryMetricGoal.MAXIMIZE
    config = TrainingConfig(
        model_name="test_resnet", optimizer="ADAM", learning_rate_scheduler="Step"
    )
    assert config.optimizer is OptimizerKind.ADAM
    assert config.learning_rate_scheduler is SchedulerKind.STEP
    assert config.model_dump(mode="json")["optimizer"] == "adam"
