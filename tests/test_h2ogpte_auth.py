"""H2OGPTEAuth, and this library's providers as the token_provider of the real h2ogpte client."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import requests

import h2oauth_lite
from h2oauth_lite import H2OGPTEAuth
from tests import h2ogpte_peer
from tests.discovery_server import CloudServer
from tests.loopback import LoopbackServer, Request, Response

Factory = Callable[..., LoopbackServer]


class CountingProvider:
    """A token_provider that hands out a new token on every call."""

    def __init__(self) -> None:
        self.calls = 0

    def token(self) -> str:
        self.calls += 1
        return f"token-{self.calls}"


def test_api_key_header() -> None:
    assert H2OGPTEAuth(api_key="sk-123").headers() == {"Authorization": "Bearer sk-123"}


def test_azure_token_header_and_fixed_session_id() -> None:
    auth = H2OGPTEAuth(azure_token="entra-token")
    first, second = auth.headers(), auth.headers()
    assert first["Authorization"] == "Bearer-AD entra-token"
    assert first == second
    assert uuid.UUID(first["Session-Id"]).version == 4
    assert H2OGPTEAuth(azure_token="entra-token").headers()["Session-Id"] != first["Session-Id"]


def test_token_provider_is_asked_on_every_request() -> None:
    provider = CountingProvider()
    auth = H2OGPTEAuth(token_provider=provider)
    first, second = auth.headers(), auth.headers()
    assert first["Authorization"] == "Bearer-Token token-1"
    assert second["Authorization"] == "Bearer-Token token-2"
    assert first["Session-Id"] == second["Session-Id"] == auth.session_id


def test_more_than_one_credential_is_refused() -> None:
    message = (
        "api_key, token_provider, and azure_token are mutually exclusive. "
        "Please provide exactly one."
    )
    with pytest.raises(RuntimeError) as caught:
        H2OGPTEAuth(api_key="k", azure_token="a")
    assert str(caught.value) == message
    # An empty string is still a value: given.
    with pytest.raises(RuntimeError) as caught:
        H2OGPTEAuth(api_key="", token_provider=CountingProvider())
    assert str(caught.value) == message


def test_no_credential_is_refused() -> None:
    with pytest.raises(RuntimeError) as caught:
        H2OGPTEAuth()
    assert str(caught.value) == (
        "Please use either an API key, a Token provider, or an Azure token to authenticate."
    )


def test_a_provider_without_token_method_is_refused() -> None:
    with pytest.raises(TypeError, match=r"token\(\)"):
        H2OGPTEAuth(token_provider=object())  # type: ignore[arg-type]


def test_repr_hides_secrets() -> None:
    assert "sk-123" not in repr(H2OGPTEAuth(api_key="sk-123"))
    assert "entra" not in repr(H2OGPTEAuth(azure_token="entra-token"))


def test_requests_carry_a_fresh_token_from_token_provider(
    cloud: CloudServer, loopback: Factory
) -> None:
    api = loopback(Response(200, {"ok": True}))
    provider = h2oauth_lite.TokenProvider(
        refresh_token="rt-0", client_id="c", token_endpoint_url=cloud.token_url
    )
    auth = H2OGPTEAuth(token_provider=provider)
    with requests.Session() as session:
        session.get(api.url + "/api/v1/collections", auth=auth, timeout=5)
        session.get(api.url + "/api/v1/collections", auth=auth, timeout=5)
    seen = [r.header("Authorization") for r in api.requests]
    assert seen == ["Bearer-Token at-1", "Bearer-Token at-1"]
    assert {r.header("Session-Id") for r in api.requests} == {auth.session_id}
    assert len(cloud.token_requests()) == 1  # the second request was served from the cache


@pytest.mark.parametrize(
    "make",
    [
        lambda url: h2oauth_lite.TokenProvider(
            refresh_token="rt", client_id="c", token_endpoint_url=url
        ),
        lambda url: h2oauth_lite.RefreshTokenProvider(url, client_id="c", refresh_token="rt"),
        lambda url: h2oauth_lite.ClientCredentialsTokenProvider(
            url, client_id="c", client_secret="s"
        ),
        lambda url: h2oauth_lite.AuthCache(
            h2oauth_lite.ClientCredentialsTokenProvider(url, client_id="c", client_secret="s")
        ),
    ],
    ids=["TokenProvider", "RefreshTokenProvider", "ClientCredentialsTokenProvider", "AuthCache"],
)
def test_no_provider_exposes_a_refresh_token_attribute(make: Callable[[str], Any]) -> None:
    # h2ogpte sends the value of either attribute to its server to open a cookie session.
    provider = make("http://127.0.0.1:9/token")
    for name in ("refresh_token", "_refresh_token"):
        assert not hasattr(provider, name)
    assert callable(provider.token)


def test_our_modules_never_import_httpx() -> None:
    code = (
        "import sys, h2oauth_lite\n"
        "from h2oauth_lite import TokenProvider, H2OGPTEAuth, discover, AuthCache\n"
        "import h2oauth_lite.h2o.discovery, h2oauth_lite.auth.token_provider\n"
        "import h2oauth_lite.h2o.h2ogpte\n"
        "bad = [m for m in ('httpx', 'anyio', 'asyncio', 'attrs') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# -- the real h2ogpte client ----------------------------------------------------------

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
    tokens = LoopbackServer(Response(200, {"access_token": "cc-token", "expires_in": 3600}))
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
