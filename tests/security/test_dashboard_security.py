"""The dashboard and ``report --html`` against a hostile sweep folder and hostile requests.

Each sweep folder here is a store written directly (no training): a few trials with reports,
then whatever a test plants in it (links, hostile text, garbage). Every server binds 127.0.0.1
on port 0, serves from a thread and is shut down at the end of its test.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from automl_vision.cli import main
from automl_vision.dashboard import access as access_module
from automl_vision.dashboard.csp import source_hash
from automl_vision.dashboard.logs import TAIL_BYTES, log_tail
from automl_vision.dashboard.report import write_html_report
from automl_vision.dashboard.server import DashboardServer, make_server
from automl_vision.dashboard.snapshot import SnapshotError, load_snapshot
from automl_vision.store.database import SweepStore

SECRET = "root:x:0:0:root:/root:/bin/bash"
TOKEN = "s3cret-token_of-the.dashboard~1234"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>');alert(3);//\"'"


# -- a sweep folder, written directly ------------------------------------------------------------


def _write_store(run_dir: Path, trial_ids: list[str] | None = None, **hostile: str) -> Path:
    """A finished sweep of three trials (three reports each) in ``run_dir``; ``hostile`` text
    goes into the fields it names (trial ids come from ``trial_ids``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    SweepStore(run_dir / SweepStore.FILENAME).close()
    db = sqlite3.connect(run_dir / SweepStore.FILENAME, isolation_level=None)
    text = hostile.get
    meta = {
        "primary_metric": text("metric", "accuracy"),
        "goal": "maximize",
        "definition": {"sampling": text("definition", "random"), "search_space": {"lr": "u"}},
        "settings": {"max_trials": 3, text("setting", "note"): text("setting", "x")},
    }
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
    )
    ids = trial_ids or ["trial_0000", "trial_0001", "trial_0002"]
    for i, trial_id in enumerate(ids):
        params = {"lr": 0.01 * (i + 1), text("param", "model"): text("param", f"m{i}")}
        db.execute(
            "INSERT INTO trials VALUES (?, ?, 0, ?, '[]', 0)", (i, trial_id, json.dumps(params))
        )
        artifacts = {"notes": text("note", "fine"), "node": text("node", "n1")}
        db.execute(
            "INSERT INTO attempts (trial_index, attempt, started_at, finished_at, status, value, "
            "error, stop_reason, artifacts) VALUES (?, 1, ?, ?, 'COMPLETED', ?, ?, ?, ?)",
            (
                i,
                1000.0 + i,
                1010.0 + i,
                0.5 + i / 10,
                text("error"),
                text("reason", "ran its budget"),
                json.dumps(artifacts),
            ),
        )
        for step in (1, 2, 3):
            metrics = {"accuracy": 0.1 * step, text("metric_name", "loss"): text("metric", 1.0)}
            db.execute(
                "INSERT INTO reports (trial_index, attempt, step, value, metrics, stop, reason, "
                "time) VALUES (?, 1, ?, ?, ?, 0, ?, 0)",
                (i, step, 0.1 * step + i / 10, json.dumps(metrics), text("decision", "kept")),
            )
    db.execute(
        "INSERT INTO events (time, kind, message) VALUES (1000, 'note', ?)",
        (text("event", "sweep started"),),
    )
    db.close()
    return run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return _write_store(tmp_path / "run")


def _trial_folder(run_dir: Path, trial_id: str = "trial_0000") -> Path:
    folder = run_dir / "trials" / trial_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file outside the sweep folder that the dashboard must never show."""
    path = tmp_path / "outside" / "passwd"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


# -- a served dashboard ---------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(*run_dirs: Path, **options: object) -> Iterator[DashboardServer]:
    server = make_server(list(run_dirs), host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def _get(
    server: DashboardServer,
    path: str = "/",
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, dict[str, str], str]:
    """(status, headers, body); ``headers`` may replace ``Host``."""
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.data else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.data[self._in].append(data)


def _strings(value: object) -> set[str]:
    """Every text (key or value) in a JSON document."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()


