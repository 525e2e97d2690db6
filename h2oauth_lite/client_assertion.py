"""Client authentication with a signed JWT (RFC 7523 section 2.2, OpenID Connect Core section 9).

``ClientSecretJWT`` signs with the client secret (HMAC, nothing to install);
``PrivateKeyJWT`` signs with a private key, which needs ``cryptography``
(``pip install 'h2oauth-lite[crypto]'``). ``cryptography`` is imported only
when a private key is loaded, so the plain install never touches it.

Every request gets a new assertion with its own ``jti``: servers remember the
``jti`` values they have seen and refuse a replay.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .client_auth import _require_id
from .durations import Duration, to_seconds
from .errors import ConfigError, TokenEndpointError
from .token import mask

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "AssertionSigner",
    "ClientSecretJWT",
    "PrivateKeyJWT",
    "load_private_key",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Long enough for a slow network and a little clock skew, short enough to be
# useless to anyone who captures it.
CLIENT_ASSERTION_LIFETIME = 60.0

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
EDDSA_ALGORITHMS = ("EdDSA",)
ASYMMETRIC_ALGORITHMS = (*RSA_ALGORITHMS, *EC_ALGORITHMS, *EDDSA_ALGORITHMS)

PrivateKeySource = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any], Any]

_CRYPTO_MISSING = (
    "signing with a private key needs the cryptography package: pip install 'h2oauth-lite[crypto]'"
)


def _check_alg(alg: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(alg, str) or not alg:
        raise ConfigError(f"{what} needs an alg, one of {', '.join(allowed)}")
    if alg.lower() == "none":
        raise ConfigError("alg='none' is refused: an unsigned assertion proves nothing")
    if alg not in allowed:
        raise ConfigError(f"{what} does not sign with {alg!r}; use one of {', '.join(allowed)}")
    return alg


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise ConfigError(_CRYPTO_MISSING) from None
    import jwt.algorithms

    if not jwt.algorithms.has_crypto:  # PyJWT was imported while cryptography was missing
        raise ConfigError(_CRYPTO_MISSING)


# -- private keys -------------------------------------------------------------------


def _read_key_file(path: Union[str, os.PathLike[str]]) -> bytes:
    try:
        return Path(path).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        if isinstance(path, str):
            # A string may be the key itself (a PEM body without its header lines,
            # say), and base64 has "/" in it: no test tells the two apart, so the
            # string is never quoted.
            raise ConfigError(
                "the private key is not PEM text, a JWK or a readable file (a string of "
                f"{len(path)} characters; cannot read the private key file it would name: "
                f"{reason})"
            ) from None
        raise ConfigError(
            f"cannot read the private key file {os.fspath(path)!r}: {reason}"
        ) from None


def _from_jwk(jwk: Mapping[str, Any]) -> tuple[Any, Optional[str]]:
    import jwt

    if "d" not in jwk:
        raise ConfigError("the JWK is a public key (no 'd' member); a private JWK is needed")
    data = {name: value for name, value in jwk.items() if name != "alg"}
    try:
        # Without 'alg' PyJWT picks the key class from kty/crv; the alg check follows.
        loaded = jwt.PyJWK(data)
    except jwt.exceptions.PyJWTError as exc:
        raise ConfigError(f"the JWK is not a usable private key ({type(exc).__name__})") from None
    kid = jwk.get("kid")
    return loaded.key, kid if isinstance(kid, str) and kid else None


def _from_pem(pem: bytes, password: Optional[Union[str, bytes]]) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    secret = password.encode("utf-8") if isinstance(password, str) else password
    try:
        return load_pem_private_key(pem, password=secret)
    except TypeError:
        # cryptography says TypeError both for a missing and for a needless password.
        if secret is None:
            raise ConfigError(
                "the private key is encrypted; pass its passphrase as private_key_password"
            ) from None
        raise ConfigError(
            "private_key_password was given but the private key is not encrypted"
        ) from None
    except ValueError:
        if secret is not None and b"ENCRYPTED" in pem:
            raise ConfigError(
                "could not decrypt the private key: wrong private_key_password?"
            ) from None
        raise ConfigError("the PEM data is not a private key this library can load") from None
    except Exception as exc:  # e.g. cryptography's UnsupportedAlgorithm
        raise ConfigError(f"the private key could not be loaded ({type(exc).__name__})") from None


def load_private_key(
    private_key: PrivateKeySource, *, password: Optional[Union[str, bytes]] = None
) -> tuple[Any, Optional[str]]:
    """A ``cryptography`` private key and the ``kid`` it names (JWKs only), from
    PEM text or bytes, a path to a PEM or JWK file, a JWK dict or JSON text, or
    a key object. ConfigError for everything that is not a usable private key.
    """
    _require_cryptography()
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(private_key, Mapping):
        if password is not None:
            raise ConfigError("private_key_password applies to PEM keys, not to a JWK")
        return _from_jwk(private_key)
    if isinstance(private_key, (bytes, bytearray)):
        data = bytes(private_key)
    elif isinstance(private_key, str):
        looks_inline = "-----BEGIN" in private_key or private_key.lstrip().startswith("{")
        data = private_key.encode("utf-8") if looks_inline else _read_key_file(private_key)
    elif isinstance(private_key, os.PathLike):
        data = _read_key_file(private_key)
    elif isinstance(
        private_key,
        (
            rsa.RSAPrivateKey,
            ec.EllipticCurvePrivateKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PrivateKey,
        ),
    ):
        return private_key, None
    else:
        raise ConfigError(
            "private_key must be PEM text, a key file path, a JWK dict or a private key object, "
            f"not {type(private_key).__name__}"
        )
    if data.lstrip().startswith(b"{"):
        try:
            jwk = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ConfigError("the private key looks like JSON but does not parse") from None
        if not isinstance(jwk, Mapping):
            raise ConfigError("a JSON private key must be a JWK object")
        return load_private_key(jwk, password=password)
    if b"-----BEGIN" not in data:
        raise ConfigError("the private key is neither PEM nor a JWK")
    return _from_pem(data, password), None


def _key_kind(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return "EdDSA"
    return type(key).__name__


def default_alg_for(key: Any) -> str:
    """The usual algorithm for a key: RS256 for RSA, ES256/384/512 by curve, EdDSA."""
    kind = _key_kind(key)
    if kind == "RSA":
        return "RS256"
    for alg, curve in EC_ALGORITHMS.items():
        if kind == f"EC {curve}":
            return alg
    if kind == "EdDSA":
        return "EdDSA"
    raise ConfigError(f"no signing algorithm for a {kind} key")


def check_key_matches(key: Any, alg: str) -> None:
    """ConfigError when ``key`` cannot sign with ``alg`` (an EC key for RS256, say)."""
    import jwt.algorithms

    kind = _key_kind(key)
    if alg in RSA_ALGORITHMS:
        wanted = "RSA"
    elif alg in EC_ALGORITHMS:
        wanted = f"EC {EC_ALGORITHMS[alg]}"
    else:
        wanted = "EdDSA"
        if "EdDSA" not in jwt.algorithms.get_default_algorithms():
            raise ConfigError("this PyJWT cannot sign with EdDSA; upgrade PyJWT")
    if kind != wanted:
        raise ConfigError(f"alg {alg} needs an {wanted} private key, but the key is {kind}")


# -- signing ---------------------------------------------------------------------


class AssertionSigner:
    """Signs short-lived JWTs with one key; each call mints a fresh ``jti``.

    The key never shows in ``repr`` and travels through pickle as PKCS#8 DER
    (``cryptography`` keys cannot be pickled themselves).
    """

    def __init__(
        self,
        key: Any,
        alg: str,
        *,
        kid: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self.alg = alg
        self.kid = kid
        self._clock = clock

    def claims(
        self,
        issuer: str,
        subject: str,
        audience: str,
        lifetime: float,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]:
        now = int(self._clock())
        claims: dict[str, Any] = dict(extra or {})
        claims.update(
            iss=issuer,
            sub=subject,
            aud=audience,
            jti=secrets.token_urlsafe(24),
            iat=now,
            exp=now + max(1, int(lifetime)),
        )
        return claims

    def sign(self, claims: Mapping[str, Any]) -> str:
        import jwt

        headers = {"kid": self.kid} if self.kid else None
        return jwt.encode(dict(claims), self._key, algorithm=self.alg, headers=headers)

    def __repr__(self) -> str:
        return f"AssertionSigner(alg={self.alg!r}, kid={self.kid!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if not isinstance(self._key, bytes):
            from cryptography.hazmat.primitives import serialization

            state["_key"] = None
            state["_pkcs8"] = self._key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pkcs8 = state.pop("_pkcs8", None)
        self.__dict__.update(state)
        if pkcs8 is not None:
            from cryptography.hazmat.primitives.serialization import load_der_private_key

            self._key = load_der_private_key(pkcs8, password=None)


def signer_for_private_key(
    private_key: PrivateKeySource,
    *,
    alg: Optional[str],
    kid: Optional[str] = None,
    password: Optional[Union[str, bytes]] = None,
    clock: Callable[[], float] = time.time,
    what: str = "PrivateKeyJWT",
) -> AssertionSigner:
    """Load, check and wrap a private key; ``alg=None`` picks the key's usual algorithm."""
    if alg is not None:
        if isinstance(alg, str) and alg in HMAC_ALGORITHMS:
            raise ConfigError(f"{what} signs with a private key; HMAC ({alg}) is ClientSecretJWT")
        _check_alg(alg, ASYMMETRIC_ALGORITHMS, what)
    key, jwk_kid = load_private_key(private_key, password=password)
    chosen = alg or default_alg_for(key)
    check_key_matches(key, chosen)
    return AssertionSigner(key, chosen, kid=kid or jwk_kid, clock=clock)


