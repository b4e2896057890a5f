"""The documentation site (mkdocs.yml, docs/) builds with warnings as errors, and its API
reference documents every public name of ``automl_vision``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import automl_vision

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
# `::: automl_vision.module.Name` lines of the reference pages
DIRECTIVE = re.compile(r"^::: (automl_vision(?:\.\w+)+)\s*$", flags=re.MULTILINE)


def documented_paths() -> list[str]:
    return [
        path
        for page in sorted(REFERENCE.glob("*.md"))
        for path in DIRECTIVE.findall(page.read_text())
    ]


def test_reference_documents_every_public_name() -> None:
    documented = {path.rsplit(".", 1)[1] for path in documented_paths()}
    public = set(automl_vision.__all__) - {"__version__"}
    assert sorted(public - documented) == []


def test_reference_directives_name_the_public_objects() -> None:
    # each directive names the object the top-level package exports under that name, so the
    # reference shows what `from automl_vision import X` gives
    for path in documented_paths():
        module_name, name = path.rsplit(".", 1)
        module = __import__(module_name, fromlist=[name])
        if name in automl_vision.__all__:
            assert getattr(module, name) is getattr(automl_vision, name), path


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert sorted(page for page in pages if page not in nav) == []


def test_site_builds_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "tuning" / "index.html").is_file()