def _parse(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    tags.close()
    return tags


def _assert_no_injection(html: str) -> None:
    """The page's only elements are the renderer's: one script, no image, no event handler."""
    tags = _parse(html)
    names = [t for t, _ in tags.tags]
    assert names.count("script") <= 1 and "img" not in names
    handlers = [(t, a) for t, attrs in tags.tags for a in attrs if a.startswith("on")]
    assert handlers == [], handlers
    assert "<script>alert" not in html and "<img" not in html


# -- 1. nothing outside the sweep folder is shown ------------------------------------------------


def test_a_log_linked_out_of_the_sweep_is_shown_as_a_note_not_read(run_dir, secret_file):
    folder = _trial_folder(run_dir)
    (folder / "train.log").write_text("epoch 1 done\n")
    (folder / "x.log").symlink_to(secret_file)
    tail = log_tail(run_dir, "trial_0000", None)
    assert SECRET not in tail and "epoch 1 done" in tail
    assert "x.log not shown: it is a symbolic link" in tail
    with _serving(run_dir) as server:
        status, _, page = _get(server)
    assert status == 200 and SECRET not in page and "x.log not shown" in page
    report = write_html_report(run_dir).read_text()
    assert SECRET not in report and "x.log not shown" in report


@pytest.mark.parametrize("linked", ["trials", "trial folder"])
def test_a_linked_trials_folder_is_not_followed(run_dir, secret_file, linked):
    (secret_file.parent / "x.log").write_text(SECRET + "\n")
    if linked == "trials":
        (run_dir / "trials").symlink_to(secret_file.parent.parent)
        (secret_file.parent.parent / "trial_0000").symlink_to(secret_file.parent)
    else:
        (run_dir / "trials").mkdir()
        (run_dir / "trials" / "trial_0000").symlink_to(secret_file.parent)
    tail = log_tail(run_dir, "trial_0000", None)
    assert SECRET not in tail and "symbolic link" in tail
    assert SECRET not in write_html_report(run_dir).read_text()


def test_a_trial_id_that_climbs_out_of_the_folder_reads_nothing(tmp_path, secret_file):
    (secret_file.parent / "x.log").write_text(SECRET + "\n")
    run_dir = _write_store(tmp_path / "run", trial_ids=["../../outside", "a", "b"])
    (run_dir / "trials").mkdir()
    tail = log_tail(run_dir, "../../outside", None)
    assert SECRET not in tail and "not a plain folder name" in tail
    assert SECRET not in write_html_report(run_dir).read_text()


def test_a_fifo_named_like_a_log_is_refused_without_blocking(run_dir):
    folder = _trial_folder(run_dir)
    os.mkfifo(folder / "pipe.log")  # reading it would wait for a writer forever
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(log_tail(run_dir, "trial_0000", None)), daemon=True
    )
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "reading the log tail blocked on a FIFO"
    assert "pipe.log not shown: it is not a regular file" in result[0]


def test_only_the_end_of_a_big_log_is_read(run_dir):
    folder = _trial_folder(run_dir)
    (folder / "big.log").write_text("A" * (2 * TAIL_BYTES) + "\nlast line\n")
    tail = log_tail(run_dir, "trial_0000", None)
    assert tail == "last line"  # the cut first line is left out, not shown half


def test_a_linked_store_is_refused(tmp_path):
    other = _write_store(tmp_path / "other")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "sweep.db").symlink_to(other / "sweep.db")
    with pytest.raises(ValueError, match=r"sweep\.db is a symbolic link"):
        make_server([run_dir], port=0)
    with pytest.raises(ValueError, match="symbolic link"):
        write_html_report(run_dir)


# -- 2. the Host header --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.evil.example:{port}",
        "localhost:1",
        "127.0.0.1:{port}@evil.example",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(run_dir, host):
    with _serving(run_dir) as server:
        port = server.server_address[1]
        for path in ("/", "/api/state", "/api/body"):
            status, headers, body = _get(server, path, {"Host": host.format(port=port)})
            assert status == 421, (host, path)
            assert headers["Content-Type"].startswith("text/plain")
            assert "--allow-host" in body and "trial_0000" not in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_the_loopback_names_at_the_bound_port_are_served(run_dir, host):
    with _serving(run_dir) as server:
        port = server.server_address[1]
        status, _, body = _get(server, "/api/state", {"Host": host.format(port=port)})
    assert status == 200 and "trial_0000" in body


def test_allow_host_adds_a_name(run_dir):
    with _serving(run_dir, allowed_hosts=["dash.example.org", "other.example:9000"]) as server:
        ok = [_get(server, "/", {"Host": h})[0] for h in ("dash.example.org", "other.example:9000")]
        refused = _get(server, "/", {"Host": "other.example:9001"})[0]
    assert ok == [200, 200] and refused == 421


# -- 3. the security headers ---------------------------------------------------------------------


def _policy(headers: dict[str, str]) -> dict[str, str]:
    policy = headers["Content-Security-Policy"]
    return {d.split()[0]: d.strip() for d in policy.split(";") if d.strip()}


