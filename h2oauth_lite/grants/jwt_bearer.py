"""The JWT-bearer grant (RFC 7523 section 2.1): a signed assertion buys an access token.

Service accounts use it: the account signs a short JWT saying who it is
(``iss``), whom it acts for (``sub``) and which server it talks to (``aud``),
and the token endpoint answers with an access token. Every request carries a
new assertion, with its own ``jti``, ``iat`` and ``exp``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from ..client_auth.assertion import assertion_lifetime as _lifetime
from ..client_auth.assertion import check_audience, signer_for_private_key
from ..client_auth.keys import PrivateKeySource
from ..client_auth.secret import NoClientAuth
from ..durations import Duration
from ..errors import ConfigError
from ..token import Token
from .base import TokenGrant
from .endpoint import TokenEndpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import ClientOptions

    class JWTBearerOptions(ClientOptions, total=False):
        """The keyword options of JWTBearerTokenProvider, for its alternative constructors."""

        audience: Optional[str]
        alg: Optional[str]
        kid: Optional[str]
        claims: Optional[Mapping[str, Any]]
        assertion_lifetime: Duration
        client_id: Optional[str]
        client_secret: Optional[str]
        private_key_password: Optional[Union[str, bytes]]

__all__ = ["JWT_BEARER_GRANT_TYPE", "JWTBearerTokenProvider"]

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_RESERVED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "jti"})


class JWTBearerTokenProvider(TokenGrant):
    """Exchanges a signed assertion for an access token; every call is one token request.

    ``issuer`` and ``subject`` become ``iss`` and ``sub``; ``aud`` is the
    token endpoint unless ``audience`` is given. ``claims`` adds claims (for
    instance Google's ``scope`` claim) but cannot replace the registered ones.
    ``private_key`` takes what :class:`~h2oauth_lite.PrivateKeyJWT` takes.
    Without ``client_auth`` the request carries only the assertion; give a
    client (``client_id=``, ``client_secret=``, ``client_auth=``) when the
    server also wants the client to authenticate.
    """

    grant_type = JWT_BEARER_GRANT_TYPE

    def __init__(
        self,
        auth_url: Optional[str],
        issuer: str,
        subject: str,
        private_key: PrivateKeySource,
        *,
        audience: Optional[str] = None,
        alg: Optional[str] = "RS256",
        kid: Optional[str] = None,
        claims: Optional[Mapping[str, Any]] = None,
        assertion_lifetime: Duration = 300,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        private_key_password: Optional[Union[str, bytes]] = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        for name, value in (("issuer", issuer), ("subject", subject)):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"the JWT-bearer grant needs a non-empty {name}")
        audience = check_audience(audience)
        extra = dict(claims or {})
        clash = sorted(_RESERVED_CLAIMS.intersection(extra))
        if clash:
            raise ConfigError(
                f"claims may not set {', '.join(clash)}: they come from the arguments"
            )
        if options.get("client_auth") is None and client_id is None:
            # The assertion is the credential (RFC 7523 section 3.1): nothing else is sent.
            options["client_auth"] = NoClientAuth(issuer, send_client_id=False)
        super().__init__(
            TokenEndpoint(
                auth_url,
                client_id=client_id or issuer,
                client_secret=client_secret,
                # The assertion (its jti) is single-use: a status retry would resend it.
                replay_safe=False,
                owner=type(self).__name__,
                **options,
            )
        )
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self._claims = extra
        self._assertion_lifetime = _lifetime(assertion_lifetime)
        self._signer = signer_for_private_key(
            private_key,
            alg=alg,
            kid=kid,
            password=private_key_password,
            clock=self.endpoint.clock,
            what="JWTBearerTokenProvider",
        )

    @property
    def alg(self) -> str:
        return self._signer.alg

    def assertion(self) -> str:
        """A new signed assertion for the token endpoint."""
        claims = self._signer.claims(
            self.issuer,
            self.subject,
            self.audience or self.token_endpoint,
            self._assertion_lifetime,
            self._claims,
        )
        return self._signer.sign(claims)

    def _obtain(self) -> Token:
        return self.endpoint.request_token(
            {"grant_type": self.grant_type, "assertion": self.assertion()}
        )

    @classmethod
    def from_service_account_file(
        cls,
        path: Union[str, os.PathLike[str]],
        *,
        subject: Optional[str] = None,
        auth_url: Optional[str] = None,
        **options: Unpack[JWTBearerOptions],
    ) -> JWTBearerTokenProvider:
        """A provider from a JSON service-account file.

        The file gives ``client_email`` (issuer, and subject unless ``subject``
        is given), ``private_key`` (PEM), ``private_key_id`` (the ``kid``) and
        ``token_uri`` (the token endpoint unless ``auth_url`` is given).
        """
        account = _read_service_account(path)
        email = _field(account, "client_email", path)
        key = _field(account, "private_key", path)
        if auth_url is None and options.get("issuer_url") is None:
            auth_url = _field(account, "token_uri", path)
        key_id = account.get("private_key_id")
        options.setdefault("kid", key_id if isinstance(key_id, str) and key_id else None)
        return cls(auth_url, email, subject or email, key, **options)

    def __repr__(self) -> str:
        return (
            f"JWTBearerTokenProvider(endpoint={self.endpoint.where()!r}, issuer={self.issuer!r}, "
            f"subject={self.subject!r}, alg={self.alg!r})"
        )


def _read_service_account(path: Union[str, os.PathLike[str]]) -> Mapping[str, Any]:
    name = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot read the service-account file {name!r}: {reason}") from None
    try:
        account = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser depth
        raise ConfigError(f"the service-account file {name!r} is not valid JSON") from None
    if not isinstance(account, Mapping):
        raise ConfigError(f"the service-account file {name!r} is not a JSON object")
    return account


def _field(account: Mapping[str, Any], name: str, path: Union[str, os.PathLike[str]]) -> str:
    value = account.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the service-account file {os.fspath(path)!r} has no {name}")
    return value
