"""Revocation (RFC 7009) and introspection (RFC 7662): against oidc-provider with every
client authentication method, and against a loopback server for odd answers."""

from __future__ import annotations

from typing import Any

import pytest

from h2oauth_lite import (
    AuthCache,
    ClientCredentialsTokenProvider,
    ConfigError,
    InvalidTokenResponseError,
    RefreshTokenProvider,
    Token,
    TokenEndpointError,
)
from h2oauth_lite.grants.management import introspection_result, token_form
from tests.support.idp import ALL_CLIENTS, OIDCServer, auth_for
from tests.support.loopback import LoopbackServer, Request, Response

# -- pure ---------------------------------------------------------------------------------


def test_token_form() -> None:
    assert token_form("abc") == {"token": "abc"}
    assert token_form("abc", "refresh_token") == {
        "token": "abc",
        "token_type_hint": "refresh_token",
    }
    token = Token(access_token="at", refresh_token="rt")
    assert token_form(token) == {"token": "at", "token_type_hint": "access_token"}
    for bad in ("", "   "):
        with pytest.raises(ConfigError, match="token to revoke or introspect is required"):
            token_form(bad)
    with pytest.raises(ConfigError, match="token_type_hint must be a string"):
        token_form("abc", "")


def test_introspection_result_shape() -> None:
    assert introspection_result({"active": False}) == {"active": False}
    for bad in ([], "x", {"active": "yes"}, {}):
        with pytest.raises(InvalidTokenResponseError):
            introspection_result(bad)


# -- against oidc-provider -----------------------------------------------------------------

def _opaque_provider(oidc: OIDCServer, name: str, **options: Any) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=name,
        client_auth=auth_for(oidc, name),
        scope="api:read",
        extra_params={"resource": oidc.opaque_resource},
        allow_insecure_http=True,
        **options,
    )


@pytest.mark.interop
@pytest.mark.parametrize("name", ALL_CLIENTS)
def test_introspect_then_revoke_with_every_method(oidc: OIDCServer, name: str) -> None:
    provider = _opaque_provider(oidc, name)
    token = provider.get_token()
    assert token.access_token.count(".") != 2  # opaque, not a JWT
    info = provider.introspect(token)
    assert info["active"] is True
    assert info["client_id"] == name
    assert info["scope"] == "api:read"
    provider.revoke(token)
    assert provider.introspect(token.access_token, "access_token") == {"active": False}
    provider.revoke(token)  # a second time: unknown now, still success (RFC 7009 2.2)


@pytest.mark.interop
def test_revoking_an_unknown_token_is_success(oidc: OIDCServer) -> None:
    provider = _opaque_provider(oidc, "cc-basic")
    provider.revoke("never-issued-token-value")
    assert provider.introspect("never-issued-token-value")["active"] is False


@pytest.mark.interop
def test_wrong_client_credentials_fail_revocation(oidc: OIDCServer) -> None:
    provider = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id="cc-basic",
        client_secret="not-the-secret",
        allow_insecure_http=True,
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.revoke("whatever")
    assert caught.value.error == "invalid_client"


@pytest.mark.interop
def test_refresh_token_revocation(oidc: OIDCServer) -> None:
    tokens = oidc.login_code_flow("app-basic")
    entry = oidc.client("app-basic")
    provider = RefreshTokenProvider(
        issuer_url=oidc.issuer,
        client_id="app-basic",
        client_secret=entry["client_secret"],
        refresh_token=tokens["refresh_token"],
        allow_insecure_http=True,
    )
    refreshed = provider.get_token()  # rotates: the new refresh token is the live one
    assert refreshed.refresh_token
    assert provider.introspect(refreshed.refresh_token, "refresh_token")["active"] is True
    provider.revoke(refreshed.refresh_token, "refresh_token")
    assert provider.introspect(refreshed.refresh_token, "refresh_token")["active"] is False
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_grant"


@pytest.mark.interop
def test_explicit_endpoints_without_discovery(oidc: OIDCServer) -> None:
    entry = oidc.client("cc-post")
    provider = ClientCredentialsTokenProvider(
        oidc.token_endpoint,
        "cc-post",
        entry["client_secret"],
        client_auth="client_secret_post",
        extra_params={"resource": oidc.opaque_resource},
        revocation_url=oidc.revocation_endpoint,
        introspection_url=oidc.introspection_endpoint,
    )
    token = provider.get_token()
    assert provider.introspect(token)["active"] is True
    provider.revoke(token)
    assert provider.introspect(token)["active"] is False


