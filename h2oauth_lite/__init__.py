"""h2oauth-lite: sync OAuth 2.0 / OpenID Connect access tokens on requests.

The public names resolve lazily (PEP 562), so ``import h2oauth_lite`` loads
neither ``requests`` nor ``jwt``; they load when a token is first requested.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "AccessToken": "token",
    "Token": "token",
    "parse_token_response": "token",
    "AuthError": "errors",
    "ConfigError": "errors",
    "TokenEndpointError": "errors",
    "InvalidTokenResponseError": "errors",
    "TransportError": "errors",
    "AccessDeniedError": "errors",
    "DeviceCodeExpiredError": "errors",
    "FlowTimeoutError": "errors",
    "NotInteractiveError": "errors",
    "TokenStoreError": "errors",
    "TokenStore": "token_store",
    "CodeFlow": "flows",
    "authenticate": "authentication",
    "Config": "flows",
    "DeviceFlow": "flows",
    "ClientSecretBasic": "client_auth",
    "ClientSecretPost": "client_auth",
    "NoClientAuth": "client_auth",
    "ClientSecretJWT": "client_assertion",
    "PrivateKeyJWT": "client_assertion",
    "JWTBearerTokenProvider": "jwt_bearer",
    "ClientCredentialsTokenProvider": "client_credentials",
    "RefreshTokenProvider": "refresh",
    "RetryPolicy": "retry",
    "AuthCache": "cache",
    "BearerAuth": "bearer_auth",
    "from_env": "from_environment",
    "provider_from_env": "from_environment",
    "TokenProvider": "auth.token_provider",
    "H2OGPTEAuth": "h2ogpte",
    "discover": "discovery",
    "Discovery": "discovery",
    "ArgumentError": "errors",
    "DiscoveryError": "errors",
    "DiscoveryLookupError": "errors",
}

__all__ = [
    "AccessDeniedError",
    "AccessToken",
    "ArgumentError",
    "AuthCache",
    "AuthError",
    "BearerAuth",
    "ClientCredentialsTokenProvider",
    "ClientSecretBasic",
    "ClientSecretJWT",
    "ClientSecretPost",
    "CodeFlow",
    "Config",
    "ConfigError",
    "DeviceCodeExpiredError",
    "DeviceFlow",
    "Discovery",
    "DiscoveryError",
    "DiscoveryLookupError",
    "FlowTimeoutError",
    "H2OGPTEAuth",
    "InvalidTokenResponseError",
    "JWTBearerTokenProvider",
    "NoClientAuth",
    "NotInteractiveError",
    "PrivateKeyJWT",
    "RefreshTokenProvider",
    "RetryPolicy",
    "Token",
    "TokenEndpointError",
    "TokenProvider",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "__version__",
    "authenticate",
    "discover",
    "from_env",
    "parse_token_response",
    "provider_from_env",
]

if TYPE_CHECKING:
    from .auth.token_provider import TokenProvider
    from .authentication import authenticate
    from .bearer_auth import BearerAuth
    from .cache import AuthCache
    from .client_assertion import ClientSecretJWT, PrivateKeyJWT
    from .client_auth import ClientSecretBasic, ClientSecretPost, NoClientAuth
    from .client_credentials import ClientCredentialsTokenProvider
    from .discovery import Discovery, discover
    from .errors import (
        AccessDeniedError,
        ArgumentError,
        AuthError,
        ConfigError,
        DeviceCodeExpiredError,
        DiscoveryError,
        DiscoveryLookupError,
        FlowTimeoutError,
        InvalidTokenResponseError,
        NotInteractiveError,
        TokenEndpointError,
        TokenStoreError,
        TransportError,
    )
    from .flows import CodeFlow, Config, DeviceFlow
    from .from_environment import from_env, provider_from_env
    from .h2ogpte import H2OGPTEAuth
    from .jwt_bearer import JWTBearerTokenProvider
    from .refresh import RefreshTokenProvider
    from .retry import RetryPolicy
    from .token import AccessToken, Token, parse_token_response
    from .token_store import TokenStore


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'h2oauth_lite' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