def test_every_response_carries_the_security_headers(run_dir):
    with _serving(run_dir, token=TOKEN) as server:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        responses = {
            "page": _get(server, "/", bearer),
            "body": _get(server, "/api/body", bearer),
            "state": _get(server, "/api/state", bearer),
            "not found": _get(server, "/nope", bearer),
            "no token": _get(server, "/"),
            "wrong host": _get(server, "/", {"Host": "evil.example"}),
            "not a GET": _get(server, "/", bearer, method="POST"),
        }
    statuses = {k: r[0] for k, r in responses.items()}
    assert statuses == {
        "page": 200,
        "body": 200,
        "state": 200,
        "not found": 404,
        "no token": 401,
        "wrong host": 421,
        "not a GET": 501,
    }
    for name, (_, headers, _) in responses.items():
        policy = _policy(headers)
        assert policy["default-src"] == "default-src 'none'", name
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", name
        assert policy["base-uri"] == "base-uri 'none'", name
        assert "unsafe-inline" not in headers["Content-Security-Policy"], name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "no-referrer", name


def test_the_page_policy_allows_exactly_its_own_script_and_style(run_dir):
    with _serving(run_dir) as server:
        _, headers, page = _get(server)
    policy = _policy(headers)
    tags = _parse(page)
    (script,) = tags.data["script"]
    (style,) = tags.data["style"]
    assert policy["script-src"] == f"script-src {source_hash(script)}"
    assert policy["style-src"] == f"style-src {source_hash(style)}"
    assert policy["connect-src"] == "connect-src 'self'"  # its refresh fetches api/body
    assert "fetch('api/body'" in script
    metas = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv")]
    assert metas and source_hash(script) in (metas[0]["content"] or "")


def test_the_static_report_carries_its_policy_in_a_meta_tag(run_dir):
    html = write_html_report(run_dir).read_text()
    tags = _parse(html)
    (meta,) = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv")]
    assert meta["http-equiv"] == "Content-Security-Policy"
    policy = {d.split()[0]: d.strip() for d in (meta["content"] or "").split(";")}
    (script,) = tags.data["script"]
    assert policy["default-src"] == "default-src 'none'"
    assert policy["script-src"] == f"script-src {source_hash(script)}"
    assert policy["connect-src"] == "connect-src 'none'"  # a static file fetches nothing
    assert "frame-ancestors" not in policy  # ignored (with a warning) in a <meta> policy


# -- 4. the token ------------------------------------------------------------------------------


def test_with_a_token_every_request_must_show_it(run_dir):
    with _serving(run_dir, token=TOKEN) as server:
        missing = _get(server, "/api/state")
        wrong = _get(server, "/api/state", {"Authorization": "Bearer " + "x" * len(TOKEN)})
        wrong_query = _get(server, "/?token=nope")
        bearer = _get(server, "/api/state", {"Authorization": f"Bearer {TOKEN}"})
        first = _get(server, f"/?token={TOKEN}")
        cookie = first[1]["Set-Cookie"]
        name_value = cookie.split(";")[0]
        by_cookie = _get(server, "/api/body", {"Cookie": name_value})
        wrong_cookie = _get(server, "/api/body", {"Cookie": name_value[:-1] + "?"})
    for refused in (missing, wrong, wrong_query, wrong_cookie):
        assert refused[0] == 401 and "trial_0000" not in refused[2]
        assert refused[1]["WWW-Authenticate"].startswith("Bearer")
    assert bearer[0] == 200 and "trial_0000" in bearer[2]
    assert first[0] == 200 and "trial_0000" in first[2]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= {p.strip() for p in cookie.split(";")}
    assert by_cookie[0] == 200 and "trial_0000" in by_cookie[2]
    assert server.url.endswith(f"/?token={TOKEN}")


def test_the_token_is_compared_in_constant_time(run_dir, monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(access_module.hmac, "compare_digest", spy)
    with _serving(run_dir, token=TOKEN) as server:
        assert _get(server, "/", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert (TOKEN.encode(), TOKEN.encode()) in calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "dashboard.example.org"])
def test_a_host_reachable_from_elsewhere_needs_a_token(run_dir, host):
    with pytest.raises(ValueError, match="reachable from other machines: give it a token"):
        make_server([run_dir], host=host, port=0)  # refused before anything is bound


def test_a_loopback_dashboard_needs_no_token(run_dir):
    with _serving(run_dir) as server:
        assert _get(server, "/api/state")[0] == 200
        assert "token" not in server.url


