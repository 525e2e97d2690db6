"""The loopback listener that receives the browser's redirect after a login (RFC 8252).

It binds 127.0.0.1 only, on port 0 or the first free port of a list, and
serves one request at a time in the caller's thread, each connection with a
short socket timeout, so a silent browser or a port scanner cannot hold the
flow past its deadline.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlsplit

from ..errors import ConfigError

__all__ = ["Callback", "RedirectListener"]

_CONNECTION_TIMEOUT = 5.0
_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body><p>{text}</p></body></html>"
)

# Judges one callback: (status, page text, done). done=True ends the wait.
Callback = Callable[[dict[str, str]], tuple[int, str, bool]]


class _Server(HTTPServer):
    callback: Callback
    path: str
    finished: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _CONNECTION_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        return None  # the query holds the authorization code; never log it

    def do_GET(self) -> None:  # the name http.server dispatches to
        parts = urlsplit(self.path)
        if parts.path != self.server.path:
            self._answer(404, "Not found", "Nothing here.")
            return
        status, text, done = self.server.callback(dict(parse_qsl(parts.query)))
        self._answer(status, "Login", text)
        if done:
            self.server.finished = True

    def _answer(self, status: int, title: str, text: str) -> None:
        from html import escape

        body = _PAGE.format(title=escape(title), text=escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class RedirectListener:
    """``with RedirectListener(ports, path) as listener:`` then ``listener.redirect_uri``."""

    def __init__(self, ports: Sequence[int] = (0,), path: str = "/callback") -> None:
        if not ports:
            raise ConfigError("redirect_ports must name at least one port (0: any free port)")
        self.path = path if path.startswith("/") else "/" + path
        self._server = self._bind(ports)
        self._server.path = self.path

    @staticmethod
    def _bind(ports: Sequence[int]) -> _Server:
        for port in ports:
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise ConfigError(f"redirect port {port!r} is not a TCP port number")
        for port in ports:
            try:
                return _Server(("127.0.0.1", port), _Handler)
            except OSError:
                continue
        listed = ", ".join(str(port) for port in ports)
        raise ConfigError(
            f"cannot listen for the login redirect on 127.0.0.1: port(s) {listed} all in use; "
            "free one or configure other redirect_ports"
        )

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def wait(self, callback: Callback, remaining: Callable[[], float]) -> bool:
        """Serve requests until ``callback`` says done (True) or time is up (False)."""
        self._server.callback = callback
        self._server.finished = False
        while not self._server.finished:
            left = remaining()
            if left <= 0:
                return False
            self._server.timeout = min(left, 1.0)
            with contextlib.suppress(OSError, socket.timeout):
                self._server.handle_request()
        return True

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(self, *exc_info: Optional[object]) -> None:
        self.close()
