"""H2OGPTEAuth: headers, credentials, the providers it takes (the real client: see interop/)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any, Callable

import pytest
import requests

import h2oauth_lite
from h2oauth_lite import H2OGPTEAuth
from tests.support.discovery_server import CloudServer
from tests.support.fakes import FakeProvider
from tests.support.loopback import LoopbackServer, Response

Factory = Callable[..., LoopbackServer]


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
    provider = FakeProvider(lifetime=None, prefix="token-")
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
        H2OGPTEAuth(api_key="", token_provider=FakeProvider())
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
