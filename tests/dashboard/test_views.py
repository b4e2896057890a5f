"""The dashboard and the HTML report: read-only views of a sweep's store."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from automl_vision.cli import main
from automl_vision.dashboard.report import write_html_report
from automl_vision.dashboard.server import make_server
from automl_vision.dashboard.snapshot import load_snapshot
from automl_vision.store.database import EventKind, SweepStore

HERE = Path(__file__).parents[1]  # tests/, where dashboard_sweep.py lives
SWEEP_SCRIPT = HERE / "dashboard_sweep.py"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("dash-run")
    sys.path.insert(0, str(HERE))
    try:
        from dashboard_sweep import run
    finally:
        sys.path.remove(str(HERE))
    run(run_dir, trials=6)
    return run_dir


def _external_refs(html: str) -> list[str]:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"' >]*)""", html, re.I)
    refs += re.findall(r"@import", html)
    refs += re.findall(r"url\(\s*['\"]?(?:https?:)?//", html)
    return refs


def test_event_kinds_keep_their_stored_text(tmp_path):
    store = SweepStore(tmp_path / "s.db")
    store.log(EventKind.SWEEP_STARTED, "x")
    store.log(EventKind.NOTE, "y")
    assert [k for _, k, _ in store.events()] == ["sweep_started", "note"]
    assert {k.value for k in EventKind} == {
        "sweep_started",
        "sweep_resumed",
        "sweep_finished",
        "trial_paused",
        "trial_promoted",
        "note",
    }
    with pytest.raises(ValueError):
        store.log("no_such_kind", "z")  # type: ignore[arg-type]


def test_snapshot_reads_without_writing(finished_run):
    db = finished_run / "sweep.db"
    before = db.read_bytes()
    snap = load_snapshot(finished_run)
    statuses = {t.status for t in snap.trials}
    assert {"COMPLETED", "STOPPED"} <= statuses
    stopped = next(t for t in snap.trials if t.status == "STOPPED")
    assert stopped.stopped_by_policy and stopped.epochs == 2 and "< 0.3" in stopped.stop_reason
    assert db.read_bytes() == before


def test_snapshot_of_a_store_mid_write_sees_committed_rows_only(tmp_path):
    store = SweepStore(tmp_path / "sweep.db")
    store.set_meta({"goal": "minimize"})
    writer = sqlite3.connect(tmp_path / "sweep.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer holds its lock, mid-transaction
    writer.execute("INSERT INTO events (time, kind, message) VALUES (0, 'note', 'uncommitted')")
    snap = load_snapshot(tmp_path)  # neither blocks nor fails
    assert snap.goal == "minimize" and snap.events == []
    writer.execute("COMMIT")
    assert [m for _, _, m in load_snapshot(tmp_path).events] == ["uncommitted"]


def test_html_report_is_self_contained(finished_run):
    path = write_html_report(finished_run)
    html = path.read_text()
    assert _external_refs(html) == []
    assert "<link" not in html and "<img" not in html
    for view in (
        "Learning curves",
        "Best so far",
        "Parallel coordinates",
        "Parameter importance",
        "Plan",
        "Per-epoch metrics",
        "Log tail",
    ):
        assert view in html
    assert html.count('class="trial"') == 6
    assert "STOPPED" in html and "COMPLETED" in html and "stopmark" in html


def test_report_html_from_the_cli(finished_run, capsys):
    assert main(["report", str(finished_run), "--html"]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (finished_run / "report.html").is_file()


def test_external_reference_check_catches_urls():
    assert _external_refs('<script src="https://cdn.example/x.js"></script>')
    assert _external_refs("<style>@import 'x.css';</style>")
    assert _external_refs('<a href="//example.org/">')
    assert not _external_refs('<a href="#r0-trial_0001">')


def test_server_serves_page_body_and_state(finished_run):
    server = make_server([finished_run, finished_run], port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = urllib.request.urlopen(server.url, timeout=10).read().decode()
        body = urllib.request.urlopen(server.url + "api/body", timeout=10).read().decode()
        state = urllib.request.urlopen(server.url + "api/state", timeout=10).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert "setInterval(refresh" in page and _external_refs(page) == []
    assert body.count('class="run"') == 2  # two run dirs side by side
    assert '"status": "STOPPED"' in state


def _busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize("case", ["no_sweep", "port_in_use", "report_no_sweep"])
def test_bad_input_exits_2_with_one_message(case, finished_run, tmp_path):
    sock, port = _busy_port()
    try:
        args = {
            "no_sweep": ["dashboard", str(tmp_path), "--port", "0"],
            "port_in_use": ["dashboard", str(finished_run), "--port", str(port)],
            "report_no_sweep": ["report", str(tmp_path), "--html"],
        }[case]
        proc = subprocess.run(
            [sys.executable, "-m", "automl_vision.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        sock.close()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    expected = {
        "no_sweep": "holds no sweep",
        "port_in_use": f"cannot listen on 127.0.0.1:{port}",
        "report_no_sweep": "no sweep",
    }[case]
    assert expected in lines[0]


def test_public_host_gets_a_token_and_a_warning(finished_run):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automl_vision.cli",
            "dashboard",
            str(finished_run),
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "dashboard: http://0.0.0.0:" in line and "/?token=" in line
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "reachable from other machines" in err and "token" in err
