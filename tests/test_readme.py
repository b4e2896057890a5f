"""README.md, followed in order as a user would: every Python example and every command line
of its bash blocks, one after another in one fresh working directory (a clone's ``configs/``
copied in). A later example that reuses an earlier one's folder for another sweep is refused by
the library, so a path collision between examples fails here.

To keep the time modest, each ``automl-vision tune`` line runs with ``--max-trials 1 -q``
appended (the flag wins over the line's and the job file's; an explicit folder's resume check
compares the sweep's definition, not its limits, so a collision is still refused). Lines that
cannot run here are left out: the dashboard (a server), the demo (its own 12-trial sweep), the
benchmark file (9 minutes; the README's small Python benchmark runs instead),
``/shared`` paths of a Ray cluster, ``pip``/``make``/``ray`` lines."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses and whole sweeps: make test runs it

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", README.read_text(), flags=re.DOTALL)
PYTHON = [code for kind, code in BLOCKS if kind == "python"]
SKIPPED = (
    "automl-vision dashboard",
    "automl-vision demo",
    "/shared/",
    "automl-vision benchmark configs/",  # the README's 9-minute benchmark; a small one runs
)


def _steps() -> list[tuple[str, str]]:
    """``("python", code)`` and ``("cli", line)``, in the README's order."""
    steps: list[tuple[str, str]] = []
    for kind, code in BLOCKS:
        if kind == "python":
            steps.append(("python", code))
            continue
        for line in code.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("automl-vision ") and not any(s in line for s in SKIPPED):
                steps.append(("cli", line))
    return steps


def _run_cli(line: str, workdir: Path) -> None:
    argv = shlex.split(line, comments=True)[1:]
    if argv[0] == "tune":
        argv += ["--max-trials", "1", "-q"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", *argv],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, f"README line `{line}` exited {out.returncode}:\n{out.stderr}"


def test_readme_has_examples() -> None:
    assert len(PYTHON) >= 6
    cli = [line for kind, line in _steps() if kind == "cli"]
    assert any(line.startswith("automl-vision tune -c") for line in cli)
    assert any(line.startswith("automl-vision predict") for line in cli)


@pytest.mark.timeout(3600)  # a few small sweeps on a shared CPU: generous
def test_the_readme_runs_in_order_in_one_folder(tmp_path, monkeypatch) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")  # what a clone has
    monkeypatch.chdir(tmp_path)  # later examples use the data and sweeps earlier ones wrote
    for index, (kind, step) in enumerate(_steps()):
        if kind == "python":
            exec(compile(step, f"{README}:step{index}", "exec"), {"__name__": "__readme__"})
        else:
            _run_cli(step, tmp_path)
    for name in ("preds.jsonl", "preds_onnx.jsonl"):  # "Use the model": Azure's scoring lines
        lines = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        assert lines and all({"filename", "probs", "labels"} <= set(line) for line in lines)