@pytest.mark.interop
def test_auth_cache_revoke_drops_the_cached_token(oidc: OIDCServer) -> None:
    provider = _opaque_provider(oidc, "cc-jwt")
    cache = AuthCache(provider)
    first = cache.get_token()
    assert cache.introspect()["active"] is True
    other = provider.get_token()
    cache.revoke(other.access_token)  # not the cached one: the cache keeps its token
    assert cache.cached == first
    cache.revoke()  # the cached token by default
    assert cache.cached is None
    assert provider.introspect(first)["active"] is False
    second = cache.get_token()
    assert second.access_token != first.access_token
    assert cache.introspect(second)["active"] is True


def test_auth_cache_without_a_token_or_a_capable_provider() -> None:
    class Fixed:
        def get_token(self) -> Token:
            return Token(access_token="at", expires_at=None)

    cache = AuthCache(Fixed())
    with pytest.raises(ConfigError, match="no token is cached"):
        cache.revoke()
    with pytest.raises(ConfigError, match="no token is cached"):
        cache.introspect()
    cache.get_token()
    with pytest.raises(ConfigError, match="Fixed does not support revoke"):
        cache.revoke()
    with pytest.raises(ConfigError, match="Fixed does not support introspect"):
        cache.introspect("at")


# -- endpoints and odd answers -------------------------------------------------------------


def test_no_endpoint_configured() -> None:
    provider = ClientCredentialsTokenProvider("https://idp.example.test/token", "c", "s")
    with pytest.raises(
        ConfigError, match="no revocation_endpoint configured: pass revocation_url="
    ):
        provider.revoke("t")
    with pytest.raises(ConfigError, match="pass introspection_url="):
        provider.introspect("t")


def test_issuer_that_does_not_advertise_the_endpoints(loopback: Any) -> None:
    def handler(request: Request) -> Response:
        base = f"http://127.0.0.1:{request.headers['Host'].split(':')[1]}"
        return Response(200, {"issuer": base, "token_endpoint": base + "/token"})

    server: LoopbackServer = loopback(handler)
    provider = ClientCredentialsTokenProvider(
        issuer_url=server.url, client_id="c", client_secret="s"
    )
    with pytest.raises(ConfigError, match="does not advertise a revocation_endpoint"):
        provider.revoke("t")
    with pytest.raises(ConfigError, match="does not advertise an introspection_endpoint"):
        provider.introspect("t")


def test_explicit_endpoint_urls_are_checked() -> None:
    with pytest.raises(ConfigError, match="over plain http"):
        ClientCredentialsTokenProvider(
            "https://idp.example.test/token", "c", "s", revocation_url="http://idp.example.test/r"
        )


def _management_server(loopback: Any, answer: Response) -> tuple[LoopbackServer, Any]:
    server: LoopbackServer = loopback(answer)
    provider = ClientCredentialsTokenProvider(
        server.url + "/token",
        "c",
        "s",
        revocation_url=server.url + "/revoke",
        introspection_url=server.url + "/introspect",
    )
    return server, provider


@pytest.mark.parametrize(
    "answer",
    [Response(200, b""), Response(200, "OK"), Response(204, b""), Response(200, {"ignored": 1})],
)
def test_any_2xx_revocation_answer_is_success(loopback: Any, answer: Response) -> None:
    server, provider = _management_server(loopback, answer)
    provider.revoke("secret-token-value", "refresh_token")
    request = server.requests[0]
    assert request.path == "/revoke"
    assert request.form == {"token": "secret-token-value", "token_type_hint": "refresh_token"}
    assert (request.header("Authorization") or "").startswith("Basic ")


def test_revocation_errors_raise(loopback: Any) -> None:
    _, provider = _management_server(loopback, Response(400, {"error": "unsupported_token_type"}))
    with pytest.raises(TokenEndpointError, match="unsupported_token_type") as caught:
        provider.revoke("secret-token-value")
    assert "secret-token-value" not in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [Response(200, b""), Response(200, "OK"), Response(200, {"scope": "x"}), Response(200, [1])],
)
def test_introspection_needs_a_json_object_with_active(loopback: Any, answer: Response) -> None:
    _, provider = _management_server(loopback, answer)
    with pytest.raises(InvalidTokenResponseError):
        provider.introspect("t")


def test_introspection_answer_is_returned_whole(loopback: Any) -> None:
    body = {"active": True, "sub": "svc", "exp": 1_900_000_000, "scope": "a b"}
    server, provider = _management_server(loopback, Response(200, body))
    assert provider.introspect("t") == body
    assert server.requests[0].path == "/introspect"
