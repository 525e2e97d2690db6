"""DPoP (RFC 9449): proof-of-possession JWTs that bind tokens to a client key.

A DPoP proof is a small JWT signed with the client's key, sent in the
``DPoP`` header of one HTTP request: ``typ`` dpop+jwt, the public ``jwk`` in
its header, and the request's method (``htm``), URL without query or
fragment (``htu``), a unique ``jti``, the time (``iat``), the server's
``nonce`` when it asked for one, and ``ath`` (the access token's hash) when
the request presents a DPoP-bound token to a resource server.

This module builds proofs and keeps the nonces servers hand out; it sends
nothing. The token endpoint (``grants.endpoint``) and ``BearerAuth`` put the
proofs on requests and answer a ``use_dpop_nonce`` refusal with one retry.
It lives with client authentication because a proof is the client proving
possession of a key, the same job a ``private_key_jwt`` assertion does, with
the same key loading (``keys.py``) and the same pickling rule.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError
from .keys import (
    EC_ALGORITHMS,
    RSA_ALGORITHMS,
    PrivateKeySource,
    check_alg,
    check_key_matches,
    default_alg_for,
    key_from_der,
    key_to_der,
    load_private_key,
)

__all__ = [
    "DPOP_ALGORITHMS",
    "DPoPKey",
    "DPoPProver",
    "access_token_hash",
    "dpop_challenge",
    "jwk_thumbprint",
    "origin_of",
    "proof_claims",
    "proof_url",
    "token_key_thumbprint",
]

# Asymmetric only: a proof shows possession of a private key (RFC 9449 section 4.2).
DPOP_ALGORITHMS = (*EC_ALGORITHMS, *RSA_ALGORITHMS, "EdDSA")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def public_jwk(key: Any) -> dict[str, str]:
    """The public half of a ``cryptography`` private key as a JWK (members of RFC 7518)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = key.public_key().public_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        return {
            "kty": "EC",
            "crv": crv,
            "x": _b64url(_int_bytes(numbers.x, size)),
            "y": _b64url(_int_bytes(numbers.y, size)),
        }
    if isinstance(key, rsa.RSAPrivateKey):
        rsa_numbers = key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "e": _b64url(_int_bytes(rsa_numbers.e, (rsa_numbers.e.bit_length() + 7) // 8)),
            "n": _b64url(_int_bytes(rsa_numbers.n, (rsa_numbers.n.bit_length() + 7) // 8)),
        }
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        crv = "Ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "Ed448"
        return {"kty": "OKP", "crv": crv, "x": _b64url(raw)}
    raise ConfigError(f"a DPoP key must be EC, RSA or EdDSA, not {type(key).__name__}")


_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: a token's ``cnf.jkt``."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise ValueError("not an EC, RSA or OKP JWK")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token (RFC 9449 section 4.2)."""
    return _b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def proof_url(url: str) -> str:
    """``htu``: the request URL without query and fragment (RFC 9449 section 4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def origin_of(url: str) -> str:
    """The server a nonce belongs to: scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def proof_claims(
    htm: str,
    htu: str,
    *,
    iat: float,
    jti: str,
    nonce: Optional[str] = None,
    access_token: Optional[str] = None,
) -> dict[str, Any]:
    """The claims of one proof. Pure: the caller brings the time and the ``jti``."""
    claims: dict[str, Any] = {
        "jti": jti,
        "htm": htm.upper(),
        "htu": proof_url(htu),
        "iat": int(iat),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    return claims


class DPoPKey:
    """The private key a client proves possession of; tokens are bound to its thumbprint.

    ``private_key`` is PEM text or bytes, a path to a PEM or JWK file, a JWK
    dict or a ``cryptography`` key (``password`` opens an encrypted PEM);
    :meth:`generate` makes a new one (EC P-256 by default). ``alg=None``
    picks the key's usual algorithm. Needs ``cryptography``
    (``pip install 'h2oauth-lite[crypto]'``).
    The private key never shows in ``repr`` and travels through pickle as
    PKCS#8 DER, so a copy in another process is the same key: tokens bound
    to it stay usable there.
    """

    def __init__(
        self,
        private_key: PrivateKeySource,
        *,
        alg: Optional[str] = None,
        password: Optional[Union[str, bytes]] = None,
    ) -> None:
        key, _ = load_private_key(private_key, password=password)
        chosen = check_alg(alg or default_alg_for(key), DPOP_ALGORITHMS, "a DPoP key")
        check_key_matches(key, chosen)
        self._key = key
        self.alg = chosen
        self.jwk = public_jwk(key)
        self.thumbprint = jwk_thumbprint(self.jwk)

    @classmethod
    def generate(cls, alg: str = "ES256") -> DPoPKey:
        """A new key for ``alg``: ES256/384/512 (an EC key), RS*/PS* (RSA 2048), EdDSA."""
        from .keys import _require_cryptography

        _require_cryptography()
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        check_alg(alg, DPOP_ALGORITHMS, "a DPoP key")
        key: Any
        if alg in EC_ALGORITHMS:
            key = ec.generate_private_key(getattr(ec, EC_ALGORITHMS[alg].upper())())
        elif alg in RSA_ALGORITHMS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ed25519.Ed25519PrivateKey.generate()
        return cls(key, alg=alg)

    def sign_proof(self, claims: Mapping[str, Any]) -> str:
        """A signed proof JWT carrying ``claims`` (see :func:`proof_claims`)."""
        import jwt

        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return jwt.encode(dict(claims), self._key, algorithm=self.alg, headers=headers)

    def __repr__(self) -> str:
        # The thumbprint names the public key only: it is what a bound token carries.
        return f"DPoPKey(alg={self.alg!r}, thumbprint={self.thumbprint!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_key"] = key_to_der(self._key)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        der = state.pop("_key")
        self.__dict__.update(state)
        self._key = key_from_der(der)


class DPoPProver:
    """Proofs for one client's requests, and the nonce each server last gave it.

    ``clock`` is the token endpoint's clock, so ``iat`` agrees with the times
    the rest of the client works with. Nonces are kept per origin (RFC 9449
    section 8: a nonce is the server's, whichever client asked).
    """

    def __init__(self, key: DPoPKey, *, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(key, DPoPKey):
            raise ConfigError(f"dpop_key must be a DPoPKey, not {type(key).__name__}")
        self.key = key
        self.clock = clock
        self._nonces: dict[str, str] = {}

    @property
    def thumbprint(self) -> str:
        return self.key.thumbprint

    def nonce_for(self, url: str) -> Optional[str]:
        return self._nonces.get(origin_of(url))

    def remember_nonce(self, url: str, headers: Mapping[str, str]) -> None:
        """Keep the ``DPoP-Nonce`` a server sent with any answer (RFC 9449 section 8.2)."""
        nonce = headers.get("DPoP-Nonce")
        if nonce and _NONCE.fullmatch(nonce):
            self._nonces[origin_of(url)] = nonce

    def proof(self, htm: str, url: str, access_token: Optional[str] = None) -> str:
        """A fresh proof for one request: new ``jti``, ``iat`` now, the server's nonce."""
        claims = proof_claims(
            htm,
            url,
            iat=self.clock(),
            jti=secrets.token_urlsafe(24),
            nonce=self.nonce_for(url),
            access_token=access_token,
        )
        return self.key.sign_proof(claims)

    def check_bound(self, access_token: str) -> None:
        """ConfigError when a JWT access token is bound (``cnf.jkt``) to another key."""
        bound_to = token_key_thumbprint(access_token)
        if bound_to is not None and bound_to != self.thumbprint:
            raise ConfigError(
                "the DPoP-bound access token was issued for another DPoP key (its cnf.jkt "
                "differs from this key's thumbprint): the key changed since the token was "
                "obtained or stored; use the original key or discard the stored token"
            )

    def __repr__(self) -> str:
        return f"DPoPProver({self.key!r})"


# RFC 9449 section 8.1: NQCHAR, printable ASCII without the double quote.
_NONCE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def token_key_thumbprint(access_token: str) -> Optional[str]:
    """``cnf.jkt`` of a JWT access token (unverified: only compared with our own key)."""
    if access_token.count(".") != 2:
        return None
    import jwt

    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, UnicodeError):
        return None
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, Mapping) else None
    return jkt if isinstance(jkt, str) else None


_AUTH_PARAM = re.compile(r'\s*([A-Za-z0-9_\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')
_SCHEME = re.compile(r"\s*,?\s*([A-Za-z0-9_\-]+)(?=\s|$|,)")


def dpop_challenge(www_authenticate: str) -> Optional[dict[str, str]]:
    """The parameters of the ``DPoP`` challenge in a ``WWW-Authenticate`` value, if any.

    ``DPoP error="use_dpop_nonce", algs="ES256"`` gives
    ``{"error": "use_dpop_nonce", "algs": "ES256"}``; other schemes
    (``Bearer realm=...``) around it are skipped.
    """
    position, found = 0, None
    text = www_authenticate or ""
    while position < len(text):
        scheme = _SCHEME.match(text, position)
        if scheme is None:
            return found
        position = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _AUTH_PARAM.match(text, position)
            if param is None:
                break
            value = param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[param.group(1).lower()] = value
            position = param.end()
        if scheme.group(1).lower() == "dpop":
            found = params
    return found