# -- 5. bad flags: one line, exit 2 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--port", "99999"], "argument --port: must be a whole number from 0 to 65535"),
        (["--port", "-1"], "argument --port: must be a whole number from 0 to 65535"),
        (["--port", "eighty"], "argument --port: must be a whole number from 0 to 65535"),
        (["--token", "short"], "argument --token: must be at least 16 characters"),
        (["--token", "a b c d e f g h i j k"], "argument --token: must be at least 16"),
        (["--allow-host", "evil.example/x"], "argument --allow-host: takes a host name"),
        (["--allow-host", ""], "argument --allow-host: takes a host name"),
        (["--host", ""], "argument --host: must be an address or a name"),
    ],
)
def test_a_bad_dashboard_flag_is_one_line_and_exit_2(run_dir, capsys, flags, expected):
    assert main(["dashboard", str(run_dir), *flags]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err


def test_a_port_out_of_range_from_a_real_command_line(run_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", "dashboard", str(run_dir), "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if ln.strip()] == [
        "automl-vision: error: argument --port: must be a whole number from 0 to 65535, got "
        "'99999' (see automl-vision dashboard --help)"
    ]


def test_make_server_checks_the_port_itself(run_dir):
    with pytest.raises(ValueError, match="port must be a whole number from 0 to 65535"):
        make_server([run_dir], port=99999)


# -- 6. report.html on a full disk ---------------------------------------------------------------


def _full_disk(monkeypatch) -> None:
    """The disk fills up while report.html is written (the data does not reach it)."""

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)


def test_a_full_disk_leaves_the_previous_report_whole_and_names_it(run_dir, monkeypatch):
    target = run_dir / "report.html"
    target.write_text("the previous report")
    _full_disk(monkeypatch)
    with pytest.raises(OSError) as raised:
        write_html_report(run_dir)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(target)
    assert target.read_text() == "the previous report"
    assert sorted(p.name for p in run_dir.iterdir() if "report" in p.name) == ["report.html"]


