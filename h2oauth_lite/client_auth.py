"""How a client proves who it is to the token endpoint (RFC 6749 section 2.3).

A client authentication method is any object with a ``client_id`` and an
``apply(token_url, headers, data)`` method that adds what it needs to the
request's headers and form body. One whose credential may be used only once
(a signed assertion with a ``jti``) says so with ``single_use_assertion =
True``: its requests are then retried only after connect errors. The
built-in methods are below; signed-JWT methods live in
:mod:`h2oauth_lite.client_assertion`.
"""

from __future__ import annotations

import base64
from typing import Optional, Protocol, runtime_checkable
from urllib.parse import quote_plus

from .errors import ConfigError
from .token import mask

__all__ = [
    "ClientAuth",
    "ClientSecretBasic",
    "ClientSecretPost",
    "NoClientAuth",
    "client_auth_for",
]


@runtime_checkable
class ClientAuth(Protocol):
    """What every client authentication method provides."""

    client_id: str

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        """Add this client's credentials to one token-endpoint request."""


def _require_id(client_id: str) -> str:
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("client_id is required")
    return client_id


def _require_secret(client_secret: str, method: str) -> str:
    if not client_secret:
        raise ConfigError(f"{method} needs a client_secret")
    return client_secret


class ClientSecretBasic:
    """``client_secret_basic``: id and secret in an HTTP Basic ``Authorization`` header.

    Both are form-encoded before base64 (RFC 6749 section 2.3.1), so ids and
    secrets with ``:``, ``%`` or non-ASCII characters survive.
    """

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = _require_id(client_id)
        self._secret = _require_secret(client_secret, "client_secret_basic")

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self._secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def __repr__(self) -> str:
        return (
            f"ClientSecretBasic(client_id={self.client_id!r}, client_secret={mask(self._secret)})"
        )


class ClientSecretPost:
    """``client_secret_post``: id and secret as form fields in the request body."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = _require_id(client_id)
        self._secret = _require_secret(client_secret, "client_secret_post")

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        data["client_id"] = self.client_id
        data["client_secret"] = self._secret

    def __repr__(self) -> str:
        return f"ClientSecretPost(client_id={self.client_id!r}, client_secret={mask(self._secret)})"


class NoClientAuth:
    """``none``: a public client names itself and proves nothing (PKCE does that)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = _require_id(client_id)

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        data["client_id"] = self.client_id

    def __repr__(self) -> str:
        return f"NoClientAuth(client_id={self.client_id!r})"


def client_auth_for(
    client_id: str,
    client_secret: Optional[str] = None,
    client_auth: Optional[object] = None,
    *,
    default: str = "client_secret_basic",
    private_key: Optional[object] = None,
    private_key_id: Optional[str] = None,
) -> ClientAuth:
    """The method a grant should use, from its ``client_auth`` argument.

    ``client_auth`` may be an object with ``apply`` (used as it is), a method
    name (``"client_secret_basic"``, ``"client_secret_post"``,
    ``"client_secret_jwt"``, ``"private_key_jwt"`` with ``private_key``,
    ``"none"``) or None: ``default`` with a secret, ``none`` without one.
    """
    if client_auth is not None and not isinstance(client_auth, str):
        if not isinstance(client_auth, ClientAuth):
            raise ConfigError(
                "client_auth must be a method name or an object with client_id and apply()"
            )
        return client_auth
    method = client_auth if isinstance(client_auth, str) else (default if client_secret else "none")
    method = method.lower()
    if method in ("client_secret_basic", "basic"):
        return ClientSecretBasic(client_id, client_secret or "")
    if method in ("client_secret_post", "post"):
        return ClientSecretPost(client_id, client_secret or "")
    if method == "none":
        return NoClientAuth(client_id)
    if method == "client_secret_jwt":
        from .client_assertion import ClientSecretJWT

        return ClientSecretJWT(client_id, client_secret or "")
    if method == "private_key_jwt":
        if private_key is None:
            raise ConfigError(
                "private_key_jwt needs a private key: use PrivateKeyJWT(client_id, key)"
            )
        from .client_assertion import PrivateKeyJWT

        return PrivateKeyJWT(client_id, private_key, alg=None, kid=private_key_id)
    raise ConfigError(
        f"unknown client authentication method {method!r}; expected client_secret_basic, "
        "client_secret_post, client_secret_jwt, private_key_jwt or none"
    )
