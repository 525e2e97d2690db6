"""How AuthCache shares tokens with other processes through a TokenStore.

A process about to refresh takes the store's lock and reads the store
again first: when another process has refreshed meanwhile, its token (and
its rotated refresh token) is used instead of a second refresh. Otherwise
the provider is asked, and the new token is written before anyone sees it,
so a rotated refresh token is never lost with the process that received it.

"Another process has refreshed" means the entry changed since this cache
last read or wrote it. An entry this cache has already seen is never newer
than what the cache and its provider hold: the cache dropped its token
(a 401, a revocation) or its last write failed, and in both cases handing
the stored refresh token back to the provider could resend a spent one.

An entry names the client it was written for; a cache of another client
refuses it (ConfigError) rather than serving that client's tokens or
replacing its refresh token.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable, Optional

from .._log import logger
from ..errors import ConfigError, TokenStoreError
from ..protocols import RefreshableProvider, SupportsClientId
from ..token import Token
from .hosts import normalise_host

if TYPE_CHECKING:
    from ..protocols import SupportsGetToken
    from .file import TokenStore

__all__ = ["StoreLink", "store_link"]


def store_link(
    store: Optional[TokenStore], key: Optional[str], provider: SupportsGetToken
) -> Optional[StoreLink]:
    """The link of a cache to ``store``; ConfigError when a store comes without a key."""
    if store is None:
        if key is not None:
            raise ConfigError("key= only makes sense together with store=")
        return None
    if key is None:
        raise ConfigError("AuthCache(store=...) needs key=, the host its tokens belong to")
    return StoreLink(store, normalise_host(key), _client_id(provider))


class StoreLink:
    """One cache's entry in a TokenStore: whose it is, and what the cache last saw there."""

    def __init__(self, store: TokenStore, key: str, client_id: Optional[str]) -> None:
        self.store = store
        self.key = key
        self.client_id = client_id
        self._seen: Optional[Token] = None

    def load(self, provider: SupportsGetToken) -> Optional[Token]:
        """The stored token (its refresh token handed to ``provider``), or None."""
        token = self._read()
        self._seen = token
        if token is not None:
            _hand_refresh_token(provider, token)
        return token

    def fetch(self, provider: SupportsGetToken, fresh: Callable[[Token], bool]) -> Token:
        """A new token: another process's if it refreshed meanwhile, else the provider's.

        A stored token is taken when it is new to this cache and ``fresh(token)``
        says it would not be due for refresh yet.
        """
        with self.store.lock():
            stored = self._read()
            if stored is not None and not _same(stored, self._seen):
                _hand_refresh_token(provider, stored)
                self._seen = stored
                if fresh(stored):
                    logger.debug("using the token another process stored for %s", self.key)
                    return stored
            token = provider.get_token()
            self._write(token)
            return token

    def forget(self, value: str, now: float) -> None:
        """Keep a revoked ``value`` (access or refresh token) from being served from the store.

        A revoked refresh token removes the entry; a revoked access token leaves
        the entry marked expired, so its refresh token still serves the next refresh.
        """
        with self.store.lock():
            stored = self._read()
            if stored is None:
                return
            if value == stored.refresh_token:
                self.store.remove(self.key)
                self._seen = None
            elif value == stored.access_token:
                self._write(dataclasses.replace(stored, expires_at=now))

    def _read(self) -> Optional[Token]:
        return read_owned(self.store, self.key, self.client_id)

    def _write(self, token: Token) -> None:
        try:
            self.store.put(self.key, token, client_id=self.client_id)
        except TokenStoreError as exc:
            # The token is good and its refresh token may be the only live one: keep
            # serving it from memory rather than lose it over a disk problem.
            logger.warning("new token for %s not stored, kept in memory only: %s", self.key, exc)
        else:
            self._seen = token


def _client_id(provider: SupportsGetToken) -> Optional[str]:
    if not isinstance(provider, SupportsClientId):
        return None
    client_id = provider.client_id
    return client_id if isinstance(client_id, str) and client_id else None


def _same(token: Token, other: Optional[Token]) -> bool:
    return (
        other is not None
        and token.access_token == other.access_token
        and token.refresh_token == other.refresh_token
        and token.expires_at == other.expires_at
    )


def _hand_refresh_token(provider: SupportsGetToken, token: Token) -> None:
    """Let a refresh-grant provider continue from ``token``'s refresh token."""
    if token.refresh_token and isinstance(provider, RefreshableProvider):
        provider.use_refresh_token(token.refresh_token)


def read_owned(store: TokenStore, key: str, client_id: Optional[str]) -> Optional[Token]:
    """The token stored for ``key``; ConfigError when it belongs to another client.

    A refresh token works only for the client it was issued to, and one
    entry per host is the file's layout, so two clients cannot share a file.
    """
    token, owner = store.entry(key)
    if token is not None and owner and client_id and owner != client_id:
        raise ConfigError(
            f"the token stored for {key} in {store.path} belongs to client_id "
            f"{owner!r}, not {client_id!r}: give each client a TokenStore file of its own"
        )
    return token
