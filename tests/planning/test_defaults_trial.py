"""The known-good first trial takes Azure's defaults wherever the space allows."""

from __future__ import annotations

from automl_vision.planning.defaults import default_suggestion
from automl_vision.space import (
    ImageClassificationSearchSpace,
    as_parameter_spaces,
    choice,
    loguniform,
    uniform,
)


def test_defaults_where_allowed_else_first_option_or_median() -> None:
    space = ImageClassificationSearchSpace(
        model_name=choice("resnet50", "vitb16r224"),
        optimizer=choice("adamw", "sgd"),
        learning_rate=uniform(0.005, 0.05),  # Azure's 0.01 is inside
        momentum=uniform(0.5, 0.6),  # Azure's 0.9 is not: median 0.55
        beta1=uniform(0.8, 0.95),
        weight_decay=loguniform(-11.5, -6.9),
        number_of_epochs=7,
    )
    s = default_suggestion(as_parameter_spaces(space), multilabel=False)
    assert s.space_index == 0
    assert s.params == {
        "optimizer": "sgd",
        "model_name": "resnet50",
        "learning_rate": 0.01,
        "momentum": 0.55,
        "weight_decay": 1e-4,
        "number_of_epochs": 7,
    }


def test_multilabel_defaults() -> None:
    space = ImageClassificationSearchSpace(learning_rate=uniform(0.001, 0.05))
    assert default_suggestion(as_parameter_spaces(space), multilabel=True).params == {
        "learning_rate": 0.035
    }
