"""The JWT-bearer grant against a loopback token server that checks assertions the
way a real one does: signature with the public key, iss, sub, aud, exp and jti reuse."""

from __future__ import annotations

import json
import pickle
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Optional

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from h2oauth_lite import AuthCache, ConfigError, JWTBearerTokenProvider, TokenEndpointError
from h2oauth_lite.grants.jwt_bearer import JWT_BEARER_GRANT_TYPE
from tests.support.answers import token_body
from tests.support.loopback import LoopbackServer, Request, Response

ISSUER = "robot@project.example.test"
SUBJECT = "alice@example.test"


def _pem(key: Any) -> str:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data.decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class AssertionServer:
    """Token endpoint for the JWT-bearer grant, strict about every claim."""

    def __init__(self, public_key: Any, alg: str, *, issuer: str = ISSUER) -> None:
        self.public_key = public_key
        self.alg = alg
        self.issuer = issuer
        self.seen_jti: set[str] = set()
        self.claims: list[dict[str, Any]] = []
        self.headers: list[dict[str, Any]] = []
        self.expected_audience: Optional[str] = None
        self._lock = threading.Lock()
        self.server = LoopbackServer(self.handle).start()
        self.token_url = f"{self.server.url}/oauth2/token"

    def _refuse(self, description: str) -> Response:
        return Response(400, {"error": "invalid_grant", "error_description": description})

    def handle(self, request: Request) -> Response:
        if request.path != "/oauth2/token" or request.method != "POST":
            return Response(404, {"error": "not_found"})
        if request.form.get("grant_type") != JWT_BEARER_GRANT_TYPE:
            return Response(400, {"error": "unsupported_grant_type"})
        assertion = request.form.get("assertion", "")
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=[self.alg],
                audience=self.expected_audience or self.token_url,
                issuer=self.issuer,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            return self._refuse("assertion expired")
        except jwt.InvalidAudienceError:
            return self._refuse("wrong audience")
        except jwt.InvalidIssuerError:
            return self._refuse("wrong issuer")
        except jwt.PyJWTError as exc:
            return self._refuse(f"bad assertion: {type(exc).__name__}")
        if claims["sub"] != SUBJECT:
            return self._refuse("unknown subject")
        with self._lock:
            if claims["jti"] in self.seen_jti:
                return self._refuse("assertion replayed")
            self.seen_jti.add(claims["jti"])
            self.claims.append(claims)
            self.headers.append(jwt.get_unverified_header(assertion))
        body = token_body(f"at-{len(self.claims)}", 3600)
        if request.form.get("scope"):
            body["scope"] = request.form["scope"]
        return Response(200, body)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def rsa_server(rsa_key: rsa.RSAPrivateKey) -> Any:
    server = AssertionServer(rsa_key.public_key(), "RS256")
    yield server
    server.stop()


def _provider(server: AssertionServer, key: Any, **options: Any) -> JWTBearerTokenProvider:
    return JWTBearerTokenProvider(server.token_url, ISSUER, SUBJECT, key, **options)


