"""A loopback H2O Cloud: discovery service, OpenID metadata and a rotating refresh-token endpoint.

One :class:`CloudServer` plays the whole environment on 127.0.0.1: it serves
``/.ai.h2o.cloud.discovery/v1/*`` (camelCase, paged), the issuer's
``/.well-known/openid-configuration`` and ``/token``, which accepts each
refresh token once (rotation) and counts what it was sent.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest

from tests.support.answers import token_body
from tests.support.loopback import LoopbackServer, Outcome, Request, Response

DISCOVERY_PREFIX = "/.ai.h2o.cloud.discovery"


@dataclass
class CloudState:
    """What the server answers; tests change it freely before or between calls."""

    clients: dict[str, str] = field(
        default_factory=lambda: {"platform": "platform-client-id", "cli": "cli-client-id"}
    )
    services: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "h2ogpte": {"uri": "https://h2ogpte.example", "oauth2Scope": "h2ogpte"},
            "mlops": {"uri": "https://mlops.example", "version": "1.2.3"},
            "drive": {"uri": "https://drive.example", "pythonClient": "h2o-drive==1.0"},
        }
    )
    links: Optional[dict[str, str]] = field(default_factory=lambda: {"docs": "https://docs"})
    components: Optional[dict[str, str]] = field(default_factory=lambda: {"authz": "2.0.0"})
    page_size: int = 2
    version: str = "MC 25.10.0"
    platform_scope: str = "openid offline_access h2o-platform"
    # Token endpoint behaviour.
    valid_refresh_tokens: set[str] = field(default_factory=lambda: {"rt-0"})
    rotate: bool = True
    expires_in: Any = 3600
    token_delay: float = 0.0
    token_answer: Optional[Callable[[Request], Outcome]] = None


class CloudServer:
    """The loopback environment; ``url`` is both the environment and the issuer."""

    def __init__(self, state: Optional[CloudState] = None) -> None:
        self.state = state or CloudState()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._handle)

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> CloudServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def discovery_url(self) -> str:
        return self.url + DISCOVERY_PREFIX

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def token_requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.method == "POST" and r.path == "/token"]

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.server.requests if r.path == path]

    # -- answers ------------------------------------------------------------

    def _handle(self, request: Request) -> Outcome:
        if request.path == "/.well-known/openid-configuration":
            return Response(200, {"issuer": self.url, "token_endpoint": self.token_url})
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.path.startswith(DISCOVERY_PREFIX + "/v1/"):
            return self._discovery(request, request.path[len(DISCOVERY_PREFIX) + 4 :])
        return Response(404, {"code": 5, "message": "Not Found"})

    def _token(self, request: Request) -> Outcome:
        state = self.state
        if state.token_answer is not None:
            return state.token_answer(request)
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        with self._lock:
            presented = form.get("refresh_token", "")
            if presented not in state.valid_refresh_tokens:
                return Response(
                    400,
                    {"error": "invalid_grant", "error_description": "refresh token is not valid"},
                )
            number = next(self._counter)
            body = token_body(f"at-{number}", state.expires_in)
            if state.rotate:
                state.valid_refresh_tokens.discard(presented)
                state.valid_refresh_tokens.add(f"rt-{number}")
                body["refresh_token"] = f"rt-{number}"
        if form.get("scope"):
            body["scope"] = form["scope"]
        return Response(200, body, delay=state.token_delay)

    def _discovery(self, request: Request, collection: str) -> Outcome:
        state = self.state
        if collection == "environment":
            return Response(
                200,
                {
                    "environment": {
                        "h2oCloudEnvironment": self.url,
                        "issuerUrl": self.url,
                        "h2oCloudPlatformOauth2Scope": state.platform_scope,
                        "h2oCloudVersion": state.version,
                    }
                },
            )
        records: Optional[list[dict[str, Any]]]
        if collection == "clients":
            records = [
                {"name": f"clients/{key}", "displayName": key.title(), "oauth2ClientId": cid}
                for key, cid in state.clients.items()
            ]
        elif collection == "services":
            records = [
                {"name": f"services/{key}", "displayName": key.upper(), **fields}
                for key, fields in state.services.items()
            ]
        elif collection == "links":
            records = (
                None
                if state.links is None
                else [
                    {"name": f"links/{key}", "uri": uri, "text": key}
                    for key, uri in state.links.items()
                ]
            )
        elif collection == "components":
            records = (
                None
                if state.components is None
                else [
                    {"name": f"components/{key}", "displayName": key, "version": version}
                    for key, version in state.components.items()
                ]
            )
        else:
            records = None
        if records is None:
            return Response(404, {"code": 5, "message": "Not Found"})
        start = int(request.query.get("pageToken") or 0)
        page: dict[str, Any] = {collection: records[start : start + state.page_size]}
        if start + state.page_size < len(records):
            page["nextPageToken"] = str(start + state.page_size)
        return Response(200, page)


@pytest.fixture
def cloud() -> Iterator[CloudServer]:
    """A running :class:`CloudServer` with the default records."""
    server = CloudServer().start()
    try:
        yield server
    finally:
        server.stop()
