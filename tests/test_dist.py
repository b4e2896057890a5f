"""``make dist`` builds the wheel the README's install section installs: the package with the
preset search spaces inside it (``automl_vision/search_spaces`` is a symlink in a clone)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel: pip, hatchling (about 20 s)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_dist_builds_a_wheel_with_the_package_and_the_presets(tmp_path) -> None:
    out = subprocess.run(
        # -o: this interpreter's environment stands for make's .venv (not built here)
        ["make", "-o", ".venv/.installed", "dist", f"PY={sys.executable}", f"DIST={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr
    (wheel,) = tmp_path.glob("automl_vision-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = {p.name for p in (ROOT / "search_spaces").glob("*.yaml")}
    assert presets and {f"automl_vision/search_spaces/{p}" for p in presets} <= names
    assert {"automl_vision/__init__.py", "automl_vision/cli/__init__.py"} <= names
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)
