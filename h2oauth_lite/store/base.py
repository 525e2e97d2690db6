"""The store contract: what a cache needs from any token store, declared. Pure.

A store keeps one :class:`StoredEntry` per key: the token, the client it
belongs to, a generation counter and the fingerprint of the refresh token
the family grew from. :class:`TokenStoreBackend` is what an AuthCache asks
of a store: read an entry, write it, remove it, and one exclusive lock held
across one refresh. The file :class:`~h2oauth_lite.TokenStore` and
:class:`~h2oauth_lite.store.redis.RedisTokenStore` implement it; so can any
class a user writes (a database table, a secrets manager).

Why a generation rather than a timestamp: hosts do not share a clock, and
"newer" decided by wall clocks can flip back and forth between two hosts
whose clocks differ. Every write of a new token counts one up from the
highest generation the writer has seen, so "newer" is a plain comparison.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Optional, Protocol, runtime_checkable

from ..token import Token

__all__ = ["StoredEntry", "TokenStoreBackend", "fingerprint"]


@dataclass(frozen=True)
class StoredEntry:
    """One key's record in a store; replaced as a whole, never changed in place.

    ``client_id`` names the client the token was issued to (None: not named,
    as in entries py-oidc-auth-client writes). ``generation`` counts the
    refreshes the entry has seen (0 for entries of older versions).
    ``seed`` is the :func:`fingerprint` of the refresh token this family was
    seeded with (from the environment), never the refresh token itself.
    """

    token: Token
    client_id: Optional[str] = None
    generation: int = 0
    seed: Optional[str] = None

    def __repr__(self) -> str:
        # Token's repr hides the secrets; the fingerprint is not one.
        return (
            f"StoredEntry({self.token!r}, client_id={self.client_id!r}, "
            f"generation={self.generation}, seed={self.seed!r})"
        )


@runtime_checkable
class TokenStoreBackend(Protocol):
    """What AuthCache needs from a token store (declared, never probed by name).

    ``lock(key)`` is exclusive across every process that shares the store and
    is held across one token refresh: a second holder waits (boundedly) and
    then reads the entry the first one wrote. ``read_entry`` returns None for
    a missing, unreadable or foreign entry. ``describe()`` names the store in
    messages and must not contain a password or a token.
    """

    def read_entry(self, key: str) -> Optional[StoredEntry]: ...

    def write_entry(self, key: str, entry: StoredEntry) -> None: ...

    def remove(self, key: str) -> bool: ...

    def lock(self, key: str) -> AbstractContextManager[None]: ...

    def describe(self) -> str: ...


def fingerprint(secret: str) -> str:
    """16 hex characters of SHA-256: tells seeds apart without keeping one."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]
