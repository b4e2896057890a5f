"""The live dashboard: a standard-library HTTP server over read-only snapshots of run dirs.

Each request opens the stores afresh (read-only, short-lived), so the page always shows what the
sweeps have recorded and never holds a lock a writer waits on. A benchmark directory (a folder
holding ``leaderboard.json``, or a folder whose subfolders are) is shown as a benchmark section
beside the sweeps (``benchmark.py``), its leaderboard read afresh on each request too. Before anything is read, the
request's ``Host`` and token are checked (``access.py``); every response carries a
Content-Security-Policy and the other security headers (``csp.py``).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Sequence
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlparse

from automl_vision.dashboard.access import (
    Access,
    Admission,
    check_allowed_host,
    check_port,
    check_token,
    is_loopback,
)
from automl_vision.dashboard.benchmark import benchmark_dirs, load_leaderboard, render_benchmark
from automl_vision.dashboard.csp import SECURITY_HEADERS, STRICT_POLICY
from automl_vision.dashboard.render import page_csp, render_body, render_page
from automl_vision.dashboard.snapshot import STORE_FILENAME, load_snapshot, store_path

__all__ = ["DashboardServer", "make_server"]

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: seconds a connection may stay silent before it is closed (a slow client holds no thread)
IDLE_SECONDS = 30


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        run_dirs: Sequence[Path],
        refresh: float,
        token: str | None = None,
        allowed_hosts: Sequence[str] = (),
        bench_dirs: Sequence[Path] = (),
    ) -> None:
        self.run_dirs = list(run_dirs)
        self.bench_dirs = list(bench_dirs)
        self.refresh = refresh
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.access = Access(address[0], self.server_address[1], token, tuple(allowed_hosts))

    @property
    def url(self) -> str:
        """The page's address (with ``?token=`` when the dashboard has one)."""
        host, port = self.server_address[:2]
        name = f"[{host}]" if ":" in host else host
        token = self.access.token
        return f"http://{name}:{port}/" + (f"?token={quote(token)}" if token else "")


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    timeout = IDLE_SECONDS
    _policy = STRICT_POLICY
    _cookie: str | None = None

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def end_headers(self) -> None:
        """Every response, errors included, carries the policy and the security headers."""
        self.send_header("Content-Security-Policy", self._policy)
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        if self._cookie:
            self.send_header("Set-Cookie", self._cookie)
        super().end_headers()

    def _send(self, body: str, content_type: str, status: int = 200) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="automl-vision dashboard"')
        self.end_headers()
        self.wfile.write(data)

    def _admitted(self, query: str) -> bool:
        """Answer a request that may not be served (421 / 401); True for one that may."""
        admission = self.server.access.admit(self.headers, query)
        if admission is Admission.WRONG_HOST:
            self._send(
                "this dashboard does not answer to that Host; start it with --allow-host NAME "
                "to open it under another name\n",
                "text/plain",
                421,
            )
            return False
        if admission is Admission.NO_TOKEN:
            self._send(
                "this dashboard needs its token: open the address it printed when it started "
                "(...?token=...) or send Authorization: Bearer TOKEN\n",
                "text/plain",
                401,
            )
            return False
        if admission is Admission.SERVE_AND_SET_COOKIE:
            self._cookie = self.server.access.set_cookie()
        return True

    def do_GET(self) -> None:
        self._policy, self._cookie = STRICT_POLICY, None
        url = urlparse(self.path)
        path = url.path
        if not self._admitted(url.query):
            return
        try:
            runs = [load_snapshot(d) for d in self.server.run_dirs]
            benches = [
                render_benchmark(load_leaderboard(d), d, f"b{i}")
                for i, d in enumerate(self.server.bench_dirs)
            ]
            if path == "/":
                title = "automl-vision · " + ", ".join(
                    d.name or str(d) for d in [*self.server.run_dirs, *self.server.bench_dirs]
                )
                self._policy = page_csp(self.server.refresh)
                self._send(render_page(runs, title, self.server.refresh, benches), "text/html")
            elif path == "/api/body":
                self._send(render_body(runs, benches), "text/html")
            elif path == "/api/state":
                state = [
                    {
                        "run_dir": str(r.run_dir),
                        "meta": r.meta,
                        "trials": [asdict(t) for t in r.trials],
                    }
                    for r in runs
                ]
                self._send(json.dumps(state, default=str), "application/json")
            else:
                self._send("not found", "text/plain", 404)
        except Exception as err:  # a store mid-write or gone: say so, keep serving
            log.warning("dashboard request %s failed: %s", path, err)
            self._policy = STRICT_POLICY
            self._send(f"cannot read the sweep right now: {err}", "text/plain", 503)


def make_server(
    run_dirs: Sequence[str | Path],
    host: str = "127.0.0.1",
    port: int = 8080,
    refresh: float = REFRESH_SECONDS,
    token: str | None = None,
    allowed_hosts: Sequence[str] = (),
) -> DashboardServer:
    """Check every run dir holds a sweep or a benchmark and the arguments, then bind;
    ValueError / OSError with one clear message. A host other than a loopback one needs a ``token``; with a token every
    request must show it. ``allowed_hosts``: more names the ``Host`` header may carry."""
    check_port(port)
    if not host:
        raise ValueError("host must be an address or a name (0.0.0.0 for every interface)")
    if token is not None:
        check_token(token)
    elif not is_loopback(host):
        raise ValueError(
            f"the dashboard on {host} would be reachable from other machines: give it a token "
            "(--token TOKEN; the command line makes one when none is given)"
        )
    for name in allowed_hosts:
        check_allowed_host(name)
    sweeps, benches = _sort_dirs([Path(d) for d in run_dirs])
    try:
        return DashboardServer((host, port), sweeps, refresh, token, allowed_hosts, benches)
    except socket.gaierror as err:
        raise OSError(f"cannot listen on {host} ({err.strerror or err}); check --host") from err
    except OSError as err:
        raise OSError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); choose another --port"
        ) from err


def _sort_dirs(dirs: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(sweep folders, benchmark folders) of the folders given: a folder with a ``sweep.db`` is a
    sweep; else a benchmark directory, or a folder whose subfolders are, gives those; else a
    ValueError saying the folder holds neither."""
    sweeps: list[Path] = []
    benches: list[Path] = []
    for d in dirs:
        db = d / STORE_FILENAME
        found = [] if db.is_symlink() or db.exists() else benchmark_dirs(d)
        if found:
            benches += found
        else:
            try:
                store_path(d)
            except ValueError:
                if db.is_symlink():
                    raise
                raise ValueError(
                    f"{str(d)!r} holds no sweep (no {STORE_FILENAME}) and no benchmark (no "
                    "leaderboard.json); give the output directory of an automl-vision tune or "
                    "benchmark run"
                ) from None
            sweeps.append(d)
    return sweeps, benches
