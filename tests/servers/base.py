"""A small local HTTP server for tests, benchmarks and the demo museum.

Every network source the project talks to gets a replay server built on this: a threaded
HTTP/1.1 server (keep-alive) on 127.0.0.1 and a free port, whose behaviour is one function
`app(request) -> Response`. A response can be delayed, dripped slowly, cut off, or be a
redirect, so fault tests need no real network. The server counts connections and requests so
tests can prove keep-alive and per-host limits.

    with ReplayServer(app) as server:
        requests.get(server.url + "/path")
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str  # decoded, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent
    drip: float = 0.0  # seconds between body chunks (a slow-drip server)
    reset: bool = False  # close the connection without answering

    @classmethod
    def json(cls, data: object, status: int = 200, **kwargs) -> Response:
        import json

        return cls(
            status, json.dumps(data).encode(), {"Content-Type": "application/json"}, **kwargs
        )

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, b"", {"Location": location})


App = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, handler, owner: ReplayServer):
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so tests can count connection reuse
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._count_connection()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def handle(self) -> None:
        # Clients that give up mid-answer are part of what we test.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = unquote(parts.path)  # as a real server does: %20 and UTF-8 escapes decoded
        request = Request(self.command, path, parse_qs(parts.query), dict(self.headers), body)
        owner = self.server.owner
        owner._count_request(request)
        response = owner.app(request)
        if response.delay:
            time.sleep(response.delay)
        if response.reset:
            self.close_connection = True
            self.connection.close()
            return
        chunks = [response.body] if isinstance(response.body, bytes) else list(response.body)
        self.send_response(response.status)
        headers = {"Content-Type": "application/octet-stream", **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for chunk in chunks:
                if response.drip:
                    time.sleep(response.drip)
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve


class ReplayServer:
    """Serve `app` on 127.0.0.1 (or `host`, e.g. "::1") on a free port, in a background thread."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.host = host
        self.port = port
        self.connections = 0
        self.requests: list[Request] = []
        self.paths: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReplayServer:
        server_class = _Server
        if ":" in self.host:
            import socket

            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _count_request(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self.paths[request.path] += 1
