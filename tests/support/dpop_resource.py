"""A protected resource that checks DPoP (RFC 9449 section 7) the way a real one must.

It is a handler for :class:`tests.support.loopback.LoopbackServer` (stdlib
``http.server``): every request must present ``Authorization: DPoP <token>``
and a ``DPoP`` proof. The proof's signature is checked with the ``jwk`` of its
own header; ``typ``, ``htm``, ``htu``, ``iat``, ``ath`` and the server's nonce
are checked, ``jti`` values are remembered (a replay is refused), and the
access token, a JWT signed by the provider, must be bound to the proof's key
(``cnf.jkt`` equal to the key's thumbprint). This is written independently of
the library (it shares no code with ``h2oauth_lite.client_auth.dpop``), so it
checks the client rather than agreeing with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any, Callable, Optional

import jwt

from tests.support.loopback import Request, Response

ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"]
IAT_WINDOW = 60


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    required = {name: jwk[name] for name in members[jwk["kty"]]}
    return _b64url(hashlib.sha256(json.dumps(required, separators=(",", ":")).encode()).digest())


class Refused(Exception):
    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error


class DPoPResource:
    """The handler; ``base_url`` is set once the loopback server has its port.

    ``token_key(access_token)`` returns the key that verifies an access token
    (the provider's JWKS); ``nonce_every_time`` hands out a new nonce on every
    request and refuses every other one (a server stuck in a nonce loop).
    """

    def __init__(
        self,
        token_key: Callable[[str], Any],
        *,
        audience: Optional[str] = None,
        nonce_every_time: bool = False,
    ) -> None:
        self.token_key = token_key
        self.audience = audience
        self.nonce_every_time = nonce_every_time
        self.base_url = ""
        self.nonce = secrets.token_urlsafe(16)
        self.seen_jti: set[str] = set()
        self.accepted: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self._lock = threading.Lock()

    def rotate_nonce(self) -> None:
        self.nonce = secrets.token_urlsafe(16)

    def __call__(self, request: Request) -> Response:
        with self._lock:
            try:
                claims = self._check(request)
            except Refused as refused:
                self.refusals.append(f"{refused.error}: {refused}")
                headers = {"WWW-Authenticate": f'DPoP error="{refused.error}", algs="ES256"'}
                if refused.error == "use_dpop_nonce":
                    headers["DPoP-Nonce"] = self.nonce
                return Response(401, {"error": refused.error}, headers)
            self.accepted.append(claims)
            return Response(200, {"sub": claims.get("sub"), "client_id": claims.get("client_id")})

    def _check(self, request: Request) -> dict[str, Any]:
        scheme, _, access_token = (request.header("Authorization") or "").partition(" ")
        if scheme != "DPoP" or not access_token:
            raise Refused("invalid_token", "no DPoP access token")
        proof = request.header("DPoP")
        if not proof or "," in proof:
            raise Refused("invalid_dpop_proof", "exactly one DPoP proof is required")
        header = jwt.get_unverified_header(proof)
        if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGORITHMS:
            raise Refused("invalid_dpop_proof", "wrong typ or alg")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk:
            raise Refused("invalid_dpop_proof", "the jwk must be a public key")
        try:
            key = jwt.PyJWK(jwk, algorithm=header["alg"]).key
            claims = jwt.decode(proof, key, algorithms=[header["alg"]])
        except jwt.PyJWTError as exc:
            raise Refused("invalid_dpop_proof", f"bad signature: {exc}") from None
        if claims.get("htm") != request.method:
            raise Refused("invalid_dpop_proof", "htm mismatch")
        if claims.get("htu") != self.base_url + request.path:
            raise Refused("invalid_dpop_proof", f"htu mismatch: {claims.get('htu')}")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(time.time() - iat) > IAT_WINDOW:
            raise Refused("invalid_dpop_proof", "iat out of the window")
        ath = _b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        if claims.get("ath") != ath:
            raise Refused("invalid_dpop_proof", "ath mismatch")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or jti in self.seen_jti:
            raise Refused("invalid_dpop_proof", "jti missing or replayed")
        self.seen_jti.add(jti)
        if claims.get("nonce") != self.nonce:
            raise Refused("use_dpop_nonce", "nonce missing or stale")
        if self.nonce_every_time:
            self.rotate_nonce()
        try:
            token_claims: dict[str, Any] = jwt.decode(
                access_token,
                self.token_key(access_token),
                algorithms=["RS256"],
                audience=self.audience,
                options={"verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise Refused("invalid_token", f"access token refused: {exc}") from None
        cnf = token_claims.get("cnf") or {}
        if cnf.get("jkt") != thumbprint(jwk):
            raise Refused("invalid_token", "the token is not bound to the proof's key")
        return token_claims


def provider_keys(jwks_uri: str) -> Callable[[str], Any]:
    """``token_key`` for tokens signed by an OpenID provider: its JWKS, looked up by ``kid``."""
    client = jwt.PyJWKClient(jwks_uri)

    def key(access_token: str) -> Any:
        return client.get_signing_key_from_jwt(access_token).key

    return key
