"""How AuthCache shares tokens with other processes through a token store.

A process about to refresh takes the store's lock and reads the store
again first: when another process has refreshed meanwhile, its token (and
its rotated refresh token) is used instead of a second refresh. Otherwise
the provider is asked, and the new token is written before the lock is
released, so a rotated refresh token is never lost with the process that
received it.

"Another process has refreshed" means the entry changed since this cache
last read or wrote it, and its generation is not below the one this cache
holds. An entry this cache has already seen, or an older generation, is
never newer than what the cache and its provider hold: the cache dropped its
token (a 401, a revocation), its last write failed, or it refreshed while
the store was down; handing the stored refresh token back to the provider
could resend a spent one.

When a shared store stops answering (TokenStoreUnavailableError), the cache
refreshes on its own, warns once, and shares again when the store answers:
a token it refreshed meanwhile is written back at its first contact with
the store again, unless the store holds a newer generation.

An entry names the client it was written for; a cache of another client
refuses it (ConfigError) rather than serving that client's tokens or
replacing its refresh token. A cache seeded with a refresh token (from the
environment) uses only entries grown from the same seed; another seed's
entry is replaced by the first refresh.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Callable, Optional, Union

from .._log import logger
from ..errors import ConfigError, TokenStoreError, TokenStoreUnavailableError
from ..protocols import RefreshableProvider, SupportsClientId
from ..token import Token
from .base import StoredEntry, TokenStoreBackend
from .file import TokenStoreWarning
from .keys import StoreKey, key_text

if TYPE_CHECKING:
    from ..protocols import SupportsGetToken

__all__ = ["StoreLink", "read_owned", "store_link"]


def store_link(
    store: Optional[TokenStoreBackend],
    key: Optional[Union[str, StoreKey]],
    provider: SupportsGetToken,
) -> Optional[StoreLink]:
    """The link of a cache to ``store``; ConfigError when a store comes without a key."""
    if store is None:
        if key is not None:
            raise ConfigError("key= only makes sense together with store=")
        return None
    if key is None:
        raise ConfigError("AuthCache(store=...) needs key=, the host its tokens belong to")
    if not isinstance(store, TokenStoreBackend):
        raise TypeError("store= needs a token store (see h2oauth_lite.TokenStoreBackend)")
    seed = key.seed if isinstance(key, StoreKey) else None
    return StoreLink(store, key_text(key), _client_id(provider), seed=seed)


class StoreLink:
    """One cache's entry in a store: whose it is, and what the cache last saw there."""

    def __init__(
        self,
        store: TokenStoreBackend,
        key: str,
        client_id: Optional[str],
        *,
        seed: Optional[str] = None,
    ) -> None:
        self.store = store
        self.key = key
        self.client_id = client_id
        self.seed = seed
        self._seen: Optional[StoredEntry] = None  # last entry read or written here
        self._generation = 0  # generation of the token this cache holds
        self._held: Optional[Token] = None  # that token (written back after an outage)
        self._down = False

    def load(self, provider: SupportsGetToken) -> Optional[Token]:
        """The stored token (its refresh token handed to ``provider``), or None."""
        try:
            entry = self._read()
        except TokenStoreUnavailableError as exc:
            self._went_down(exc)
            return None
        self._seen = entry
        if entry is None:
            return None
        self._generation = entry.generation
        if not self._ours(entry):
            logger.info("the entry for %s grew from another refresh token; replacing it", self.key)
            return None
        _hand_refresh_token(provider, entry.token)
        self._held = entry.token
        return entry.token

    def fetch(self, provider: SupportsGetToken, fresh: Callable[[Token], bool]) -> Token:
        """A new token: another process's if it refreshed meanwhile, else the provider's.

        A stored token is taken when it is new to this cache and ``fresh(token)``
        says it would not be due for refresh yet.
        """
        result: Optional[Token] = None
        try:
            with self.store.lock(self.key):
                stored = self._read()
                if self._came_back() and self._held is not None and self._behind(stored):
                    # Refreshed while the store was down: the store catches up with us
                    # before anyone else reads the refresh token we spent meanwhile.
                    self._write(self._held, self._generation)
                    stored = self._seen
                if stored is not None and self._newer(stored):
                    _hand_refresh_token(provider, stored.token)
                    self._seen, self._held = stored, stored.token
                    self._generation = stored.generation
                    if fresh(stored.token):
                        logger.debug("using the token another process stored for %s", self.key)
                        result = stored.token
                        return result
                base = max(self._generation, stored.generation if stored is not None else 0)
                result = provider.get_token()
                self._write(result, base + 1)
                return result
        except TokenStoreUnavailableError as exc:
            self._went_down(exc)
            if result is not None:
                return result  # the store failed after the token arrived: never ask twice
            result = provider.get_token()
            self._generation += 1
            self._held = result
            return result

    def forget(self, value: str, now: float) -> None:
        """Keep a revoked ``value`` (access or refresh token) from being served from the store.

        A revoked refresh token removes the entry; a revoked access token leaves
        the entry marked expired, so its refresh token still serves the next refresh.
        """
        with self.store.lock(self.key):
            stored = self._read()
            if stored is None:
                return
            if value == stored.token.refresh_token:
                self.store.remove(self.key)
                self._seen = None
            elif value == stored.token.access_token:
                expired = dataclasses.replace(stored.token, expires_at=now)
                self._write(expired, stored.generation)

    # -- deciding ---------------------------------------------------------------

    def _ours(self, entry: StoredEntry) -> bool:
        """Grown from this cache's seed (any entry, when the cache has none)."""
        return self.seed is None or entry.seed == self.seed

    def _newer(self, stored: StoredEntry) -> bool:
        return (
            self._ours(stored)
            and stored.generation >= self._generation
            and not _same(stored, self._seen)
        )

    def _behind(self, stored: Optional[StoredEntry]) -> bool:
        return stored is None or stored.generation < self._generation

    # -- the store ----------------------------------------------------------------

    def _read(self) -> Optional[StoredEntry]:
        return _owned(self.store, self.key, self.client_id)

    def _write(self, token: Token, generation: int) -> None:
        entry = StoredEntry(token, self.client_id, generation, self.seed)
        self._generation, self._held = generation, token
        try:
            self.store.write_entry(self.key, entry)
        except TokenStoreUnavailableError as exc:
            self._went_down(exc)  # written back when the store answers again
        except TokenStoreError as exc:
            # The token is good and its refresh token may be the only live one: keep
            # serving it from memory rather than lose it over a disk problem.
            logger.warning("new token for %s not stored, kept in memory only: %s", self.key, exc)
        else:
            self._seen = entry

    def _went_down(self, exc: TokenStoreUnavailableError) -> None:
        if self._down:
            return
        self._down = True
        warnings.warn(
            f"{exc}; each process refreshes its tokens on its own until the store answers again",
            TokenStoreWarning,
            stacklevel=2,
        )

    def _came_back(self) -> bool:
        """True once, when the store answers after an outage."""
        if not self._down:
            return False
        self._down = False
        logger.warning("token store %s answers again; sharing tokens", self.store.describe())
        return True


