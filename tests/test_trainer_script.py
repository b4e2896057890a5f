"""trainers/train_image_classifier.py: every field is a flag; one JSON line per evaluation."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_training import write_folder

from automl_vision.space import FIELDS

pytestmark = pytest.mark.slow  # subprocesses and whole sweeps: make test runs it

SCRIPT = Path(__file__).resolve().parents[1] / "trainers" / "train_image_classifier.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1]), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300
    )


def _script():
    spec = importlib.util.spec_from_file_location("train_image_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_field_is_a_flag() -> None:
    text = _script().build_parser().format_help()
    for name in FIELDS:
        assert f"--{name}" in text, name


def test_prints_one_json_line_per_evaluation(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=6)
    out = _run(
        "--data", str(root), "--output_dir", str(tmp_path / "out"),
        "--cache_dir", str(tmp_path / "cache"), "--device", "cpu",
        "--model_name", "test_resnet", "--number_of_epochs", "3", "--evaluation_frequency", "2",
        "--training_batch_size", "4", "--training_crop_size", "16", "--validation_crop_size", "16",
        "--validation_resize_size", "16", "--number_of_workers", "0", "--nesterov", "false",
        "--early_stopping", "false", "--random_seed", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["step"] for line in lines] == [2, 3]
    assert {"accuracy", "log_loss", "train_loss"} <= set(lines[0])
    assert (tmp_path / "out" / "best.safetensors").is_file()
    assert "epoch 1/3" in out.stderr


def test_bad_values_are_reported_without_a_traceback(tmp_path: Path, capsys) -> None:
    script = _script()
    root = write_folder(tmp_path / "data", n_per_class=2)
    assert script.main(["--data", str(root), "--learning_rate", "3"]) == 2
    assert "learning_rate=3.0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        script.main(["--data", str(root), "--nesterov", "maybe"])
    assert exit_.value.code == 2
    assert "is not a boolean" in capsys.readouterr().err
