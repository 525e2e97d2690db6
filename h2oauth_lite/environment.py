"""Environment mode: a ready AuthCache (or provider) from the ``H2O_AUTHN_*`` variables.

With ``H2O_AUTHN_TOKEN_STORE`` (a file path or a Redis URL) the cache keeps
its tokens there, keyed by the token endpoint's host and the client, so
processes and runs share one token and its rotated refresh token. The
refresh token in the environment seeds the store: an entry grown from the
same seed wins over it, an entry from another seed is replaced.

The variables themselves are read in :mod:`h2oauth_lite.settings`; this module
turns them into a grant. (Named apart from ``from_env``, its function: a
submodule of that name would shadow the function on the package.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from .cache import AuthCache
from .client_auth.methods import client_auth_for
from .errors import ConfigError
from .settings import DEFAULT_PREFIX, PRIVATE_KEY_FILE, EnvSettings, read_settings, variable
from .store.base import TokenStoreBackend, fingerprint
from .store.keys import StoreKey
from .wire.send import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .grants.base import TokenGrant
    from .grants.options import ClientOptions
    from .settings import EnvSettings

__all__ = ["from_env", "provider_from_env", "store_from_env"]

# What from_env(store=...) accepts: None (as the environment says), False (no
# store), True (the environment's, else the default file), a file path or a
# Redis URL, or a store object.
StoreChoice = Union[None, bool, str, TokenStoreBackend]


def provider_from_env(
    environ: Optional[Mapping[str, str]] = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    **options: Unpack[ClientOptions],
) -> TokenGrant:
    """The provider the environment describes: the refresh grant when
    ``H2O_AUTHN_REFRESH_TOKEN`` is set, else the client-credentials grant.

    ``options`` go to the provider's constructor (``session=``, ``timeout=``, ...);
    ``prefix`` reads another client's variables (``WAREHOUSE_URI``...).
    """
    return _provider(read_settings(environ, prefix=prefix), options)


def _provider(settings: EnvSettings, options: ClientOptions) -> TokenGrant:
    from .grants.client_credentials import ClientCredentialsTokenProvider
    from .grants.refresh import RefreshTokenProvider

    auth_url = settings.token_url
    if auth_url is None:
        options.setdefault("issuer_url", settings.issuer_url)
    options.setdefault("timeout", settings.timeout or DEFAULT_TIMEOUT)
    if settings.allow_insecure_http:
        options.setdefault("allow_insecure_http", True)
    options.setdefault("scope", settings.scope)
    _sender_constraints(settings, options)
    method = settings.client_auth_method
    if method is None and settings.tls_cert_file is not None and settings.client_secret is None:
        method = "tls_client_auth"  # the certificate is the only credential given
    if method == "private_key_jwt" or (method is None and settings.private_key_file is not None):
        if settings.private_key_file is None:
            raise ConfigError(
                f"Missing environment variable: {variable(PRIVATE_KEY_FILE, settings.prefix)}"
            )
        if "client_auth" not in options:
            options["client_auth"] = client_auth_for(
                settings.client_id or "",
                client_auth="private_key_jwt",
                # A Path: the variable names a file, so errors may name it too.
                private_key=Path(settings.private_key_file),
                private_key_id=settings.private_key_id,
            )
    elif method is not None:
        options.setdefault("client_auth", method)
    if settings.refresh_token is not None:
        return RefreshTokenProvider(
            auth_url,
            client_id=settings.client_id or "",
            refresh_token=settings.refresh_token,
            client_secret=settings.client_secret,
            **options,
        )
    return ClientCredentialsTokenProvider(
        auth_url,
        client_id=settings.client_id or "",
        client_secret=settings.client_secret,
        audience=settings.audience,
        **options,
    )


def _sender_constraints(settings: EnvSettings, options: ClientOptions) -> None:
    """DPoP key, TLS client certificate and resource indicators from the environment."""
    if settings.dpop_key_file is not None and "dpop_key" not in options:
        from .client_auth.dpop import DPoPKey
        from .client_auth.tls import warn_if_readable_by_others

        warn_if_readable_by_others(settings.dpop_key_file, "DPoP key")
        # A Path: the variable names a file, so errors may name it too.
        options["dpop_key"] = DPoPKey(Path(settings.dpop_key_file))
    if settings.tls_cert_file is not None and "cert" not in options:
        key = settings.tls_key_file
        options["cert"] = settings.tls_cert_file if key is None else (settings.tls_cert_file, key)
    if settings.resource:
        options.setdefault("resource", list(settings.resource))


def from_env(
    environ: Optional[Mapping[str, str]] = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    store: StoreChoice = None,
    cache_options: Optional[Mapping[str, Any]] = None,
    **provider_options: Unpack[ClientOptions],
) -> AuthCache:
    """An AuthCache over :func:`provider_from_env`; ConfigError names every missing variable.

    ``store``: None uses ``H2O_AUTHN_TOKEN_STORE`` (unset or ``none``: no
    store); False, no store; True, that variable's store or else the default
    file store; a path, a Redis URL or a store object, that store.
    """
    settings = read_settings(environ, prefix=prefix)
    options = dict(cache_options or {})
    backend = _store(store, settings)
    if backend is not None and "store" not in options:
        options["store"] = backend
        options.setdefault("key", store_key(settings))
    return AuthCache(_provider(settings, provider_options), **options)


def store_from_env(
    environ: Optional[Mapping[str, str]] = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    store: StoreChoice = None,
) -> Optional[TokenStoreBackend]:
    """The store :func:`from_env` would use with these arguments, or None."""
    return _store(store, read_settings(environ, prefix=prefix))


def _store(choice: StoreChoice, settings: EnvSettings) -> Optional[TokenStoreBackend]:
    from .store.file import TokenStore
    from .store.spec import open_store

    if choice is False:
        return None
    if choice is None or choice is True:
        if settings.token_store is not None:
            return open_store(settings.token_store)
        return TokenStore() if choice is True else None
    if isinstance(choice, str):
        return open_store(choice)
    return choice


def store_key(settings: EnvSettings) -> StoreKey:
    """The entry of the client ``settings`` describe: its host, client, scope and seed."""
    host = settings.token_url or settings.issuer_url or ""
    seed = fingerprint(settings.refresh_token) if settings.refresh_token else None
    return StoreKey(
        host,
        settings.client_id or "",
        scope=settings.scope,
        audience=settings.audience,
        seed=seed,
    )
