"""token_body(): a plain token answer; scripted loopback answers; a port nobody listens on."""

from __future__ import annotations

import socket
import threading
from typing import Any

from tests.support.loopback import Outcome, Request, Response


def token_body(
    access_token: str = "tok-1",
    expires_in: Any = 300,
    *,
    token_type: str = "Bearer",
    **extra: Any,
) -> dict[str, Any]:
    """A plain token answer (RFC 6749 5.1); ``expires_in=None`` leaves the member out.

    ``extra`` adds members (``refresh_token=``, ``scope=``, ``id_token=``...).
    A test about an odd shape (a member missing, of the wrong type) writes its
    body out by hand instead, so the oddity is visible where it is tested.
    """
    body: dict[str, Any] = {"access_token": access_token, "token_type": token_type}
    if expires_in is not None:
        body["expires_in"] = expires_in
    body.update(extra)
    return body


class Script:
    """Answers requests with ``outcomes`` in order; the last one repeats forever."""

    def __init__(self, *outcomes: Outcome) -> None:
        self._outcomes = list(outcomes)
        self._lock = threading.Lock()
        self.seen: list[Request] = []

    def __call__(self, request: Request) -> Outcome:
        with self._lock:
            self.seen.append(request)
            if len(self._outcomes) > 1:
                return self._outcomes.pop(0)
            return self._outcomes[0]

    def then(self, *outcomes: Outcome) -> None:
        """Replace what is still to come."""
        with self._lock:
            self._outcomes = list(outcomes)


def good(access_token: str = "tok-1", expires_in: Any = 300) -> Response:
    return Response(200, token_body(access_token, expires_in))


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
