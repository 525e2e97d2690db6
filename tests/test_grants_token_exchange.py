"""Token exchange (RFC 8693): the form on a loopback endpoint, the grant against oidc-provider."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qs

import jwt
import pytest

from h2oauth_lite import (
    AuthCache,
    ClientCredentialsTokenProvider,
    ConfigError,
    Token,
    TokenEndpointError,
    TokenExchangeProvider,
)
from h2oauth_lite.grants.token_exchange import ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE
from tests.support.idp import OIDCServer
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def _echo(loopback: Loopback) -> tuple[LoopbackServer, list[dict[str, list[str]]]]:
    forms: list[dict[str, list[str]]] = []

    def answer(request: Request) -> Response:
        forms.append(parse_qs(request.body.decode()))
        body = {
            "access_token": f"x-{len(forms)}",
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": 60,
        }
        return Response(200, body)

    return loopback(answer), forms


def test_the_form_carries_subject_actor_and_repeated_targets(loopback: Loopback) -> None:
    server, forms = _echo(loopback)
    subjects = iter(["s-1", "s-2"])
    provider = TokenExchangeProvider(
        f"{server.url}/token",
        "svc",
        "secret",
        subject_token=lambda: next(subjects),
        actor_token="actor-jwt",
        audience=["https://a.example", "https://b.example"],
        resource="urn:api",
        requested_token_type=JWT_TOKEN_TYPE,
        scope="read",
    )
    token = provider.get_token()
    assert token.access_token == "x-1" and token.extra["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert forms[0] == {
        "grant_type": [EXCHANGE],
        "subject_token": ["s-1"],
        "subject_token_type": [ACCESS_TOKEN_TYPE],
        "actor_token": ["actor-jwt"],
        "actor_token_type": [ACCESS_TOKEN_TYPE],
        "audience": ["https://a.example", "https://b.example"],
        "resource": ["urn:api"],
        "requested_token_type": [JWT_TOKEN_TYPE],
        "scope": ["read"],
    }
    provider.get_token()
    assert forms[1]["subject_token"] == ["s-2"]  # read anew for every exchange


def test_bad_arguments_are_config_errors() -> None:
    url = "https://as.example/token"
    with pytest.raises(ConfigError, match="subject_token must be"):
        TokenExchangeProvider(url, "c", "s", subject_token=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="subject_token is empty"):
        TokenExchangeProvider(url, "c", "s", subject_token=" ")
    with pytest.raises(ConfigError, match="without an actor_token"):
        TokenExchangeProvider(url, "c", "s", subject_token="t", actor_token_type=JWT_TOKEN_TYPE)
    with pytest.raises(ConfigError, match="audience must be"):
        TokenExchangeProvider(url, "c", "s", subject_token="t", audience=[""])
    provider = TokenExchangeProvider(url, "c", "s", subject_token=lambda: "")
    with pytest.raises(ConfigError, match="callable returned no token"):
        provider.get_token()


# -- against the real provider -------------------------------------------------------------


def _subject(oidc: OIDCServer, **options: Any) -> ClientCredentialsTokenProvider:
    entry = oidc.client("cc-basic")
    return ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry["client_secret"],
        scope="api:read api:write",
        extra_params={"resource": oidc.default_resource},
        **options,
    )


def _exchanger(oidc: OIDCServer, **options: Any) -> TokenExchangeProvider:
    entry = oidc.client("exchanger")
    return TokenExchangeProvider(
        issuer_url=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry["client_secret"],
        resource=oidc.default_resource,
        **options,
    )


@pytest.mark.interop
def test_exchange_a_client_credentials_token(oidc: OIDCServer) -> None:
    subject = AuthCache(_subject(oidc))
    provider = _exchanger(oidc, subject_token=subject, scope="api:read")
    token = provider.get_token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["sub"] == "cc-basic" and claims["client_id"] == "exchanger"
    assert claims["aud"] == oidc.default_resource and claims["scope"] == "api:read"
    assert "act" not in claims
    assert token.extra["issued_token_type"] == ACCESS_TOKEN_TYPE


@pytest.mark.interop
def test_an_actor_token_names_who_acts(oidc: OIDCServer) -> None:
    actor_token = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id="exchanger",
        client_secret=oidc.client("exchanger")["client_secret"],
        scope="api:read",
        extra_params={"resource": oidc.opaque_resource},
    )
    provider = _exchanger(oidc, subject_token=_subject(oidc), actor_token=actor_token)
    claims = jwt.decode(provider.get_token().access_token, options={"verify_signature": False})
    assert claims["act"] == {"sub": "exchanger"} and claims["sub"] == "cc-basic"


@pytest.mark.interop
def test_cached_like_any_grant_and_the_subject_is_refreshed_first(oidc: OIDCServer) -> None:
    now = [0.0]
    subjects: list[Token] = []
    exchanged: list[Token] = []
    subject = AuthCache(_subject(oidc, on_token=subjects.append), monotonic=lambda: now[0])
    cache = AuthCache(
        _exchanger(oidc, subject_token=subject, on_token=exchanged.append),
        monotonic=lambda: now[0],
    )
    first = cache.get_token()
    assert cache.get_token() is first and len(exchanged) == 1 and len(subjects) == 1
    now[0] += oidc.access_token_ttl + 1  # both tokens expired
    second = cache.get_token()
    assert second.access_token != first.access_token
    assert len(subjects) == 2 and len(exchanged) == 2  # a new subject token, then the exchange


@pytest.mark.interop
def test_a_subject_token_the_server_does_not_know_is_refused(oidc: OIDCServer) -> None:
    forged = "not-a-token-of-this-provider-Zk29x"
    with pytest.raises(TokenEndpointError) as caught:
        _exchanger(oidc, subject_token=forged).get_token()
    assert caught.value.error == "invalid_grant"
    assert forged not in str(caught.value) and forged not in repr(caught.value)
