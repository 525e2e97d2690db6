"""``from_env()``: a ready AuthCache from the ``H2O_AUTHN_*`` variables, in one line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ._http import DEFAULT_TIMEOUT
from .cache import AuthCache
from .client_auth import client_auth_for
from .config import PRIVATE_KEY_FILE, read_settings
from .errors import ConfigError

if TYPE_CHECKING:
    from .provider import BaseTokenProvider

__all__ = ["from_env", "provider_from_env"]


def provider_from_env(
    environ: Optional[Mapping[str, str]] = None, **options: Any
) -> BaseTokenProvider:
    """The provider the environment describes: the refresh grant when
    ``H2O_AUTHN_REFRESH_TOKEN`` is set, else the client-credentials grant.

    ``options`` go to the provider's constructor (``session=``, ``timeout=``, ...).
    """
    from .client_credentials import ClientCredentialsTokenProvider
    from .refresh import RefreshTokenProvider

    settings = read_settings(environ)
    if settings.token_url is not None:
        options.setdefault("auth_url", settings.token_url)
    else:
        options.setdefault("issuer_url", settings.issuer_url)
    options.setdefault("timeout", settings.timeout or DEFAULT_TIMEOUT)
    options.setdefault("scope", settings.scope)
    method = settings.client_auth_method
    if method == "private_key_jwt" or (method is None and settings.private_key_file is not None):
        if settings.private_key_file is None:
            raise ConfigError(f"Missing environment variable: {PRIVATE_KEY_FILE}")
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
            client_id=settings.client_id or "",
            refresh_token=settings.refresh_token,
            client_secret=settings.client_secret,
            **options,
        )
    return ClientCredentialsTokenProvider(
        client_id=settings.client_id or "",
        client_secret=settings.client_secret,
        audience=settings.audience,
        **options,
    )


def from_env(
    environ: Optional[Mapping[str, str]] = None,
    *,
    cache_options: Optional[Mapping[str, Any]] = None,
    **provider_options: Any,
) -> AuthCache:
    """An AuthCache over :func:`provider_from_env`; ConfigError names every missing variable."""
    return AuthCache(provider_from_env(environ, **provider_options), **dict(cache_options or {}))
