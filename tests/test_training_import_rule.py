"""The trainer never imports the sweep; reading data does not need torch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers_imports import loaded_after

PACKAGE = Path(__file__).resolve().parents[1] / "automl_vision"
#: the packages of a sweep (what sat in automl_vision.sweep before the redesign)
SWEEP = tuple(
    f"automl_vision.{name}"
    for name in ("config", "planning", "scheduling", "executors", "store", "reporting", "tuning")
)


def _imported_modules(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
    return names


def test_training_and_data_sources_never_import_the_sweep() -> None:
    for package in ("training", "data"):
        imported = _imported_modules(PACKAGE / package)
        assert not {m for m in imported if m.startswith(SWEEP)}, package


@pytest.mark.slow
def test_importing_the_trainer_loads_no_sweep_module_of_its_own() -> None:
    base, _, loaded = loaded_after("torch")
    assert "torch" in loaded
    assert not {m for m in loaded - base if m.startswith(SWEEP)}


def test_loading_a_dataset_does_not_import_torch() -> None:
    (loaded,) = loaded_after("data")
    assert "torch" not in loaded and "automl_vision.training" not in loaded
