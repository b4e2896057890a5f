"""The live dashboard: a standard-library HTTP server over read-only snapshots of run dirs.

Each request opens the stores afresh (read-only, short-lived), so the page always shows what the
sweeps have recorded and never holds a lock a writer waits on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from automl_vision.dashboard.render import render_body, render_page
from automl_vision.dashboard.snapshot import load_snapshot, store_path

__all__ = ["DashboardServer", "make_server"]

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], run_dirs: Sequence[Path], refresh: float) -> None:
        self.run_dirs = list(run_dirs)
        self.refresh = refresh
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, body: str, content_type: str, status: int = 200) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        try:
            runs = [load_snapshot(d) for d in self.server.run_dirs]
            if path == "/":
                title = "automl-vision · " + ", ".join(
                    d.name or str(d) for d in self.server.run_dirs
                )
                self._send(render_page(runs, title, self.server.refresh), "text/html")
            elif path == "/api/body":
                self._send(render_body(runs), "text/html")
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
            self._send(f"cannot read the sweep right now: {err}", "text/plain", 503)


def make_server(
    run_dirs: Sequence[str | Path],
    host: str = "127.0.0.1",
    port: int = 8080,
    refresh: float = REFRESH_SECONDS,
) -> DashboardServer:
    """Check every run dir holds a sweep, then bind; ValueError / OSError with one clear message."""
    dirs = [Path(d) for d in run_dirs]
    for d in dirs:
        store_path(d)
    try:
        return DashboardServer((host, port), dirs, refresh)
    except OSError as err:
        raise OSError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); choose another --port"
        ) from err
