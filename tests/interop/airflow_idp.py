"""A token endpoint and a protected API on one loopback server, counting what they see.

It issues opaque access tokens (never JWTs: Airflow 3.3 masks ``eyJ...``
strings on its own, and a masking test must show the hook's doing), checks
the client secret, rotates refresh tokens and, like real servers with reuse
detection, revokes the whole family when a spent refresh token comes back.
The API under ``/api`` answers 200 to a live token and 401 to anything else.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote_plus

from tests.support.loopback import LoopbackServer, Request, Response

TOKEN_PATH = "/token"
API_PATH = "/api"


@dataclass
class Issued:
    access_token: str
    family: str
    at: float
    expires_at: float


@dataclass
class IdP:
    """State of the server; ``handle`` is the loopback handler."""

    client_id: str = "airflow-client"
    client_secret: str = field(default_factory=lambda: "secret-" + secrets.token_hex(12))
    lifetime: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: list[Issued] = field(default_factory=list)
    # refresh token -> (family, spent)
    refresh_tokens: dict[str, tuple[str, bool]] = field(default_factory=dict)
    revoked_families: set[str] = field(default_factory=set)
    reuse_detected: int = 0
    token_requests: int = 0
    failed_token_requests: int = 0
    api_calls: int = 0
    api_refusals: int = 0
    tokens_used: set[str] = field(default_factory=set)

    def seed(self) -> str:
        """A new refresh token starting a family of its own (what a user pastes)."""
        value = "seed-" + secrets.token_hex(16)
        with self.lock:
            self.refresh_tokens[value] = (value, False)
        return value

    def every_secret(self) -> list[str]:
        """Every value that must never appear in a log, XCom or message."""
        with self.lock:
            return [
                self.client_secret,
                *(item.access_token for item in self.issued),
                *self.refresh_tokens,
            ]

    def handle(self, request: Request) -> Response:
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request)
        if request.path.startswith(API_PATH):
            return self._api(request)
        return Response(404, {"error": "not_found"})

    def _client(self, request: Request) -> tuple[Optional[str], Optional[str]]:
        header = request.header("Authorization") or ""
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode("utf-8")
            client_id, _, secret = decoded.partition(":")
            return unquote_plus(client_id), unquote_plus(secret)
        return request.form.get("client_id"), request.form.get("client_secret")

    def _token(self, request: Request) -> Response:
        with self.lock:
            self.token_requests += 1
            client_id, secret = self._client(request)
            if client_id != self.client_id or secret != self.client_secret:
                self.failed_token_requests += 1
                return Response(401, {"error": "invalid_client", "error_description": "bad client"})
            grant = request.form.get("grant_type")
            body: dict[str, object]
            if grant == "client_credentials":
                family = "cc"
                body = {}
            elif grant == "refresh_token":
                presented = request.form.get("refresh_token", "")
                known = self.refresh_tokens.get(presented)
                if known is None or known[0] in self.revoked_families:
                    self.failed_token_requests += 1
                    return Response(400, {"error": "invalid_grant"})
                family, spent = known
                if spent:
                    self.reuse_detected += 1
                    self.revoked_families.add(family)
                    self.failed_token_requests += 1
                    return Response(400, {"error": "invalid_grant"})
                self.refresh_tokens[presented] = (family, True)
                rotated = "rt-" + secrets.token_hex(16)
                self.refresh_tokens[rotated] = (family, False)
                body = {"refresh_token": rotated}
            else:
                self.failed_token_requests += 1
                return Response(400, {"error": "unsupported_grant_type"})
            now = time.time()
            access = "opaque-" + secrets.token_hex(20)
            self.issued.append(Issued(access, family, now, now + self.lifetime))
            body.update(access_token=access, token_type="Bearer", expires_in=self.lifetime)
            return Response(200, body)

    def _api(self, request: Request) -> Response:
        header = request.header("Authorization") or ""
        value = header.partition(" ")[2]
        now = time.time()
        with self.lock:
            self.api_calls += 1
            live = any(
                item.access_token == value
                and item.expires_at > now
                and item.family not in self.revoked_families
                for item in self.issued
            )
            if not live:
                self.api_refusals += 1
                return Response(401, {"error": "invalid_token"})
            self.tokens_used.add(value)
        return Response(200, {"ok": True})

    def duplicates(self, window: float) -> int:
        """Token requests answered within ``window`` s of the previous one: refreshes
        that another process's fresh token would have made unnecessary."""
        with self.lock:
            times = sorted(item.at for item in self.issued)
        return sum(1 for before, after in zip(times, times[1:]) if after - before < window)

    def figures(self) -> dict[str, int]:
        with self.lock:
            return {
                "token_requests": self.token_requests,
                "tokens_issued": len(self.issued),
                "tokens_used_at_api": len(self.tokens_used),
                "api_calls": self.api_calls,
                "api_refusals": self.api_refusals,
                "failed_token_requests": self.failed_token_requests,
                "refresh_token_reuse": self.reuse_detected,
            }


def start_idp(**options: Any) -> tuple[IdP, LoopbackServer]:
    """An IdP on a started loopback server; the caller stops the server."""
    idp = IdP(**options)
    return idp, LoopbackServer(idp.handle).start()
