"""DPoP (RFC 9449): pure proofs, keys loaded and carried, nonces against loopback servers."""

from __future__ import annotations

import os
import pickle
from typing import Any, Callable

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from h2oauth_lite import (
    AuthCache,
    BearerAuth,
    ClientCredentialsTokenProvider,
    ConfigError,
    DPoPKey,
    Token,
    TokenEndpointError,
)
from h2oauth_lite.client_auth.dpop import (
    DPoPProver,
    access_token_hash,
    dpop_challenge,
    jwk_thumbprint,
    proof_claims,
    proof_url,
)
from h2oauth_lite.token import parse_token_response
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]


# -- pure: the proof and its parts -----------------------------------------------------


def test_ath_and_thumbprint_match_the_rfc_examples() -> None:
    # RFC 9449 section 7.1 and RFC 7638 section 3.1.
    assert (
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
        == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )
    rsa_jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
        "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR"
        "0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI"
        "4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(rsa_jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_proof_claims_drop_query_and_fragment() -> None:
    claims = proof_claims(
        "get", "https://rs.example/api/x?secret=1#frag", iat=1700000000.9, jti="j1", nonce="n1",
        access_token="tok",
    )
    assert claims == {
        "jti": "j1",
        "htm": "GET",
        "htu": "https://rs.example/api/x",
        "iat": 1700000000,
        "nonce": "n1",
        "ath": access_token_hash("tok"),
    }
    assert proof_url("https://as.example/token") == "https://as.example/token"
    assert "nonce" not in proof_claims("POST", "https://as.example/t", iat=1, jti="j")


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA", "ES384"])
def test_a_signed_proof_verifies_with_its_own_public_jwk(alg: str) -> None:
    key = DPoPKey.generate(alg)
    prover = DPoPProver(key, clock=lambda: 1_700_000_000.0)
    proof = prover.proof("POST", "https://as.example/token?x=1", access_token="at")
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == alg
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(header["jwk"])
    public = jwt.PyJWK(header["jwk"], algorithm=alg).key
    claims = jwt.decode(proof, public, algorithms=[alg], options={"verify_iat": False})
    assert claims["htu"] == "https://as.example/token" and claims["iat"] == 1_700_000_000
    assert claims["ath"] == access_token_hash("at")
    assert jwk_thumbprint(header["jwk"]) == key.thumbprint
    other = prover.proof("POST", "https://as.example/token")
    assert jwt.decode(other, public, algorithms=[alg], options={"verify_iat": False})[
        "jti"
    ] != claims["jti"]


def test_keys_load_from_pem_and_jwk_and_refuse_what_cannot_sign_a_proof() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    from_pem = DPoPKey(pem)
    assert from_pem.alg == "ES256"
    # Built from the numbers: PyJWT's ECAlgorithm.to_jwk takes private keys only from 2.5 on.
    numbers = private.private_numbers()

    def member(value: int) -> str:
        return jwt.utils.base64url_encode(value.to_bytes(32, "big")).decode()

    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": member(numbers.public_numbers.x),
        "y": member(numbers.public_numbers.y),
        "d": member(numbers.private_value),
    }
    assert DPoPKey(jwk).thumbprint == from_pem.thumbprint
    with pytest.raises(ConfigError, match="does not sign with 'HS256'"):
        DPoPKey(pem, alg="HS256")
    with pytest.raises(ConfigError, match="public key"):
        DPoPKey({k: v for k, v in jwk.items() if k != "d"})
    with pytest.raises(ConfigError, match="needs an RSA private key"):
        DPoPKey(pem, alg="RS256")
    with pytest.raises(ConfigError, match="must be a DPoPKey"):
        ClientCredentialsTokenProvider("https://as.example/t", "c", "s", dpop_key=pem)  # type: ignore[typeddict-item]


def test_the_key_never_shows_and_survives_pickling() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    key = DPoPKey(private)
    number = private.private_numbers().private_value
    d = jwt.utils.base64url_encode(number.to_bytes(32, "big")).decode()
    provider = ClientCredentialsTokenProvider("https://as.example/t", "c", "s", dpop_key=key)
    for text in (repr(key), repr(provider), repr(provider.dpop), repr(BearerAuth(provider))):
        assert d not in text and str(number) not in text
    assert "thumbprint" in repr(key)
    copy = pickle.loads(pickle.dumps(provider))
    assert copy.dpop is not None and copy.dpop.thumbprint == key.thumbprint
    proof = copy.dpop.proof("GET", "https://rs.example/")
    public = jwt.PyJWK(jwt.get_unverified_header(proof)["jwk"], algorithm="ES256").key
    jwt.decode(proof, public, algorithms=["ES256"])  # the copy signs with the same key


def test_challenge_parsing() -> None:
    assert dpop_challenge('DPoP error="use_dpop_nonce", algs="ES256 PS256"') == {
        "error": "use_dpop_nonce",
        "algs": "ES256 PS256",
    }
    mixed = 'Bearer realm="x", error="invalid_token", DPoP algs="ES256", error=use_dpop_nonce'
    assert dpop_challenge(mixed) == {"algs": "ES256", "error": "use_dpop_nonce"}
    assert dpop_challenge('Bearer realm="x"') is None
    assert dpop_challenge("") is None
    assert dpop_challenge("DPoP") == {}


def test_the_token_type_is_recorded_as_dpop() -> None:
    token = parse_token_response({"access_token": "a", "token_type": "dpop"}, 0.0)
    assert token.token_type == "DPoP"
    assert token.headers == {"Authorization": "DPoP a"}


# -- the token endpoint: nonce retries over real HTTP -----------------------------------


