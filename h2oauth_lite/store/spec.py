"""A store named by one string (``H2O_AUTHN_TOKEN_STORE``, ``--store``): a file or Redis.

``none`` (any case) turns persistence off; a ``redis://``, ``rediss://`` or
``unix://`` URL is a :class:`~h2oauth_lite.store.redis.RedisTokenStore`
(redis-py imported only then); anything else is the path of a file
:class:`~h2oauth_lite.TokenStore`.
"""

from __future__ import annotations

from typing import Optional

from .base import TokenStoreBackend
from .file import TokenStore
from .redis_url import is_redis_url

__all__ = ["NO_STORE", "open_store"]

NO_STORE = "none"


def open_store(spec: str) -> Optional[TokenStoreBackend]:
    """The store ``spec`` names; None for ``none``."""
    text = spec.strip()
    if text.lower() == NO_STORE:
        return None
    if is_redis_url(text):
        from .redis import RedisTokenStore

        return RedisTokenStore(text)
    return TokenStore(text)
