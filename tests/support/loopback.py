"""A real HTTP/1.1 server on 127.0.0.1 for answers a real provider would not give.

Tests hand it a function from :class:`Request` to :class:`Response` (or to one
of the misbehaviours below) and then talk to ``server.url`` over real TCP, so
the client's timeouts, retries, keep-alive and error mapping are exercised for
real rather than through a patched ``requests``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]
    client_address: tuple[str, int]

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: Union[bytes, str, Mapping[str, Any], list[Any]] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(self.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        return data, headers


class _Action:
    def __init__(
        self, name: str, status: int = 200, body: bytes = b"", interval: float = 0.0
    ) -> None:
        self.name = name
        self.status = status
        self.body = body
        self.interval = interval

    def __repr__(self) -> str:
        return f"<{self.name}>"


NEVER_ANSWER = _Action("never answer")
"""Read the request, then hold the connection open without a byte until shutdown."""

RESET = _Action("reset")
"""Read the request, then abort the TCP connection (RST)."""


def close_mid_body(status: int = 200, body: bytes = b'{"access_token": "abc') -> _Action:
    """Send headers announcing more body than is sent, then close."""
    return _Action("close mid-body", status, body)


CLOSE_MID_BODY = close_mid_body()


def drip(body: bytes, interval: float, status: int = 200) -> _Action:
    """Announce the whole body, then send it one byte per ``interval`` seconds."""
    return _Action("drip", status, body, interval)

Outcome = Union[Response, _Action]
Handler = Callable[[Request], Outcome]


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that clients keep connections alive and reuse can be counted.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK and every kept-alive request takes about 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.track_connection(self.client_address, self.connection)

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form: dict[str, str] = {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            body=body,
            form=form,
            client_address=(str(self.client_address[0]), int(self.client_address[1])),
        )
        self.server.record(request)
        try:
            outcome = self.server.handler(request)
        except Exception as exc:  # a broken test handler should read as a 500, not a hang
            outcome = Response(500, f"handler raised {exc!r}")
        if isinstance(outcome, _Action):
            self._misbehave(outcome)
            return
        if outcome.delay > 0 and self.server.stopping.wait(outcome.delay):
            self.close_connection = True
            return
        data, headers = outcome.encoded()
        self.send_response(outcome.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _misbehave(self, action: _Action) -> None:
        self.close_connection = True
        if action is NEVER_ANSWER:
            self.server.stopping.wait()
            return
        if action is RESET:
            # SO_LINGER with a zero timeout turns close() into a TCP reset.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            return
        if action.name == "drip":
            self._drip(action)
            return
        self.send_response(action.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(action.body) + 100))
        self.end_headers()
        self.wfile.write(action.body)
        self.wfile.flush()

    def _drip(self, action: _Action) -> None:
        self.send_response(action.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(action.body)))
        self.end_headers()
        self.wfile.flush()
        for byte in action.body:
            if self.server.stopping.wait(action.interval):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client gave up
                return

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 drops the SYNs of a burst of new connections,
    # which then wait a second for the retransmit: a stall no real server shows.
    request_queue_size = 128

    def __init__(self, handler: Handler) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.handler = handler
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.peers: set[tuple[str, int]] = set()
        self.sockets: set[socket.socket] = set()

    def track_connection(self, address: Any, sock: socket.socket) -> None:
        with self.lock:
            self.peers.add((str(address[0]), int(address[1])))
            self.sockets.add(sock)

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.sockets.discard(request)
        super().shutdown_request(request)


class LoopbackServer:
    """Threaded HTTP/1.1 server on 127.0.0.1:<free port>; a context manager.

    ``handler(request)`` returns a :class:`Response`, or :data:`NEVER_ANSWER`,
    :data:`RESET`, :func:`close_mid_body` or :func:`drip`. A plain ``Response`` (or dict)
    passed instead of a callable is answered to every request.
    """

    def __init__(
        self,
        handler: Union[Handler, Response, Mapping[str, Any]],
        *,
        tls: Optional[ssl.SSLContext] = None,
    ) -> None:
        # A server-side TLS context turns the server into https (certificates made by the test).
        self._tls = tls
        if isinstance(handler, Response):
            fixed: Response = handler
            self.handler: Handler = lambda _request: fixed
        elif isinstance(handler, Mapping):
            fixed_body = dict(handler)
            self.handler = lambda _request: Response(200, fixed_body)
        else:
            self.handler = handler
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    def start(self) -> LoopbackServer:
        server = _Server(lambda request: self.handler(request))
        if self._tls is not None:
            server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        with server.lock:
            sockets = list(server.sockets)
        for sock in sockets:
            # Held connections would otherwise keep their client waiting.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def _live(self) -> _Server:
        if self._server is None:
            raise RuntimeError("LoopbackServer is not running")
        return self._server

    @property
    def port(self) -> int:
        port: int = self._live().server_address[1]
        return port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        scheme = "http" if self._tls is None else "https"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Request]:
        server = self._live()
        with server.lock:
            return list(server.requests)

    @property
    def connections(self) -> int:
        """Distinct TCP connections accepted so far (distinct client ports)."""
        server = self._live()
        with server.lock:
            return len(server.peers)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.requests
            if len(seen) >= count:
                return seen
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, saw {len(self.requests)}")


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    """Factory: ``loopback(handler)`` starts a :class:`LoopbackServer`; all stop at teardown."""
    started: list[LoopbackServer] = []

    def factory(
        handler: Union[Handler, Response, Mapping[str, Any]], **options: Any
    ) -> LoopbackServer:
        server = LoopbackServer(handler, **options).start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in reversed(started):
            server.stop()
