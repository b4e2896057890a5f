"""The live dashboard in headless Chromium while a sweep runs in another process."""

from __future__ import annotations

import os
import re
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


#: run in the page after it is laid out: how wide things are, written on <body> for --dump-dom
_FIT_CHECK = (
    "(function(){var d=document.documentElement,vw=d.clientWidth,out={vw:vw,sw:d.scrollWidth,"
    "runs:[],tables:[],charts:[]};document.querySelectorAll('section.run').forEach(function(r){"
    "var b=r.getBoundingClientRect();out.runs.push([b.left,b.right]);"
    "r.querySelectorAll('table.trials').forEach(function(t){out.tables.push("
    "[t.scrollWidth,t.parentNode.clientWidth]);});r.querySelectorAll(':scope>.charts>svg.chart').forEach("
    "function(s){var c=s.getBoundingClientRect();out.charts.push([c.right,b.right]);});});"
    "document.body.setAttribute('data-fit',JSON.stringify(out));})();"
)


def _with_fit_check(page: str) -> str:
    """The served page with ``_FIT_CHECK`` run after it, allowed by its hash in the page's own
    Content-Security-Policy (the page's script and style stay exactly as served)."""
    from automl_vision.dashboard.csp import source_hash

    assert "script-src " in page
    page = page.replace("script-src ", f"script-src {source_hash(_FIT_CHECK)} ", 1)
    return page.replace("</body>", f"<script>{_FIT_CHECK}</script></body>")


def test_two_sweeps_side_by_side_fit_a_1280px_window(chromium, tmp_path):
    import html
    import json
    import threading
    import urllib.request

    from automl_vision.dashboard.server import make_server
    from automl_vision.reporting import chart_data
    from automl_vision.store.sweep_dir import read_sweep
    from automl_vision.trial import PrimaryMetricGoal

    sys.path.insert(0, str(HERE))
    try:
        from dashboard_sweep import run
    finally:
        sys.path.remove(str(HERE))
    long_models = (
        "vit_base_patch16_224.augreg2_in21k_ft_in1k",
        "convnextv2_nano.fcmae_ft_in22k_in1k_384",
        "resnet18",
    )
    runs = [tmp_path / "one", tmp_path / "two"]
    run(runs[0], trials=8, models=long_models)
    run(runs[1], trials=6)
    for run_dir in runs:  # every chart has a PNG counterpart, and each of those has data here
        trials = read_sweep(run_dir).trials
        goal = PrimaryMetricGoal.MAXIMIZE
        assert chart_data.learning_curves(trials, None)
        assert chart_data.best_so_far(trials, goal).has_data
        assert chart_data.parallel_coordinates(trials, "accuracy").has_data
        assert chart_data.importance(trials, goal).has_data
    server = make_server(runs, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shot = tmp_path / "two-sweeps.png"
        _browser(
            chromium,
            tmp_path / "profile",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            server.url,
        )
        page = urllib.request.urlopen(server.url, timeout=30).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    checked = tmp_path / "checked.html"
    checked.write_text(_with_fit_check(page))
    dom = _browser(
        chromium,
        tmp_path / "profile-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        "--dump-dom",
        checked.as_uri(),
    ).stdout
    found = re.search(r'data-fit="([^"]*)"', dom)
    assert found, f"the check did not run (CSP?):\n{dom[-1500:]}"
    fit = json.loads(html.unescape(found.group(1)))
    assert fit["sw"] <= fit["vw"], f"the page scrolls sideways: {fit}"
    assert len(fit["runs"]) == 2 and all(right <= fit["vw"] for _, right in fit["runs"]), fit
    assert fit["runs"][0][1] <= fit["runs"][1][0], f"the sweeps are not side by side: {fit}"
    assert len(fit["tables"]) == 2
    assert all(width <= box for width, box in fit["tables"]), f"a trial table is clipped: {fit}"
    assert len(fit["charts"]) == 8
    assert all(right <= box + 0.5 for right, box in fit["charts"]), f"a chart sticks out: {fit}"
    assert "no data yet" not in dom
    assert (
        dom.count(">Parameter importance (eta²)</text>") == 2
        and dom.count('class="colourbar"') == 2
    )
