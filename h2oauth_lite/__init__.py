"""h2oauth-lite: sync OAuth 2.0 / OpenID Connect access tokens on requests.

The public names resolve lazily (PEP 562), so ``import h2oauth_lite`` loads
neither ``requests`` nor ``jwt``; they load when a token is first requested.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public names: name -> module that defines it. __all__ and the lazy
# lookup below both come from this one table; the TYPE_CHECKING imports repeat
# it for type checkers, and a test keeps the two in step.
_EXPORTS: dict[str, str] = {
    "Token": "token",
    "AccessToken": "token",
    "parse_token_response": "token",
    "AuthError": "errors",
    "ConfigError": "errors",
    "ArgumentError": "errors",
    "TokenEndpointError": "errors",
    "InvalidTokenResponseError": "errors",
    "TransportError": "errors",
    "AccessDeniedError": "errors",
    "DeviceCodeExpiredError": "errors",
    "FlowTimeoutError": "errors",
    "NotInteractiveError": "errors",
    "TokenStoreError": "errors",
    "TokenStoreUnavailableError": "errors",
    "DiscoveryError": "errors",
    "DiscoveryLookupError": "errors",
    "SupportsGetToken": "protocols",
    "RetryPolicy": "wire.retry",
    "ClientAuth": "client_auth.base",
    "ClientSecretBasic": "client_auth.secret",
    "ClientSecretPost": "client_auth.secret",
    "NoClientAuth": "client_auth.secret",
    "ClientSecretJWT": "client_auth.assertion",
    "PrivateKeyJWT": "client_auth.assertion",
    "DPoPKey": "client_auth.dpop",
    "TLSClientAuth": "client_auth.tls",
    "SelfSignedTLSClientAuth": "client_auth.tls",
    "ClientCredentialsTokenProvider": "grants.client_credentials",
    "RefreshTokenProvider": "grants.refresh",
    "JWTBearerTokenProvider": "grants.jwt_bearer",
    "TokenExchangeProvider": "grants.token_exchange",
    "AuthCache": "cache",
    "TokenStore": "store.file",
    "TokenStoreWarning": "store.file",
    "TokenStoreBackend": "store.base",
    "StoredEntry": "store.base",
    "StoreKey": "store.keys",
    "RedisTokenStore": "store.redis",
    "LoginServer": "login.server",
    "Config": "login.server",
    "DeviceFlow": "login.device",
    "DeviceAuthorization": "login.device",
    "CodeFlow": "login.code",
    "authenticate": "login.authentication",
    "BearerAuth": "bearer_auth",
    "from_env": "environment",
    "provider_from_env": "environment",
    "TokenProvider": "h2o.token_provider",
    "H2OGPTEAuth": "h2o.h2ogpte",
    "discover": "h2o.discovery",
    "Discovery": "h2o.discovery",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from .bearer_auth import (
        BearerAuth as BearerAuth,
    )
    from .cache import (
        AuthCache as AuthCache,
    )
    from .client_auth.assertion import (
        ClientSecretJWT as ClientSecretJWT,
    )
    from .client_auth.assertion import (
        PrivateKeyJWT as PrivateKeyJWT,
    )
    from .client_auth.base import (
        ClientAuth as ClientAuth,
    )
    from .client_auth.dpop import (
        DPoPKey as DPoPKey,
    )
    from .client_auth.secret import (
        ClientSecretBasic as ClientSecretBasic,
    )
    from .client_auth.secret import (
        ClientSecretPost as ClientSecretPost,
    )
    from .client_auth.secret import (
        NoClientAuth as NoClientAuth,
    )
    from .client_auth.tls import (
        SelfSignedTLSClientAuth as SelfSignedTLSClientAuth,
    )
    from .client_auth.tls import (
        TLSClientAuth as TLSClientAuth,
    )
    from .environment import (
        from_env as from_env,
    )
    from .environment import (
        provider_from_env as provider_from_env,
    )
    from .errors import (
        AccessDeniedError as AccessDeniedError,
    )
    from .errors import (
        ArgumentError as ArgumentError,
    )
    from .errors import (
        AuthError as AuthError,
    )
    from .errors import (
        ConfigError as ConfigError,
    )
    from .errors import (
        DeviceCodeExpiredError as DeviceCodeExpiredError,
    )
    from .errors import (
        DiscoveryError as DiscoveryError,
    )
    from .errors import (
        DiscoveryLookupError as DiscoveryLookupError,
    )
    from .errors import (
        FlowTimeoutError as FlowTimeoutError,
    )
    from .errors import (
        InvalidTokenResponseError as InvalidTokenResponseError,
    )
    from .errors import (
        NotInteractiveError as NotInteractiveError,
    )
    from .errors import (
        TokenEndpointError as TokenEndpointError,
    )
    from .errors import (
        TokenStoreError as TokenStoreError,
    )
    from .errors import (
        TokenStoreUnavailableError as TokenStoreUnavailableError,
    )
    from .errors import (
        TransportError as TransportError,
    )
    from .grants.client_credentials import (
        ClientCredentialsTokenProvider as ClientCredentialsTokenProvider,
    )
    from .grants.jwt_bearer import (
        JWTBearerTokenProvider as JWTBearerTokenProvider,
    )
    from .grants.refresh import (
        RefreshTokenProvider as RefreshTokenProvider,
    )
    from .grants.token_exchange import (
        TokenExchangeProvider as TokenExchangeProvider,
    )
    from .h2o.discovery import (
        Discovery as Discovery,
    )
    from .h2o.discovery import (
        discover as discover,
    )
    from .h2o.h2ogpte import (
        H2OGPTEAuth as H2OGPTEAuth,
    )
    from .h2o.token_provider import (
        TokenProvider as TokenProvider,
    )
    from .login.authentication import (
        authenticate as authenticate,
    )
    from .login.code import (
        CodeFlow as CodeFlow,
    )
    from .login.device import (
        DeviceAuthorization as DeviceAuthorization,
    )
    from .login.device import (
        DeviceFlow as DeviceFlow,
    )
    from .login.server import (
        Config as Config,
    )
    from .login.server import (
        LoginServer as LoginServer,
    )
    from .protocols import (
        SupportsGetToken as SupportsGetToken,
    )
    from .store.base import (
        StoredEntry as StoredEntry,
    )
    from .store.base import (
        TokenStoreBackend as TokenStoreBackend,
    )
    from .store.file import (
        TokenStore as TokenStore,
    )
    from .store.file import (
        TokenStoreWarning as TokenStoreWarning,
    )
    from .store.keys import (
        StoreKey as StoreKey,
    )
    from .store.redis import (
        RedisTokenStore as RedisTokenStore,
    )
    from .token import (
        AccessToken as AccessToken,
    )
    from .token import (
        Token as Token,
    )
    from .token import (
        parse_token_response as parse_token_response,
    )
    from .wire.retry import (
        RetryPolicy as RetryPolicy,
    )


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'h2oauth_lite' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
