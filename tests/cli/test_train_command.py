"""``automl-vision train``: the standalone trainer script as a command of the CLI, the same flags
and the same result as ``trainers/train_image_classifier.py``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_training import write_folder

from automl_vision.cli import build_parser, main
from automl_vision.space import FIELDS
from automl_vision.trial import COST_KEY, PROGRESS_KEY, RUN_KEYS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "trainers" / "train_image_classifier.py"

#: a tiny run: 3 epochs of timm's test_resnet on 16-px images, evaluated at epochs 2 and 3
TINY = [
    "--device", "cpu", "--model_name", "test_resnet", "--number_of_epochs", "3",
    "--evaluation_frequency", "2", "--training_batch_size", "4", "--training_crop_size", "16",
    "--validation_crop_size", "16", "--validation_resize_size", "16", "--number_of_workers", "0",
    "--nesterov", "false", "--early_stopping", "false", "--random_seed", "1",
]  # fmt: skip


def _train_parser():
    for action in build_parser()._actions:
        if getattr(action, "choices", None) and "train" in action.choices:
            return action.choices["train"]
    raise AssertionError("no train command")


def _script():
    spec = importlib.util.spec_from_file_location("train_image_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flags(parser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def test_help_lists_every_search_space_field(capsys) -> None:
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for name in FIELDS:
        assert f"--{name}" in text, name


def test_the_command_takes_exactly_the_scripts_flags() -> None:
    flags = _flags(_train_parser())
    assert flags == _flags(_script().build_parser())
    assert {f"--{name}" for name in FIELDS} <= flags
    assert {"--data", "--output_dir", "--validation_data", "--device"} <= flags


def test_bad_values_are_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    root = write_folder(tmp_path / "data", n_per_class=2)
    assert main(["train", "--data", str(root), "--learning_rate", "3", "--momentum", "7"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "learning_rate=3.0" in err and "momentum=7.0" in err
    assert main(["train", "--data", str(root), "--nesterov", "maybe"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is not a boolean" in err, err
    assert main(["train", "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def _model(lines: list[dict]) -> list[dict]:
    """The printed reports without the run's own fields (schedule progress, seconds)."""
    return [{k: v for k, v in line.items() if k not in RUN_KEYS} for line in lines]


def _run(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
    )


@pytest.mark.slow  # two subprocesses, each trains
def test_the_command_and_the_script_give_the_same_result(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=6)
    common = ["--data", str(root), "--cache_dir", str(tmp_path / "cache"), *TINY]
    script = _run(str(SCRIPT), *common, "--output_dir", str(tmp_path / "script"))
    command = _run(
        "-m", "automl_vision.cli", "train", *common, "--output_dir", str(tmp_path / "cli")
    )
    assert script.returncode == 0, script.stderr
    assert command.returncode == 0, command.stderr
    by_script = [json.loads(line) for line in script.stdout.splitlines()]
    by_command = [json.loads(line) for line in command.stdout.splitlines()]
    assert [line["step"] for line in by_command] == [2, 3]
    # same seed, one thread, CPU: the same numbers (the seconds each run took aside)
    assert all(COST_KEY in line and PROGRESS_KEY in line for line in by_command)
    assert _model(by_command) == _model(by_script)
    assert (tmp_path / "script" / "best.safetensors").is_file() and (
        tmp_path / "cli" / "best.safetensors"
    ).is_file()
    assert "epoch 1/3" in command.stderr and "epoch 1/3" in script.stderr


@pytest.mark.slow  # a fresh interpreter
def test_help_does_not_import_torch() -> None:
    probe = (
        "import sys\n"
        "from automl_vision.cli import main\n"
        "assert main(['train', '--help']) == 0\n"
        "print(sorted(m for m in ('torch', 'timm', 'automl_vision.training') if m in sys.modules))"
    )
    out = _run("-c", probe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