def _client_id(provider: SupportsGetToken) -> Optional[str]:
    if not isinstance(provider, SupportsClientId):
        return None
    client_id = provider.client_id
    return client_id if isinstance(client_id, str) and client_id else None


def _same(entry: StoredEntry, other: Optional[StoredEntry]) -> bool:
    """The same tokens; the expiry is not compared: a store that rebases expiries on
    the reader's clock (Redis) returns the same entry with a slightly different one."""
    if other is None:
        return False
    token, seen = entry.token, other.token
    return token.access_token == seen.access_token and token.refresh_token == seen.refresh_token


def _hand_refresh_token(provider: SupportsGetToken, token: Token) -> None:
    """Let a refresh-grant provider continue from ``token``'s refresh token."""
    if token.refresh_token and isinstance(provider, RefreshableProvider):
        provider.use_refresh_token(token.refresh_token)


def _owned(
    store: TokenStoreBackend, key: str, client_id: Optional[str]
) -> Optional[StoredEntry]:
    entry = store.read_entry(key)
    if entry is not None and entry.client_id and client_id and entry.client_id != client_id:
        raise ConfigError(
            f"the token stored for {key} in {store.describe()} belongs to client_id "
            f"{entry.client_id!r}, not {client_id!r}: key the cache by client "
            "(h2oauth_lite.StoreKey) or give each client a store of its own"
        )
    return entry


def read_owned(store: TokenStoreBackend, key: str, client_id: Optional[str]) -> Optional[Token]:
    """The token stored for ``key``; ConfigError when it belongs to another client."""
    entry = _owned(store, key_text(key), client_id)
    return None if entry is None else entry.token