def test_report_html_on_a_full_disk_is_one_line_naming_the_file(run_dir, monkeypatch, capsys):
    _full_disk(monkeypatch)
    assert main(["report", str(run_dir), "--html"]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    # the first output written (metrics.json) meets the full disk and is named
    assert f"cannot write {run_dir / 'metrics.json'} (No space left on device)" in lines[0]
    assert not (run_dir / "report.html").exists()
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


# -- 7. hostile and garbage content of the store -------------------------------------------------


HOSTILE_FIELDS = [
    "param",
    "metric_name",
    "note",
    "node",
    "reason",
    "error",
    "decision",
    "event",
    "definition",
    "setting",
]


@pytest.mark.parametrize("field", [*HOSTILE_FIELDS, "trial_id", "metric"])
def test_hostile_text_from_the_store_is_escaped(tmp_path, field):
    if field == "trial_id":
        run_dir = _write_store(tmp_path / "run", trial_ids=[XSS, XSS + "2", "t"])
    else:
        run_dir = _write_store(tmp_path / "run", **{field: XSS})
    report = write_html_report(run_dir).read_text()
    _assert_no_injection(report)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    with _serving(run_dir) as server:
        for path in ("/", "/api/body"):
            status, _, html = _get(server, path)
            assert status == 200
            _assert_no_injection(html)
        status, headers, state = _get(server, "/api/state")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    if field != "event":  # the state has no events
        assert XSS in _strings(json.loads(state))  # data, as JSON (nosniff), never as HTML


def test_a_hostile_status_is_escaped(run_dir):
    db = sqlite3.connect(run_dir / "sweep.db", isolation_level=None)
    db.execute("UPDATE attempts SET status = ? WHERE trial_index = 0", (XSS,))
    db.close()
    html = write_html_report(run_dir).read_text()
    _assert_no_injection(html)


def test_no_inline_event_handler_is_rendered(run_dir):
    """A trial link opens its details through the page's script, not an onclick attribute
    (escaped text in an attribute is decoded before a handler runs)."""
    html = write_html_report(run_dir).read_text()
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert 'data-open="r0-trial_0000"' in html


def _corrupt(run_dir: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(run_dir / "sweep.db", isolation_level=None)
    db.execute(sql, args)
    db.close()


GARBAGE = {
    "params not JSON": (
        "UPDATE trials SET params = '{not json' WHERE trial_index = 1",
        "trial 1: params is not valid JSON",
    ),
    "params a list": (
        "UPDATE trials SET params = '[1, 2]' WHERE trial_index = 1",
        "trial 1: params is not a JSON object (got list)",
    ),
    "params nested deep": (
        "UPDATE trials SET params = ? WHERE trial_index = 1",
        "trial 1: params is nested more than 32 levels deep",
        '{"a": ' + "[" * 100 + "]" * 100 + "}",
    ),
    "params nested past the parser": (
        "UPDATE trials SET params = ? WHERE trial_index = 1",
        "trial 1: params is nested more than 32 levels deep",
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ),
    "a huge number": (
        "UPDATE trials SET params = ? WHERE trial_index = 1",
        "trial 1: params holds a number too large for a float",
        '{"lr": 1' + "0" * 400 + "}",
    ),
    "a number of 5000 digits": (
        "UPDATE trials SET params = ? WHERE trial_index = 1",
        "trial 1: params is not valid JSON (Exceeds the limit",
        '{"lr": 1' + "0" * 5000 + "}",
    ),
    "metrics garbage": (
        "UPDATE reports SET metrics = 'NaN}' WHERE seq = 2",
        "report 2: metrics is not valid JSON",
    ),
    "value text": (
        "UPDATE attempts SET value = 'lots' WHERE trial_index = 2",
        "trial 2: value must be a number or NULL, got text 'lots'",
    ),
    "step text": (
        "UPDATE reports SET step = 'first' WHERE seq = 4",
        "report 4: step must be a whole number, got text 'first'",
    ),
    "started_at blob": (
        "UPDATE attempts SET started_at = x'00ff' WHERE trial_index = 0",
        "trial 0: started_at must be a time in seconds or NULL, got binary data",
    ),
    "trial id blob": (
        "UPDATE trials SET trial_id = x'3c7363726970743e' WHERE trial_index = 0",
        "trial 0: trial_id must be text, got binary data",
    ),
    "goal hostile": (
        "UPDATE meta SET value = ? WHERE key = 'goal'",
        "meta 'goal' must be 'maximize' or 'minimize', got '<script>",
        json.dumps("<script>alert(1)</script>"),
    ),
    "settings a list": (
        "UPDATE meta SET value = '[1]' WHERE key = 'settings'",
        "meta 'settings' must be a JSON object, got list",
    ),
    "artifacts a string": (
        "UPDATE attempts SET artifacts = '\"x\"' WHERE trial_index = 0",
        "trial 0: artifacts is not a JSON object (got str)",
    ),
    "event time text": (
        "UPDATE events SET time = 'noon'",
        "event 1: time must be a time in seconds or NULL, got text 'noon'",
    ),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_a_garbage_store_is_refused_with_one_line(run_dir, case):
    sql, expected, *args = GARBAGE[case]
    _corrupt(run_dir, sql, *args)
    with pytest.raises(SnapshotError) as raised:
        load_snapshot(run_dir)
    message = str(raised.value)
    assert message.startswith(f"{run_dir / 'sweep.db'}: ") and expected in message, message
    assert "\n" not in message and len(message) < 400
    with pytest.raises(SnapshotError):
        write_html_report(run_dir)
    with _serving(run_dir) as server:
        status, headers, body = _get(server, "/")
    assert status == 503 and headers["Content-Type"].startswith("text/plain")
    assert expected in body and "<script>" not in body.replace("'<script>", "")


def test_a_file_that_is_not_a_store_is_refused_with_one_line(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "sweep.db").write_bytes(b"<script>alert(1)</script>" * 100)
    with pytest.raises(SnapshotError, match=r"sweep\.db is not a readable sweep store"):
        load_snapshot(run_dir)


def test_times_no_calendar_holds_are_shown_as_a_dash(run_dir):
    _corrupt(run_dir, "UPDATE events SET time = 1e300")
    _corrupt(run_dir, "UPDATE attempts SET started_at = -1e300, finished_at = 1e300")
    html = write_html_report(run_dir).read_text()
    assert "<td>-</td><td>note</td>" in html


# -- the page still works under its policy, in a real browser -----------------------------------


def _chromium() -> str | None:
    return next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )


@pytest.mark.slow
def test_the_page_refreshes_under_its_policy_in_chromium(run_dir, tmp_path, caplog):
    """The live page's script runs (it fetches api/body, with the cookie its ?token= set) and
    the browser reports no Content-Security-Policy violation."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH")
    caplog.set_level("DEBUG", logger="automl_vision.dashboard.server")
    with _serving(run_dir, token=TOKEN, refresh=0.5) as server:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                server.url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    fetched = [r.getMessage() for r in caplog.records if "/api/body" in r.getMessage()]
    assert fetched and all('" 200 ' in m for m in fetched), fetched
    assert "Content Security Policy" not in done.stderr, done.stderr[-3000:]
    assert 'data-status="COMPLETED"' in done.stdout
