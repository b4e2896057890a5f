"""The import rule of docs/architecture.md: the pure layers never import torch (or the trainer)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "timm", "torchvision", "automl_vision.training")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import automl_vision",
        "import automl_vision.space",
        "import automl_vision.sampling",
        "import automl_vision.policies",
        "import automl_vision.trial",
        "import automl_vision.sweep",
        "from automl_vision import optimize, uniform\noptimize(lambda p: p['x'], {'x': uniform(0, 1)},"
        " sampling=__import__('automl_vision.sampling.fixed', fromlist=['x'])"
        ".FixedConfigurations([{'x': 0.5}]))",
        "from automl_vision import ImageClassificationSearchSpace, choice, uniform\n"
        "ImageClassificationSearchSpace(model_name=choice('resnet50', 'vitb16r224', 'seresnext'),"
        " learning_rate=uniform(0.001, 0.01))",
        "from automl_vision import load_search_space\nload_search_space('default')",
    ],
)
def test_pure_layers_do_not_import_torch(code: str) -> None:
    loaded = loaded_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_non_azure_model_name_imports_timm_lazily() -> None:
    loaded = loaded_after(
        "from automl_vision import ImageClassificationSearchSpace\n"
        "ImageClassificationSearchSpace(model_name='efficientnet_b0')"
    )
    assert "timm" in loaded


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
