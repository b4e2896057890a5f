"""A Hugging Face hub on loopback for the weights tests: serves files in the layout
``huggingface_hub.hf_hub_download`` asks for (HEAD, then GET, on
``/{repo}/resolve/{revision}/{filename}``, answered with ``X-Repo-Commit``, ``ETag`` and
``Content-Length``) and counts every connection and request it gets. Also a port nobody listens
on, for an unreachable hub."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


@dataclass
class FakeHub:
    """``files``: ``"{repo}/{filename}"`` -> bytes. ``url``: the endpoint (``HF_ENDPOINT``)."""

    files: dict[str, bytes]
    url: str = ""
    connections: int = 0
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 30  # a client that connects and says nothing does not hold a thread for long

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, body: bool) -> None:
            with hub.lock:
                hub.requests.append(f"{self.command} {self.path}")
            repo_and_rest = self.path.split("?")[0].strip("/")
            repo, _, rest = repo_and_rest.partition("/resolve/")
            _revision, _, filename = rest.partition("/")
            data = hub.files.get(f"{repo}/{filename}")
            if data is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

    return Handler


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        super().__init__(("127.0.0.1", 0), _handler(hub))

    def verify_request(self, request: object, client_address: object) -> bool:
        with self.hub.lock:
            self.hub.connections += 1  # the reachability probe counts too
        return True


@contextmanager
def serve_hub(files: dict[str, bytes]) -> Iterator[FakeHub]:
    """The hub, served from a thread for the ``with`` block, stopped at its end."""
    hub = FakeHub(files)
    server = _CountingServer(hub)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def silent_hub() -> Iterator[str]:
    """An endpoint that accepts connections and never answers: a hub that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=30)
        for conn in held:
            conn.close()
        server.close()
