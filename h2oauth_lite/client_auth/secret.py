"""Client authentication with a shared secret, or with none (RFC 6749 section 2.3.1)."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

from .._redact import mask
from ..errors import ConfigError
from .base import require_client_id

__all__ = ["ClientSecretBasic", "ClientSecretPost", "NoClientAuth"]


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
        self.client_id = require_client_id(client_id)
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
        self.client_id = require_client_id(client_id)
        self._secret = _require_secret(client_secret, "client_secret_post")

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        data["client_id"] = self.client_id
        data["client_secret"] = self._secret

    def __repr__(self) -> str:
        return f"ClientSecretPost(client_id={self.client_id!r}, client_secret={mask(self._secret)})"


class NoClientAuth:
    """``none``: a public client names itself and proves nothing (PKCE does that).

    ``send_client_id=False`` sends nothing at all, for requests whose other
    fields are the credential: an RFC 7523 assertion grant, or a py-oidc-auth
    server that holds the OAuth client itself.
    """

    def __init__(self, client_id: str, *, send_client_id: bool = True) -> None:
        self.client_id = require_client_id(client_id)
        self.send_client_id = send_client_id

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        if self.send_client_id:
            data["client_id"] = self.client_id

    def __repr__(self) -> str:
        if self.send_client_id:
            return f"NoClientAuth(client_id={self.client_id!r})"
        return f"NoClientAuth(client_id={self.client_id!r}, send_client_id=False)"
