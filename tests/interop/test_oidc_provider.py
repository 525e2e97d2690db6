"""The core grants against the real oidc-provider."""

from __future__ import annotations

import threading

import jwt
import pytest
import requests

from h2oauth_lite import (
    AuthCache,
    ClientCredentialsTokenProvider,
    RefreshTokenProvider,
    TokenEndpointError,
)
from tests.support.idp import OIDCServer
from tests.support.threads import run_together

pytestmark = pytest.mark.interop


def counting_session() -> tuple[requests.Session, list[str]]:
    """A plain session that records every token request it sends."""
    sent: list[str] = []
    lock = threading.Lock()
    session = requests.Session()

    def record(response: requests.Response, **_: object) -> None:
        with lock:
            sent.append(response.request.url or "")

    session.hooks["response"].append(record)
    return session, sent


def cc_provider(oidc: OIDCServer, name: str, **options: object) -> ClientCredentialsTokenProvider:
    client = oidc.client(name)
    method = client["token_endpoint_auth_method"]
    options.setdefault("client_auth", method)
    return ClientCredentialsTokenProvider(
        oidc.token_endpoint, client["client_id"], client["client_secret"], **options
    )


@pytest.mark.parametrize("name", ["cc-basic", "cc-post"])
def test_client_credentials_yield_a_jwt_whose_exp_is_used(oidc: OIDCServer, name: str) -> None:
    token = cc_provider(oidc, name, scope="api:read").get_token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["client_id"] == oidc.client(name)["client_id"]
    assert token.expiry_source == "jwt"
    assert token.expires_at == float(claims["exp"])
    assert token.scope == "api:read"
    assert token.token_type == "Bearer"


def test_issuer_discovery_finds_the_token_endpoint(oidc: OIDCServer) -> None:
    client = oidc.client("cc-basic")
    provider = ClientCredentialsTokenProvider(
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        issuer_url=oidc.issuer,
        scope="api:read",
    )
    assert provider.token_endpoint == oidc.token_endpoint
    assert provider.get_token().access_token


def test_wrong_secret_is_invalid_client(oidc: OIDCServer) -> None:
    provider = ClientCredentialsTokenProvider(oidc.token_endpoint, "cc-basic", "wrong-secret-x")
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.status_code == 401
    assert caught.value.error == "invalid_client"
    assert str(caught.value).startswith("Authentication request failed (status: 401 Unauthorized)")
    assert "wrong-secret-x" not in str(caught.value)


def test_registered_method_is_enforced(oidc: OIDCServer) -> None:
    with pytest.raises(TokenEndpointError) as caught:
        cc_provider(oidc, "cc-basic", client_auth="client_secret_post").get_token()
    assert caught.value.error == "invalid_client"


def test_scope_not_allowed_for_the_client_is_invalid_scope(oidc: OIDCServer) -> None:
    # cc-basic may ask for api:read and api:write only; the server knows "profile".
    with pytest.raises(TokenEndpointError) as caught:
        cc_provider(oidc, "cc-basic", scope="api:read profile").get_token()
    assert caught.value.status_code == 400
    assert caught.value.error == "invalid_scope"


def refresh_provider(
    oidc: OIDCServer, name: str = "app-basic", **options: object
) -> RefreshTokenProvider:
    login = oidc.login_code_flow(client=name)
    client = oidc.client(name)
    return RefreshTokenProvider(
        oidc.token_endpoint,
        client["client_id"],
        login["refresh_token"],
        client["client_secret"],
        **options,
    )


def test_refresh_grant_rotates_and_old_tokens_are_refused(oidc: OIDCServer) -> None:
    login = oidc.login_code_flow(client="app-basic")
    client = oidc.client("app-basic")
    provider = RefreshTokenProvider(
        oidc.token_endpoint, client["client_id"], login["refresh_token"], client["client_secret"]
    )
    first = provider.get_token()
    second = provider.get_token()  # sent with first.refresh_token
    assert first.refresh_token and second.refresh_token
    assert len({login["refresh_token"], first.refresh_token, second.refresh_token}) == 3

    stale = RefreshTokenProvider(
        oidc.token_endpoint, client["client_id"], login["refresh_token"], client["client_secret"]
    )
    with pytest.raises(TokenEndpointError) as caught:
        stale.get_token()
    assert caught.value.status_code == 400
    assert caught.value.error == "invalid_grant"


def test_32_threads_refresh_once_with_rotation(oidc: OIDCServer) -> None:
    session, sent = counting_session()
    cache = AuthCache(refresh_provider(oidc, session=session))
    results, errors = run_together(32, cache.get_token)
    assert errors == []
    assert sent == [oidc.token_endpoint]
    assert len(results) == 32
    # And again after the token is dropped: one more refresh, with the rotated token.
    cache.invalidate()
    run_together(32, cache.get_token)
    assert len(sent) == 2


def test_32_threads_client_credentials_once(oidc: OIDCServer) -> None:
    session, sent = counting_session()
    cache = AuthCache(cc_provider(oidc, "cc-basic", session=session))
    _, errors = run_together(32, cache.get_token)
    assert errors == [] and len(sent) == 1


def test_client_secret_post_refresh(oidc: OIDCServer) -> None:
    provider = refresh_provider(oidc, "app-post", client_auth="client_secret_post")
    assert provider.get_token().refresh_token
