"""How AuthCache shares tokens with other processes through a TokenStore.

A process about to refresh takes the store's lock and reads the store
again first: when another process has refreshed meanwhile, its token (and
its rotated refresh token) is used instead of a second refresh. Otherwise
the provider is asked, and the new token is written before anyone sees it,
so a rotated refresh token is never lost with the process that received it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from ._log import logger
from .errors import ConfigError
from .hosts import normalise_host
from .token import Token

if TYPE_CHECKING:
    from .provider import SupportsGetToken
    from .token_store import TokenStore

__all__ = ["fetch_via_store", "load_stored", "store_key"]


def store_key(store: Optional[TokenStore], key: Optional[str]) -> Optional[str]:
    """The normalised key for ``store``; ConfigError when a store comes without one."""
    if store is None:
        if key is not None:
            raise ConfigError("key= only makes sense together with store=")
        return None
    if key is None:
        raise ConfigError("AuthCache(store=...) needs key=, the host its tokens belong to")
    return normalise_host(key)


def hand_refresh_token(provider: SupportsGetToken, token: Token) -> None:
    """Let a refresh-grant provider continue from ``token``'s refresh token."""
    use = getattr(provider, "use_refresh_token", None)
    if token.refresh_token and callable(use):
        use(token.refresh_token)


def load_stored(store: TokenStore, key: str, provider: SupportsGetToken) -> Optional[Token]:
    """The stored token of ``key`` (its refresh token handed to ``provider``), or None."""
    token = store.get(key)
    if token is not None:
        hand_refresh_token(provider, token)
    return token


def fetch_via_store(
    store: TokenStore,
    key: str,
    provider: SupportsGetToken,
    current: Optional[Token],
    fresh: Callable[[Token], bool],
) -> Token:
    """A new token for ``key``: another process's if it refreshed meanwhile, else the provider's.

    ``current`` is the token the caller holds (None: none yet); a stored token
    is taken when it differs from it and ``fresh(token)`` says it would not be
    due for refresh yet.
    """
    with store.lock():
        stored = store.get(key)
        if stored is not None:
            hand_refresh_token(provider, stored)
            differs = current is None or stored.access_token != current.access_token
            if differs and fresh(stored):
                logger.debug("using the token another process stored for %s", key)
                return stored
        token = provider.get_token()
        store.put(key, token)
        return token