class NonceServer:
    """A token endpoint that wants a DPoP nonce; ``stuck`` hands out a new one every time."""

    def __init__(self, stuck: bool = False) -> None:
        self.stuck = stuck
        self.count = 0
        self.proofs: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        self.count += 1
        proof = jwt.decode(request.header("DPoP") or "", options={"verify_signature": False})
        self.proofs.append(proof)
        nonce = f"nonce-{self.count}" if self.stuck else "nonce-1"
        if proof.get("nonce") != nonce or self.stuck:
            return Response(
                400,
                {"error": "use_dpop_nonce", "error_description": "nonce required"},
                {"DPoP-Nonce": f"nonce-{self.count}"},
            )
        body = {"access_token": f"at-{self.count}", "token_type": "DPoP", "expires_in": 60}
        return Response(200, body, {"DPoP-Nonce": nonce})


def test_use_dpop_nonce_is_answered_by_one_retry_and_the_nonce_is_kept(
    loopback: Loopback,
) -> None:
    handler = NonceServer()
    server = loopback(handler)
    provider = ClientCredentialsTokenProvider(
        f"{server.url}/token?tenant=a", "c", "s", dpop_key=DPoPKey.generate(), clock=lambda: 5.0
    )
    token = provider.get_token()
    assert token.token_type == "DPoP" and handler.count == 2
    assert [p.get("nonce") for p in handler.proofs] == [None, "nonce-1"]
    assert {p["htu"] for p in handler.proofs} == {f"{server.url}/token"}
    assert {p["iat"] for p in handler.proofs} == {5}  # the endpoint's clock
    assert len({p["jti"] for p in handler.proofs}) == 2
    provider.get_token()
    assert handler.count == 3  # the kept nonce is sent at once


def test_a_nonce_loop_ends_after_one_retry(loopback: Loopback) -> None:
    handler = NonceServer(stuck=True)
    provider = ClientCredentialsTokenProvider(
        f"{loopback(handler).url}/token", "c", "s", dpop_key=DPoPKey.generate()
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert handler.count == 2
    assert caught.value.error == "use_dpop_nonce"
    assert "refused the DPoP nonce it had just sent" in str(caught.value)


def test_without_a_key_no_proof_is_sent(loopback: Loopback) -> None:
    seen: list[Any] = []

    def answer(request: Request) -> Response:
        seen.append(request.header("DPoP"))
        return Response(200, {"access_token": "at", "token_type": "Bearer"})

    ClientCredentialsTokenProvider(f"{loopback(answer).url}/t", "c", "s").get_token()
    assert seen == [None]


# -- BearerAuth over DPoP-bound tokens ----------------------------------------------------


class FixedProvider:
    def __init__(self, token: Token) -> None:
        self.token = token

    def get_token(self) -> Token:
        return self.token


def _bound_token(key: DPoPKey) -> Token:
    signer = ec.generate_private_key(ec.SECP256R1())
    access = jwt.encode({"cnf": {"jkt": key.thumbprint}, "exp": 4_000_000_000}, signer, "ES256")
    return Token(access, token_type="DPoP")


def test_bearer_auth_without_a_key_refuses_a_dpop_token() -> None:
    auth = BearerAuth(FixedProvider(Token("at", token_type="DPoP")))
    with pytest.raises(ConfigError, match="no DPoP key"):
        requests.Request("GET", "https://rs.example/").prepare().prepare_auth(auth)


def test_a_key_that_does_not_match_the_bound_token_is_a_clear_error() -> None:
    token = _bound_token(DPoPKey.generate())
    other = DPoPProver(DPoPKey.generate())
    auth = BearerAuth(FixedProvider(token), dpop=other)
    with pytest.raises(ConfigError) as caught:
        requests.Request("GET", "https://rs.example/").prepare().prepare_auth(auth)
    assert "issued for another DPoP key" in str(caught.value)
    assert token.access_token not in str(caught.value)


def test_resource_nonce_loop_retries_once(loopback: Loopback) -> None:
    key = DPoPKey.generate()
    calls: list[dict[str, Any]] = []

    def api(request: Request) -> Response:
        calls.append(jwt.decode(request.header("DPoP") or "", options={"verify_signature": False}))
        return Response(
            401,
            {"error": "use_dpop_nonce"},
            {"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": f"n{len(calls)}"},
        )

    server = loopback(api)
    auth = BearerAuth(AuthCache(FixedProvider(_bound_token(key))), dpop=DPoPProver(key))
    response = requests.get(f"{server.url}/x?q=1", auth=auth, timeout=5)
    assert response.status_code == 401 and len(calls) == 2
    assert [c.get("nonce") for c in calls] == [None, "n1"]
    assert calls[0]["htu"] == f"{server.url}/x" and calls[0]["htm"] == "GET"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_signs_with_the_same_key(loopback: Loopback) -> None:
    handler = NonceServer()
    server = loopback(handler)
    key = DPoPKey.generate()
    provider = ClientCredentialsTokenProvider(f"{server.url}/token", "c", "s", dpop_key=key)
    provider.get_token()  # the parent holds a session and a nonce
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one token request of its own, then report and leave
        code = 1
        try:
            provider.get_token()
            code = 0
        finally:
            os.write(write_end, str(code).encode())
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 16) == b"0" and status == 0
    os.close(read_end)
    proofs = handler.proofs
    assert len(proofs) == 3  # parent: refused + retried; child: one, with the kept nonce
    assert proofs[-1]["nonce"] == "nonce-1"
    headers = [r.header("DPoP") or "" for r in server.requests]
    assert {jwt.get_unverified_header(h)["jwk"]["x"] for h in headers} == {key.jwk["x"]}
