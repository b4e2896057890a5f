"""Every Python example in README.md runs, in order, in one fresh working directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses and whole sweeps: make test runs it

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(index: int, workdir: Path, monkeypatch) -> None:
    monkeypatch.chdir(workdir)  # later examples use the data earlier ones wrote
    exec(compile(BLOCKS[index], f"{README}:block{index}", "exec"), {"__name__": "__readme__"})


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 6


USE_SECTION = README.read_text().split("## Use the model", 1)[1].split("\n## ", 1)[0]
USE_COMMANDS = [
    line
    for block in re.findall(r"```bash\n(.*?)```", USE_SECTION, flags=re.DOTALL)
    for line in block.splitlines()
    if line.startswith("automl-vision ")
]


@pytest.mark.parametrize("command", USE_COMMANDS)
def test_readme_use_the_model_commands_run(command: str, workdir: Path) -> None:
    """The CLI lines of "Use the model", after the Python blocks (same folder, runs/digits)."""
    import json
    import shlex
    import subprocess
    import sys

    argv = shlex.split(command)
    out = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", *argv[1:]],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    path = workdir / argv[argv.index("--output") + 1]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines and all({"filename", "probs", "labels"} <= set(line) for line in lines)