# -- client authentication methods -------------------------------------------------


class _JWTClientAuth:
    """What both JWT methods share: the assertion and the form fields that carry it."""

    method = ""
    # Each assertion may be used once (its jti): BaseTokenProvider.retry_policy then
    # retries only connect errors, since a resent request would carry the same jti.
    single_use_assertion = True

    def __init__(self, client_id: str, signer: AssertionSigner, audience: Optional[str]) -> None:
        self.client_id = _require_id(client_id)
        if audience is not None and (not isinstance(audience, str) or not audience):
            raise ConfigError("audience must be a non-empty string (or None for the endpoint)")
        self.audience = audience
        self._signer = signer

    @property
    def alg(self) -> str:
        return self._signer.alg

    def assertion(self, token_url: str) -> str:
        """A new signed assertion for a request to ``token_url``."""
        claims = self._signer.claims(
            self.client_id,
            self.client_id,
            self.audience or token_url,
            CLIENT_ASSERTION_LIFETIME,
        )
        return self._signer.sign(claims)

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        data["client_id"] = self.client_id
        data["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        data["client_assertion"] = self.assertion(token_url)

    def explain_rejection(self, error: TokenEndpointError, url: str) -> TokenEndpointError:
        """``error`` with a hint of the usual causes when the server refused the client."""
        if error.error != "invalid_client":
            return error
        hint = (
            f"the server refused the {self.method} assertion of client {self.client_id!r}: "
            f"check that it is registered for {self.method} with alg {self.alg}, "
            f"and the audience (aud was {self.audience or url!r}; "
            "pass audience= if the server expects its issuer URL)"
        )
        return type(error)(
            error.status_code, error.error, error.error_description, error.error_uri, detail=hint
        )


class ClientSecretJWT(_JWTClientAuth):
    """``client_secret_jwt``: an assertion signed with the client secret (HMAC).

    ``aud`` is the endpoint the request goes to unless ``audience`` is given.
    A secret shorter than the hash output draws PyJWT's
    ``InsecureKeyLengthWarning`` and still works.
    """

    method = "client_secret_jwt"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        alg: str = "HS256",
        audience: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigError("client_secret_jwt needs a client_secret")
        if isinstance(alg, str) and alg in ASYMMETRIC_ALGORITHMS:
            raise ConfigError(f"{alg} signs with a private key: use PrivateKeyJWT")
        chosen = _check_alg(alg, HMAC_ALGORITHMS, "ClientSecretJWT")
        self._secret_length = len(client_secret)
        signer = AssertionSigner(client_secret.encode("utf-8"), chosen, clock=clock)
        super().__init__(client_id, signer, audience)

    def __repr__(self) -> str:
        return (
            f"ClientSecretJWT(client_id={self.client_id!r}, client_secret="
            f"{mask('x' * self._secret_length)}, alg={self.alg!r})"
        )


class PrivateKeyJWT(_JWTClientAuth):
    """``private_key_jwt``: an assertion signed with the client's private key.

    ``private_key`` is PEM text, a path to a PEM or JWK file, a JWK dict, or a
    ``cryptography`` key; ``private_key_password`` opens an encrypted PEM.
    ``kid`` goes in the header (a JWK's own ``kid`` by default); ``alg=None``
    picks the key's usual algorithm (RS256, ES256/384/512 by curve, EdDSA).
    """

    method = "private_key_jwt"

    def __init__(
        self,
        client_id: str,
        private_key: PrivateKeySource,
        *,
        alg: Optional[str] = "RS256",
        kid: Optional[str] = None,
        audience: Optional[str] = None,
        private_key_password: Optional[Union[str, bytes]] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        signer = signer_for_private_key(
            private_key, alg=alg, kid=kid, password=private_key_password, clock=clock
        )
        super().__init__(client_id, signer, audience)

    @property
    def kid(self) -> Optional[str]:
        return self._signer.kid

    def __repr__(self) -> str:
        return f"PrivateKeyJWT(client_id={self.client_id!r}, alg={self.alg!r}, kid={self.kid!r})"


def assertion_lifetime(value: Duration) -> float:
    """A positive assertion lifetime in seconds."""
    seconds = to_seconds(value, "assertion_lifetime")
    if seconds < 1:
        raise ConfigError("assertion_lifetime must be at least one second")
    return seconds
