"""The interop fixture itself, proven with plain requests against oidc-provider."""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests

from tests.support.idp import OIDCServer

pytestmark = pytest.mark.interop

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _client_credentials(oidc: OIDCServer, name: str, **form: str) -> requests.Response:
    basic, fields = oidc.client_auth(name)
    fields.update(grant_type="client_credentials", **form)
    return requests.post(oidc.token_endpoint, data=fields, auth=basic, timeout=10)


def test_discovery(oidc: OIDCServer) -> None:
    assert oidc.metadata["issuer"] == oidc.issuer
    assert oidc.token_endpoint == f"{oidc.issuer}/token"
    assert "S256" in oidc.metadata["code_challenge_methods_supported"]
    assert oidc.metadata["device_authorization_endpoint"]
    assert oidc.metadata["introspection_endpoint"]
    assert oidc.metadata["revocation_endpoint"]


@pytest.mark.parametrize("name", ["cc-basic", "cc-post"])
def test_client_credentials_gives_a_jwt_for_the_api(oidc: OIDCServer, name: str) -> None:
    response = _client_credentials(oidc, name, scope="api:read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api:read"
    claims = _claims(body["access_token"])
    assert claims["aud"] == oidc.default_resource
    assert claims["client_id"] == name
    assert claims["exp"] - claims["iat"] == oidc.access_token_ttl


def test_access_token_verifies_against_the_jwks(oidc: OIDCServer) -> None:
    token = _client_credentials(oidc, "cc-basic").json()["access_token"]
    key = jwt.PyJWKClient(oidc.jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=oidc.default_resource)
    assert claims["iss"] == oidc.issuer


def test_wrong_secret_is_invalid_client(oidc: OIDCServer) -> None:
    client = oidc.client("cc-basic")
    response = requests.post(
        oidc.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], "not-the-secret"),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_registered_auth_method_is_enforced(oidc: OIDCServer) -> None:
    basic = oidc.client("cc-basic")
    as_post = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "client_credentials",
            "client_id": basic["client_id"],
            "client_secret": basic["client_secret"],
        },
        timeout=10,
    )
    assert as_post.status_code == 401
    assert as_post.json()["error"] == "invalid_client"
    post = oidc.client("cc-post")
    as_basic = requests.post(
        oidc.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(post["client_id"], post["client_secret"]),
        timeout=10,
    )
    assert as_basic.status_code == 401
    assert as_basic.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("name", "alg"),
    [("cc-jwt", "HS256"), ("cc-pkjwt-rs256", "RS256"), ("cc-pkjwt-es256", "ES256")],
)
@pytest.mark.parametrize("audience", ["token_endpoint", "issuer"])
def test_jwt_client_assertions(oidc: OIDCServer, name: str, alg: str, audience: str) -> None:
    client = oidc.client(name)
    key: Any
    headers: dict[str, str] = {}
    if alg == "HS256":
        key = client["client_secret"]
    else:
        jwk = oidc.private_jwk(name)
        key = jwt.PyJWK(jwk).key
        headers["kid"] = jwk["kid"]
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client["client_id"],
            "sub": client["client_id"],
            "aud": oidc.token_endpoint if audience == "token_endpoint" else oidc.issuer,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        },
        key,
        algorithm=alg,
        headers=headers,
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    response = requests.post(oidc.token_endpoint, data=form, timeout=10)
    assert response.status_code == 200, response.text
    # A replayed assertion (same jti) must be refused.
    replay = requests.post(oidc.token_endpoint, data=form, timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


@pytest.mark.parametrize("client", ["app-basic", "app-post", "app-public"])
def test_code_flow_gives_jwt_and_refresh_token(oidc: OIDCServer, client: str) -> None:
    tokens = oidc.login_code_flow(client=client)
    assert tokens["refresh_token"]
    assert tokens["id_token"]
    claims = _claims(tokens["access_token"])
    assert claims["aud"] == oidc.default_resource
    assert claims["sub"] == "alice"
    assert claims["exp"] > time.time()
    # The response's scope is the access token's: only the resource's scopes.
    assert tokens["scope"] == "api:read"


def test_code_flow_on_any_loopback_port(oidc: OIDCServer) -> None:
    tokens = oidc.login_code_flow(redirect_uri="http://127.0.0.1:48123/callback")
    assert tokens["refresh_token"]


def _refresh(oidc: OIDCServer, client: str, refresh_token: str) -> requests.Response:
    basic, form = oidc.client_auth(client)
    form.update(grant_type="refresh_token", refresh_token=refresh_token)
    return requests.post(oidc.token_endpoint, data=form, auth=basic, timeout=10)


def test_refresh_rotates_and_old_token_is_rejected(oidc: OIDCServer) -> None:
    first = oidc.login_code_flow()
    response = _refresh(oidc, "app-basic", first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    # The refresh keeps the granted resource, so the token is still a JWT for the API.
    assert _claims(second["access_token"])["aud"] == oidc.default_resource
    reuse = _refresh(oidc, "app-basic", first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"


def test_denied_authorization_redirects_with_access_denied(oidc: OIDCServer) -> None:
    result = oidc.login_code_flow(approve=False)
    assert result["error"] == "access_denied"


def test_complete_authorization_returns_the_redirect(oidc: OIDCServer) -> None:
    client = oidc.client("app-public")
    url = requests.Request(
        "GET",
        oidc.authorization_endpoint,
        params={
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": "http://127.0.0.1:50999/callback",
            "scope": "openid api:read",
            "state": "s1",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    ).prepare().url
    assert url is not None
    location = oidc.complete_authorization(url)
    assert location.startswith("http://127.0.0.1:50999/callback?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["state"] == "s1"
    assert query["code"]


def _device_start(oidc: OIDCServer, **extra: str) -> dict[str, Any]:
    form = {"client_id": "app-public", "scope": "openid offline_access api:read", **extra}
    response = requests.post(oidc.device_authorization_endpoint, data=form, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _device_poll(oidc: OIDCServer, device_code: str) -> requests.Response:
    return requests.post(
        oidc.token_endpoint,
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "app-public"},
        timeout=10,
    )


@pytest.mark.parametrize("by", ["user_code", "verification_uri_complete"])
def test_device_flow_approve(oidc: OIDCServer, by: str) -> None:
    start = _device_start(oidc)
    pending = _device_poll(oidc, start["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    oidc.complete_device(start[by])
    response = _device_poll(oidc, start["device_code"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["refresh_token"]
    assert _claims(tokens["access_token"])["aud"] == oidc.default_resource


def test_device_flow_deny(oidc: OIDCServer) -> None:
    start = _device_start(oidc)
    oidc.complete_device(start["user_code"], approve=False)
    response = _device_poll(oidc, start["device_code"])
    assert response.status_code == 400
    assert response.json()["error"] == "access_denied"


def test_introspection_of_an_opaque_token(oidc: OIDCServer) -> None:
    issued = _client_credentials(oidc, "cc-basic", resource=oidc.opaque_resource, scope="api:read")
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert token.count(".") != 2
    client = oidc.client("cc-basic")
    auth = (client["client_id"], client["client_secret"])
    response = requests.post(
        oidc.introspection_endpoint, data={"token": token}, auth=auth, timeout=10
    )
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["aud"] == oidc.opaque_resource
    assert body["scope"] == "api:read"
    revoked = requests.post(oidc.revocation_endpoint, data={"token": token}, auth=auth, timeout=10)
    assert revoked.status_code == 200
    after = requests.post(
        oidc.introspection_endpoint, data={"token": token}, auth=auth, timeout=10
    )
    assert after.json() == {"active": False}


def test_factory_starts_a_short_lived_provider(oidc_factory: Callable[..., OIDCServer]) -> None:
    short = oidc_factory(access_token_ttl=2)
    token = _client_credentials(short, "cc-basic").json()["access_token"]
    claims = _claims(token)
    assert claims["exp"] - claims["iat"] == 2
    assert claims["iss"] == short.issuer


def test_stdin_close_stops_the_provider(oidc_factory: Callable[..., OIDCServer]) -> None:
    server = oidc_factory()
    assert server.process.stdin is not None
    server.process.stdin.close()
    assert server.process.wait(timeout=10) == 0