def test_exchanges_an_assertion_for_a_token(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    provider = _provider(rsa_server, _pem(rsa_key), scope="read write", kid="key-1")
    token = provider.get_token()
    assert token.access_token == "at-1"
    assert token.scope == "read write"
    claims = rsa_server.claims[0]
    assert (claims["iss"], claims["sub"], claims["aud"]) == (ISSUER, SUBJECT, rsa_server.token_url)
    assert claims["exp"] - claims["iat"] == 300
    assert rsa_server.headers[0]["kid"] == "key-1"
    request = rsa_server.server.requests[0]
    assert request.header("Authorization") is None  # the assertion is the credential
    assert set(request.form) == {"grant_type", "assertion", "scope"}


def test_every_request_carries_a_new_assertion(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    provider = _provider(rsa_server, rsa_key)
    tokens = [provider.get_token().access_token for _ in range(3)]
    assert tokens == ["at-1", "at-2", "at-3"]
    assert len({claims["jti"] for claims in rsa_server.claims}) == 3


def test_works_under_auth_cache(rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey) -> None:
    cache = AuthCache(_provider(rsa_server, rsa_key))
    assert cache.get_token().access_token == cache.get_token().access_token == "at-1"
    assert len(rsa_server.server.requests) == 1


def test_the_server_refuses_a_replayed_assertion(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    import requests

    assertion = _provider(rsa_server, rsa_key).assertion()
    form = {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion}
    assert requests.post(rsa_server.token_url, data=form, timeout=5).status_code == 200
    replay = requests.post(rsa_server.token_url, data=form, timeout=5)
    assert replay.status_code == 400
    assert replay.json()["error_description"] == "assertion replayed"


def test_expired_assertion_is_refused(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    provider = _provider(rsa_server, rsa_key, clock=lambda: time.time() - 3600)
    with pytest.raises(TokenEndpointError, match="assertion expired") as caught:
        provider.get_token()
    assert caught.value.error == "invalid_grant"


def test_wrong_key_issuer_and_audience_are_refused(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TokenEndpointError, match="InvalidSignatureError"):
        _provider(rsa_server, other).get_token()
    with pytest.raises(TokenEndpointError, match="wrong issuer"):
        JWTBearerTokenProvider(rsa_server.token_url, "x@y", SUBJECT, rsa_key).get_token()
    with pytest.raises(TokenEndpointError, match="wrong audience"):
        _provider(rsa_server, rsa_key, audience="https://elsewhere.test").get_token()
    rsa_server.expected_audience = "https://issuer.example.test"
    _provider(rsa_server, rsa_key, audience="https://issuer.example.test").get_token()


def test_es256_and_extra_claims() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    server = AssertionServer(key.public_key(), "ES256")
    try:
        provider = _provider(
            server,
            key,
            alg="ES256",
            claims={"scope": "https://api.example.test/read"},
            assertion_lifetime=timedelta(minutes=2),
        )
        provider.get_token()
        assert server.claims[0]["scope"] == "https://api.example.test/read"
        assert server.claims[0]["exp"] - server.claims[0]["iat"] == 120
    finally:
        server.stop()


def test_client_authentication_when_asked(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    provider = _provider(rsa_server, rsa_key, client_id="app", client_secret="app-secret")
    provider.get_token()
    request = rsa_server.server.requests[0]
    assert (request.header("Authorization") or "").startswith("Basic ")


def test_from_service_account_file(
    rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    account = {
        "type": "service_account",
        "client_email": ISSUER,
        "private_key": _pem(rsa_key),
        "private_key_id": "abc123",
        "token_uri": rsa_server.token_url,
    }
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(account))
    provider = JWTBearerTokenProvider.from_service_account_file(path, subject=SUBJECT)
    assert provider.get_token().access_token == "at-1"
    assert rsa_server.headers[0]["kid"] == "abc123"
    assert rsa_server.claims[0]["iss"] == ISSUER
    assert "PRIVATE" not in repr(provider) and ISSUER in repr(provider)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the service-account file"),
        ("{not json", "is not valid JSON"),
        ("[" * 200_000, "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        (json.dumps({"private_key": "x", "token_uri": "https://t.test"}), "has no client_email"),
        (json.dumps({"client_email": "a@b", "token_uri": "https://t.test"}), "has no private_key"),
    ],
)
def test_bad_service_account_files(tmp_path: Path, content: Optional[str], message: str) -> None:
    path = tmp_path / "sa.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        JWTBearerTokenProvider.from_service_account_file(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.update(issuer=""), "non-empty issuer"),
        (lambda o: o.update(subject=""), "non-empty subject"),
        (lambda o: o.update(claims={"exp": 1}), "claims may not set exp"),
        (lambda o: o.update(alg="none"), "alg='none' is refused"),
        (lambda o: o.update(alg="HS256"), "HMAC"),
        (lambda o: o.update(alg="ES256"), "ES256 needs an EC"),
        (lambda o: o.update(assertion_lifetime=0), "at least one second"),
        (lambda o: o.update(audience=""), "audience must be"),
    ],
)
def test_bad_arguments(
    rsa_key: rsa.RSAPrivateKey, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    options: dict[str, Any] = {
        "auth_url": "https://idp.example.test/token",
        "issuer": ISSUER,
        "subject": SUBJECT,
        "private_key": rsa_key,
    }
    change(options)
    with pytest.raises(ConfigError, match=message):
        JWTBearerTokenProvider(**options)


def test_survives_pickle(rsa_server: AssertionServer, rsa_key: rsa.RSAPrivateKey) -> None:
    provider = pickle.loads(pickle.dumps(_provider(rsa_server, rsa_key)))
    assert provider.get_token().access_token == "at-1"
