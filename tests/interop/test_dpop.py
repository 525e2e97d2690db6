"""DPoP against the real oidc-provider (nonces required) and a verifying loopback resource."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from typing import Any, Callable

import jwt
import pytest
import requests

from h2oauth_lite import (
    AuthCache,
    BearerAuth,
    ClientCredentialsTokenProvider,
    CodeFlow,
    Config,
    ConfigError,
    DPoPKey,
    RefreshTokenProvider,
    Token,
    TokenEndpointError,
)
from tests.support.dpop_resource import DPoPResource, provider_keys
from tests.support.idp import OIDCServer
from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.interop
Loopback = Callable[..., LoopbackServer]


def _cc(oidc: OIDCServer, key: DPoPKey, **options: Any) -> ClientCredentialsTokenProvider:
    entry = oidc.client("dpop-cc")
    return ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry["client_secret"],
        dpop_key=key,
        extra_params={"resource": oidc.default_resource},
        **options,
    )


@pytest.fixture
def resource(oidc: OIDCServer, loopback: Loopback) -> Iterator[tuple[DPoPResource, str]]:
    handler = DPoPResource(provider_keys(oidc.jwks_uri), audience=oidc.default_resource)
    server = loopback(handler)
    handler.base_url = server.url
    yield handler, server.url


def _counting_session() -> tuple[requests.Session, list[int]]:
    statuses: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, **_: statuses.append(r.status_code))
    return session, statuses


def test_client_credentials_token_is_bound_to_the_key(oidc: OIDCServer) -> None:
    key = DPoPKey.generate()
    session, statuses = _counting_session()
    provider = _cc(oidc, key, session=session)
    token = provider.get_token()
    assert token.token_type == "DPoP"
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.thumbprint}
    # discovery, then the token request refused for want of a nonce, then the retry
    assert statuses == [200, 400, 200]
    provider.get_token()
    assert statuses[3:] == [200]  # the remembered nonce is sent at once


def test_an_rsa_key_works_too(oidc: OIDCServer) -> None:
    assert _cc(oidc, DPoPKey.generate("PS256")).get_token().token_type == "DPoP"


def test_a_proof_the_server_rejects_is_a_clear_error(oidc: OIDCServer) -> None:
    key = DPoPKey.generate("ES384")  # not among the provider's DPoP algorithms
    with pytest.raises(TokenEndpointError) as caught:
        _cc(oidc, key).get_token()
    assert caught.value.error == "invalid_dpop_proof"
    assert caught.value.status_code == 400


def test_the_client_that_requires_dpop_refuses_a_plain_request(oidc: OIDCServer) -> None:
    entry = oidc.client("dpop-cc")
    plain = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer, client_id=entry["client_id"], client_secret=entry["client_secret"]
    )
    with pytest.raises(TokenEndpointError) as caught:
        plain.get_token()
    assert caught.value.error == "invalid_grant"


def test_bearer_auth_presents_the_token_with_a_proof_per_request(
    oidc: OIDCServer, resource: tuple[DPoPResource, str]
) -> None:
    handler, url = resource
    auth = BearerAuth(AuthCache(_cc(oidc, DPoPKey.generate())))
    with requests.Session() as session:
        session.auth = auth
        first = session.get(f"{url}/api/items?page=2", timeout=10)
        assert first.status_code == 200, handler.refusals
        assert [r.status_code for r in first.history] == [401]  # the nonce it asked for
        handler.rotate_nonce()  # a resource server changes its nonce now and then
        for _ in range(3):
            assert session.get(f"{url}/api/items", timeout=10).status_code == 200
    assert len(handler.accepted) == 4
    assert handler.refusals == ["use_dpop_nonce: nonce missing or stale"] * 2
    assert handler.accepted[0]["client_id"] == "dpop-cc"


def test_a_token_bound_to_another_key_is_refused(
    oidc: OIDCServer, resource: tuple[DPoPResource, str]
) -> None:
    handler, url = resource
    token = _cc(oidc, DPoPKey.generate()).get_token()

    class Stored:
        def get_token(self) -> Token:
            return token

    # The key a reloaded process would have, had it generated a new one: refused by us
    # before the resource server sees a request.
    auth = BearerAuth(Stored(), dpop=_cc(oidc, DPoPKey.generate()).dpop)
    with pytest.raises(ConfigError, match="issued for another DPoP key"):
        requests.get(f"{url}/api", auth=auth, timeout=10)
    assert handler.accepted == [] and handler.refusals == []


def test_a_pickled_provider_keeps_its_key(
    oidc: OIDCServer, resource: tuple[DPoPResource, str]
) -> None:
    handler, url = resource
    provider = _cc(oidc, DPoPKey.generate())
    token = provider.get_token()
    copy = pickle.loads(pickle.dumps(provider))
    auth = BearerAuth(AuthCache(copy))
    assert requests.get(f"{url}/api", auth=auth, timeout=10).status_code == 200
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert handler.accepted[0]["cnf"] == claims["cnf"]


# -- the code flow and refresh: the public client's refresh token is bound too ----------


def _login(oidc: OIDCServer, key: DPoPKey) -> Token:
    errors: list[BaseException] = []

    def browser(url: str) -> None:
        def visit() -> None:
            try:
                requests.get(oidc.complete_authorization(url), timeout=10)
            except BaseException as exc:
                errors.append(exc)

        threading.Thread(target=visit, daemon=True).start()

    scope = "openid offline_access api:read"
    config = Config(issuer=oidc.issuer, client_id="dpop-app", scope=scope)
    flow = CodeFlow(config, browser=browser, output=lambda _m: None, timeout=30, dpop_key=key)
    token = flow.run()
    assert not errors, errors
    return token


def test_code_flow_and_refresh_stay_bound_to_the_same_key(
    oidc: OIDCServer, resource: tuple[DPoPResource, str]
) -> None:
    _, url = resource
    key = DPoPKey.generate()
    login = _login(oidc, key)
    assert login.token_type == "DPoP" and login.refresh_token
    provider = RefreshTokenProvider(
        issuer_url=oidc.issuer,
        client_id="dpop-app",
        refresh_token=login.refresh_token,
        dpop_key=key,
    )
    first = provider.get_token()
    second = provider.get_token()  # rotated refresh token, still bound
    for token in (first, second):
        claims = jwt.decode(token.access_token, options={"verify_signature": False})
        assert token.token_type == "DPoP" and claims["cnf"] == {"jkt": key.thumbprint}
    auth = BearerAuth(AuthCache(provider))
    assert requests.get(f"{url}/me", auth=auth, timeout=10).json()["sub"] == "alice"


def test_refresh_with_another_key_is_refused_by_the_server(oidc: OIDCServer) -> None:
    login = _login(oidc, DPoPKey.generate())
    assert login.refresh_token
    reloaded = RefreshTokenProvider(
        issuer_url=oidc.issuer,
        client_id="dpop-app",
        refresh_token=login.refresh_token,
        dpop_key=DPoPKey.generate(),
    )
    with pytest.raises(TokenEndpointError) as caught:
        reloaded.get_token()
    assert caught.value.error == "invalid_grant"
    assert login.refresh_token not in str(caught.value)

