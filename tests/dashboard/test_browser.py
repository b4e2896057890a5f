"""The live dashboard in headless Chromium while a sweep runs in another process."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses and whole sweeps: make test runs it

HERE = Path(__file__).parents[1]  # tests/, where dashboard_sweep.py lives
SWEEP_SCRIPT = HERE / "dashboard_sweep.py"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _find_browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """A headless Chromium: the installed one, else ``apt-get install chromium`` once per session
    (as root); the test is skipped with the reason where it cannot be installed."""
    found = _find_browser()
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get (as root) is not available")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=900,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            pytest.skip(f"cannot install chromium: {err}")
        if done.returncode != 0:
            pytest.skip(f"cannot install chromium: {' '.join(cmd)} failed: {done.stderr[-300:]}")
    found = _find_browser()
    if not found:
        pytest.skip("apt-get install chromium left no chromium on PATH")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=2000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


def _env() -> dict[str, str]:
    root = str(HERE.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def test_dashboard_in_chromium_while_a_sweep_runs(chromium, tmp_path):
    run_dir = tmp_path / "run"
    sweep = subprocess.Popen(
        [sys.executable, str(SWEEP_SCRIPT), str(run_dir), "--trials", "8", "--delay", "0.4"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dashboard = None
    try:
        deadline = time.monotonic() + 60
        while not (run_dir / "sweep.db").is_file():
            assert time.monotonic() < deadline and sweep.poll() is None, "the sweep never started"
            time.sleep(0.1)
        port = _free_port()
        dashboard = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "automl_vision.cli",
                "dashboard",
                str(run_dir),
                "--port",
                str(port),
            ],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert "dashboard: http://127.0.0.1:" in dashboard.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        seen_running = False
        dom = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            running = sweep.poll() is None
            dom = _browser(chromium, tmp_path / "profile", "--dump-dom", url).stdout
            if running and 'data-status="COMPLETED"' in dom and 'data-status="STOPPED"' in dom:
                seen_running = True
                break
            if not running:
                break
            time.sleep(0.5)
        assert seen_running, (
            f"the table never showed a finished and a stopped trial while the sweep ran:\n{dom[-2000:]}"
        )
        shot = tmp_path / "dashboard.png"
        _browser(
            chromium, tmp_path / "profile", "--window-size=1300,1400", f"--screenshot={shot}", url
        )
        assert (
            shot.is_file()
            and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            and shot.stat().st_size > 10_000
        )
        for text in (
            "Learning curves",
            "Best so far",
            "Parallel coordinates",
            "Parameter importance",
            "Plan",
            "accuracy",
            "StopLow",
            "&lt; 0.3 after 2 reports",
        ):
            assert text in dom, text
        assert "stopmark" in dom  # stopped trials are marked on the curves
        assert sweep.wait(timeout=120) == 0, sweep.stderr.read()
    finally:
        for proc in (dashboard, sweep):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    db = sqlite3.connect(run_dir / "sweep.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (finished,) = db.execute(
            "SELECT COUNT(*) FROM attempts WHERE status IS NOT NULL"
        ).fetchone()
        assert finished == 8
    finally:
        db.close()
