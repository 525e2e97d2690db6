"""The client authentication object for each confidential client of tests/oidc/clients.json."""

from __future__ import annotations

from typing import Any

from h2oauth_lite import ClientSecretBasic, ClientSecretJWT, ClientSecretPost, PrivateKeyJWT
from tests.oidc_fixture import OIDCServer

__all__ = ["ALL_CLIENTS", "auth_for"]

# One client_credentials client per token endpoint authentication method.
ALL_CLIENTS = ["cc-basic", "cc-post", "cc-jwt", "cc-pkjwt-rs256", "cc-pkjwt-es256"]


def auth_for(oidc: OIDCServer, name: str) -> Any:
    """The library's method object for the method ``name`` is registered with."""
    entry = oidc.client(name)
    method = entry["token_endpoint_auth_method"]
    if method == "client_secret_basic":
        return ClientSecretBasic(name, entry["client_secret"])
    if method == "client_secret_post":
        return ClientSecretPost(name, entry["client_secret"])
    if method == "client_secret_jwt":
        return ClientSecretJWT(name, entry["client_secret"])
    return PrivateKeyJWT(name, oidc.private_jwk(name), alg=entry["token_endpoint_auth_signing_alg"])
