"""Our providers as the token_provider of the real h2ogpte client (in its own virtualenv)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop import h2ogpte_peer
from tests.support.answers import token_body
from tests.support.discovery_server import CloudServer
from tests.support.loopback import LoopbackServer, Request, Response

META = {
    "version": h2ogpte_peer.H2OGPTE_VERSION,
    "build": "test",
    "username": "alice",
    "user_id": "u-1",
    "subject": "alice",
    "email": "alice@example.com",
    "is_guest": False,
    "license_expired": False,
    "license_expiry_date": "2099-01-01",
    "global_configs": [],
    "user_configs": [],
    "picture": None,
    "groups": None,
    "workspaces": None,
    "permissions": [],
    "ui_config": {
        "logo": "",
        "chat_logo": "",
        "primary_color": "",
        "chat_name": "",
        "greeting": "",
        "show_private_button": False,
        "show_workers_status": False,
        "show_live_logs": False,
        "show_eval": False,
        "show_extractors": False,
        "public_mode": False,
    },
}


def h2ogpte_server(request: Request) -> Response:
    """h2oGPTe's meta and session endpoints; the first path segment names the case."""
    _, case, path = request.path.split("/", 2)
    if path == "api/v1/auth/session/capabilities":
        if case.endswith("cookie"):
            return Response(200, {"session_endpoint": "/api/v1/auth/session"})
        return Response(404, {"detail": "Not Found"})
    if path == "api/v1/auth/session":
        return Response(201, {"csrf_token": "x"}, {"Set-Cookie": "h2ogpte.session=sid"})
    if path == "rpc/meta":
        return Response(200, META)
    return Response(404, {"detail": "Not Found"})


KINDS = ["TokenProvider", "RefreshTokenProvider", "ClientCredentialsTokenProvider", "AuthCache"]
MODES = ["legacy", "cookie"]
CASES = [f"{kind}-{mode}" for kind in KINDS for mode in MODES]


@pytest.fixture(scope="module")
def h2ogpte_run() -> Iterator[tuple[LoopbackServer, dict[str, dict[str, Any]]]]:
    """Every case through the real h2ogpte client, in one process; (h2oGPTe server, reports)."""
    try:
        h2ogpte_peer.ensure_venv()
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"the h2ogpte virtualenv could not be built: {exc}")
        pytest.skip(f"the h2ogpte virtualenv could not be built: {exc}")
    cloud = CloudServer().start()
    tokens = LoopbackServer(Response(200, token_body("cc-token", 3600)))
    api = LoopbackServer(h2ogpte_server)
    tokens.start()
    api.start()
    try:
        specs = []
        for case in CASES:
            kind = case.rsplit("-", 1)[0]
            cloud.state.valid_refresh_tokens.add(f"rt-{case}")
            uses_refresh = kind in ("TokenProvider", "RefreshTokenProvider")
            specs.append(
                {
                    "provider": kind,
                    "address": f"{api.url}/{case}",
                    "token_url": cloud.token_url if uses_refresh else tokens.url + "/token",
                    "refresh_token": f"rt-{case}",
                }
            )
        reports = h2ogpte_peer.run(specs)
        yield api, dict(zip(CASES, reports))
    finally:
        api.stop()
        tokens.stop()
        cloud.stop()


@pytest.mark.parametrize("case", CASES)
def test_works_as_token_provider_of_the_real_h2ogpte_client(
    h2ogpte_run: tuple[LoopbackServer, dict[str, dict[str, Any]]], case: str
) -> None:
    api, reports = h2ogpte_run
    report = reports[case]
    assert report["username"] == "alice"
    assert "h2oauth_lite" in report["h2oauth_lite_modules"]  # really this library's provider
    seen = [r for r in api.requests if r.path.startswith(f"/{case}/")]
    meta = [r for r in seen if r.path == f"/{case}/rpc/meta"]
    assert len(meta) == 2  # the client's version check, then get_meta()
    for request in meta:
        value = request.header("Authorization") or ""
        assert value.startswith("Bearer-Token ")
        token = value[len("Bearer-Token ") :]
        if case.startswith(("ClientCredentials", "AuthCache")):
            assert token == "cc-token"
        else:
            assert token.startswith("at-")
        assert request.header("Session-Id")
    # The client asked whether cookie sessions exist; where they do, it found no refresh
    # token on the provider to open one with, so none reached the h2oGPTe server.
    assert [r.path for r in seen if r.path.endswith("/capabilities")] == [
        f"/{case}/api/v1/auth/session/capabilities"
    ]
    assert [r for r in seen if r.path.endswith("/api/v1/auth/session")] == []
    assert all(b"rt-" not in r.body for r in seen)
