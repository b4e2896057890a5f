"""The trainer never imports the sweep; reading data does not need torch."""

from __future__ import annotations

from test_import_rule import loaded_after


def test_training_does_not_import_the_sweep() -> None:
    loaded = loaded_after("import automl_vision.training\nimport automl_vision.training.export")
    assert "torch" in loaded
    assert not {m for m in loaded if m.startswith("automl_vision.sweep")}


def test_loading_a_dataset_does_not_import_torch() -> None:
    loaded = loaded_after("import automl_vision.data\nimport automl_vision.data.demo")
    assert "torch" not in loaded and "automl_vision.training" not in loaded
