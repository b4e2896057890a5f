"""CLI commands of the search-space layer: output and exit codes."""

from __future__ import annotations

import subprocess
import sys

from automl_vision.cli import main


def test_spaces_lists_presets(capsys) -> None:
    assert main(["spaces"]) == 0
    assert "default" in capsys.readouterr().out.split()


def test_spaces_shows_one(capsys) -> None:
    assert main(["spaces", "default"]) == 0
    assert "search_space[1]:" in capsys.readouterr().out


def test_validate_reports_errors_with_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("search_space:\n  - learning_rate: 'uniform(0.5, 2)'\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "search_space[0]: learning_rate=uniform(0.5, 2)" in err and "Traceback" not in err
    good = tmp_path / "good.yaml"
    good.write_text("search_space:\n  - learning_rate: 'uniform(0.001, 0.01)'\n")
    assert main(["validate", str(good)]) == 0


def test_missing_file_exits_2_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", "validate", "/no/such/file.yaml"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
