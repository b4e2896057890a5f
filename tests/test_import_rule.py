"""The import rule of docs/architecture.md: the pure layers never import torch (or the trainer)."""

from __future__ import annotations

import pytest
from helpers_imports import loaded_after

HEAVY = ("torch", "timm", "torchvision", "automl_vision.training")


@pytest.mark.parametrize(
    "probe",
    ["automl_vision", "space", "sampling", "policies", "trial", "pareto", "deployment_cache",
     "executors", "scheduling", "store", "reporting", "config", "planning", "tuning",
     "benchmarking", "optimize", "azure_space", "preset"],
)  # fmt: skip
def test_pure_layers_do_not_import_torch(probe: str) -> None:
    (loaded,) = loaded_after(probe)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.slow
def test_a_non_azure_model_name_imports_timm_lazily() -> None:
    base, after_name, _ = loaded_after("torch")
    assert "timm" not in base
    assert "timm" in after_name


def _nested_project_imports(path) -> list[str]:
    import ast

    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    return [
        f"{path.name}:{node.lineno} {node.module}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("automl_vision")
        and id(node) not in top
    ]


def test_the_training_process_modules_form_no_import_cycle() -> None:
    """train.py -> distributed.py -> process.py, every import at the top of its file."""
    from pathlib import Path

    training = Path(__file__).resolve().parents[1] / "automl_vision" / "training"
    names = ("train.py", "distributed.py", "process.py")
    assert [hit for n in names for hit in _nested_project_imports(training / n)] == []
    process = (training / "process.py").read_text()
    assert "training.train import" not in process and "training.distributed" not in process
    assert "training.train import" not in (training / "distributed.py").read_text()
