"""A client authentication method by name: what ``client_auth=`` and the environment say."""

from __future__ import annotations

from typing import Optional

from ..errors import ConfigError
from .base import ClientAuth
from .secret import ClientSecretBasic, ClientSecretPost, NoClientAuth

__all__ = ["client_auth_for"]


def client_auth_for(
    client_id: str,
    client_secret: Optional[str] = None,
    client_auth: Optional[object] = None,
    *,
    private_key: Optional[object] = None,
    private_key_id: Optional[str] = None,
) -> ClientAuth:
    """The method a grant should use, from its ``client_auth`` argument.

    ``client_auth`` may be an object with ``apply`` (used as it is), a method
    name (``"client_secret_basic"``, ``"client_secret_post"``,
    ``"client_secret_jwt"``, ``"private_key_jwt"`` with ``private_key``,
    ``"none"``) or None: ``client_secret_basic`` with a secret, ``none`` without one.
    """
    if client_auth is not None and not isinstance(client_auth, str):
        if not isinstance(client_auth, ClientAuth):
            raise ConfigError(
                "client_auth must be a method name or an object with client_id and apply()"
            )
        return client_auth
    method = (
        client_auth
        if isinstance(client_auth, str)
        else ("client_secret_basic" if client_secret else "none")
    )
    method = method.lower()
    if method in ("client_secret_basic", "basic"):
        return ClientSecretBasic(client_id, client_secret or "")
    if method in ("client_secret_post", "post"):
        return ClientSecretPost(client_id, client_secret or "")
    if method == "none":
        return NoClientAuth(client_id)
    if method == "client_secret_jwt":
        from .assertion import ClientSecretJWT

        return ClientSecretJWT(client_id, client_secret or "")
    if method == "private_key_jwt":
        if private_key is None:
            raise ConfigError(
                "private_key_jwt needs a private key: use PrivateKeyJWT(client_id, key)"
            )
        from .assertion import PrivateKeyJWT

        return PrivateKeyJWT(client_id, private_key, alg=None, kid=private_key_id)
    if method in ("tls_client_auth", "self_signed_tls_client_auth"):
        from .tls import SelfSignedTLSClientAuth, TLSClientAuth

        tls = TLSClientAuth if method == "tls_client_auth" else SelfSignedTLSClientAuth
        return tls(client_id)
    raise ConfigError(
        f"unknown client authentication method {method!r}; expected client_secret_basic, "
        "client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, "
        "self_signed_tls_client_auth or none"
    )
