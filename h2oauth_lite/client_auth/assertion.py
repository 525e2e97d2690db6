"""Client authentication with a signed JWT (RFC 7523 section 2.2, OpenID Connect Core section 9).

``ClientSecretJWT`` signs with the client secret (HMAC, nothing to install);
``PrivateKeyJWT`` signs with a private key, which needs ``cryptography``
(``pip install 'h2oauth-lite[crypto]'``). ``cryptography`` is imported only
when a private key is loaded, so the plain install never touches it.

Every request gets a new assertion with its own ``jti``: servers remember the
``jti`` values they have seen and refuse a replay.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

from .._redact import mask
from ..durations import Duration, to_seconds
from ..errors import ConfigError, TokenEndpointError
from .base import require_client_id
from .keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    PrivateKeySource,
    check_alg,
    check_key_matches,
    default_alg_for,
    key_from_der,
    key_to_der,
    load_private_key,
)

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "AssertionSigner",
    "ClientSecretJWT",
    "PrivateKeyJWT",
    "assertion_lifetime",
    "check_audience",
    "signer_for_private_key",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Long enough for a slow network and a little clock skew, short enough to be
# useless to anyone who captures it.
CLIENT_ASSERTION_LIFETIME = 60.0

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
        if not isinstance(self._key, bytes):  # an HMAC secret pickles as it is
            state["_key"] = None
            state["_pkcs8"] = key_to_der(self._key)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pkcs8 = state.pop("_pkcs8", None)
        self.__dict__.update(state)
        if pkcs8 is not None:
            self._key = key_from_der(pkcs8)


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
        check_alg(alg, ASYMMETRIC_ALGORITHMS, what)
    key, jwk_kid = load_private_key(private_key, password=password)
    chosen = alg or default_alg_for(key)
    check_key_matches(key, chosen)
    return AssertionSigner(key, chosen, kid=kid or jwk_kid, clock=clock)


# -- client authentication methods -------------------------------------------------


class _JWTClientAuth:
    """What both JWT methods share: the assertion and the form fields that carry it."""

    method = ""
    def __init__(self, client_id: str, signer: AssertionSigner, audience: Optional[str]) -> None:
        self.client_id = require_client_id(client_id)
        self.audience = check_audience(audience)
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
            error.status_code,
            error.error,
            error.error_description,
            error.error_uri,
            detail=hint,
            request=error.request,
            url=error.url,
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
        chosen = check_alg(alg, HMAC_ALGORITHMS, "ClientSecretJWT")
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


def check_audience(audience: Optional[str]) -> Optional[str]:
    """An explicit ``aud`` for an assertion: a non-empty string, or None for the endpoint."""
    if audience is not None and (not isinstance(audience, str) or not audience):
        raise ConfigError("audience must be a non-empty string (or None for the endpoint)")
    return audience


def assertion_lifetime(value: Duration) -> float:
    """A positive assertion lifetime in seconds."""
    seconds = to_seconds(value, "assertion_lifetime")
    if seconds < 1:
        raise ConfigError("assertion_lifetime must be at least one second")
    return seconds
