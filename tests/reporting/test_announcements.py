"""The sweep's choices reach the user through one logger, never through print in library code."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

from automl_vision.reporting.announce import ANNOUNCEMENTS, announce

PACKAGE = Path(__file__).resolve().parents[2] / "automl_vision"
# the command line (the cli package) and the bench command decide what a user sees; the rest of
# the library logs
PRINTING_ALLOWED = {"cli", "bench.py"}


def _prints_to_stderr(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            for kw in node.keywords:
                if kw.arg == "file" and "stderr" in ast.unparse(kw.value):
                    lines.append(node.lineno)
    return lines


def test_library_code_does_not_print_to_stderr() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): lines
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] not in PRINTING_ALLOWED
        and (lines := _prints_to_stderr(p))
    }
    assert offenders == {}


def test_announcements_go_to_the_current_stderr_and_can_be_silenced(capsys) -> None:
    announce("sampler: bayesian")
    assert capsys.readouterr().err == "automl_vision: sampler: bayesian\n"
    log = logging.getLogger(ANNOUNCEMENTS)
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        announce("quiet please")
        assert capsys.readouterr().err == ""
    finally:
        log.setLevel(level)
