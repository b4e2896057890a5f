"""TrainingConfig: Azure's defaults, validation of every field, task-dependent defaults."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from automl_vision.data import Task
from automl_vision.space import FIELDS, azure_defaults
from automl_vision.training import TrainingConfig


def test_unset_fields_take_azures_defaults() -> None:
    config = TrainingConfig()
    assert config.space_values() == azure_defaults()
    assert len(config.space_values()) == len(FIELDS) == 31 + 4  # Azure's and the extension
    assert config.loss_function == "bce"
    assert (config.asl_gamma_neg, config.asl_gamma_pos, config.asl_clip) == (4.0, 0.0, 0.05)
    assert config.explicit_fields == frozenset()
    assert config.model_name == "seresnext" and config.timm_name == "seresnext50_32x4d"


@pytest.mark.parametrize(
    ("model", "batch", "lr"),
    [("vits16r224", 128, 0.0125), ("vitb16r224", 48, 0.0125), ("vitl16r224", 10, 0.001),
     ("resnet50", 78, 0.01)],
)  # fmt: skip
def test_model_dependent_defaults(model: str, batch: int, lr: float) -> None:
    config = TrainingConfig(model_name=model)
    assert config.training_batch_size == config.validation_batch_size == batch
    assert config.learning_rate == lr


def test_multilabel_defaults_follow_the_task() -> None:
    assert TrainingConfig(task="multilabel").learning_rate == 0.035
    late = TrainingConfig(model_name="vitb16r224").for_task(Task.MULTILABEL)
    assert late.learning_rate == 0.025 and late.task is Task.MULTILABEL
    kept = TrainingConfig(learning_rate=0.2, number_of_epochs=3).for_task("multilabel")
    assert kept.learning_rate == 0.2 and kept.number_of_epochs == 3
    with pytest.raises(ValueError, match="the config is for task multiclass"):
        TrainingConfig(task="multiclass").for_task("multilabel")


def test_values_are_normalized_and_checked_per_field() -> None:
    config = TrainingConfig(optimizer="AdamW", nesterov=0, model_name="ResNet18")
    assert config.optimizer == "adamw" and config.nesterov is False
    assert config.model_name == "resnet18"
    for field, bad in [
        ("learning_rate", 1.5), ("optimizer", "rmsprop"), ("training_batch_size", 0),
        ("weighted_loss", 3), ("layers_to_freeze", -1), ("model_name", "resnet9000"),
        ("number_of_epochs", 2.5), ("momentum", "high"), ("loss_function", "focal"),
        ("asl_gamma_neg", -1.0), ("asl_gamma_pos", float("nan")), ("asl_clip", 1.0),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=field):
            TrainingConfig(**{field: bad})


def test_cross_field_checks() -> None:
    with pytest.raises(ValueError, match="validation_crop_size .* must not exceed"):
        TrainingConfig(validation_crop_size=300, validation_resize_size=256)
    with pytest.raises(ValueError, match="beta2=1.0 must be < 1 for optimizer adam"):
        TrainingConfig(optimizer="adam", beta2=1.0)
    TrainingConfig(optimizer="sgd", beta2=1.0)  # inactive: fine
    with pytest.raises(ValueError, match="primary_metric='iou' is not a metric for multiclass"):
        TrainingConfig(task="multiclass", primary_metric="iou")


def test_unknown_options_suggest_close_names() -> None:
    with pytest.raises(ValueError, match="did you mean 'learning_rate'"):
        TrainingConfig(learning_rat=0.1)


def test_from_params_takes_a_sampled_dict_and_options(tmp_path: Path) -> None:
    params = {"learning_rate": 0.003, "optimizer": "adam", "beta1": 0.85, "model_name": "resnet18"}
    config = TrainingConfig.from_params(params, gradient_clipping=1.0)
    assert config.beta1 == 0.85 and config.gradient_clipping == 1.0
    assert config.explicit_fields == frozenset(params)
    sampled = TrainingConfig.from_params(
        {"training_batch_size": np.int64(32), "learning_rate": np.float64(0.01),
         "nesterov": np.bool_(False), "number_of_epochs": 5.0}
    )  # fmt: skip
    assert sampled.training_batch_size == 32 and type(sampled.training_batch_size) is int
    assert sampled.nesterov is False and sampled.number_of_epochs == 5
    clone = pickle.loads(pickle.dumps(config))
    assert clone == config and clone.explicit_fields == config.explicit_fields
    with pytest.raises(ValueError, match="no such checkpoint file"):
        TrainingConfig(pretrained=str(tmp_path / "missing.pt"))


def test_every_search_space_field_is_a_config_field() -> None:
    assert set(FIELDS) <= set(TrainingConfig.model_fields)
