"""Every Python example in README.md runs, in order, in one fresh working directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_training import single_thread  # noqa: F401

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
