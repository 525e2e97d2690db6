"""What a store adds to a cached get_token() and to one refresh: file store vs Redis.

The provider answers from memory, so the figures are the store's cost alone
(lock, read, write, release), never the token endpoint's.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any, Optional

from h2oauth_lite import AuthCache, RedisTokenStore, StoreKey, Token, TokenStore
from h2oauth_lite.store.base import TokenStoreBackend
from tests.support.redis_server import RedisServer

CACHED_CALLS = 200_000
CACHED_RUNS = 5
REFRESHES = 200
KEY = StoreKey("https://idp.bench.invalid", "bench")


class Instant:
    """A provider that answers from memory: new token, new refresh token, every call."""

    client_id = "bench"

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self) -> Token:
        self.calls += 1
        return Token(
            f"at-{self.calls}", expires_at=time.time() + 3600, refresh_token=f"rt-{self.calls}"
        )


def cached_us_per_call(store: Optional[TokenStoreBackend]) -> float:
    cache = AuthCache(Instant(), store=store, key=KEY if store is not None else None)
    cache.get_token()
    runs = []
    for _ in range(CACHED_RUNS):
        start = time.perf_counter()
        for _ in range(CACHED_CALLS):
            cache.get_token()
        runs.append((time.perf_counter() - start) / CACHED_CALLS * 1e6)
    return statistics.median(runs)


def refresh_ms(store: TokenStoreBackend) -> float:
    """Median of one refresh through ``store``: lock, read, provider, write, release."""
    cache = AuthCache(Instant(), store=store, key=KEY)
    cache.get_token()
    times = []
    for _ in range(REFRESHES):
        cache.invalidate()
        start = time.perf_counter()
        cache.get_token()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(redis: RedisServer) -> dict[str, Any]:
    redis_store = RedisTokenStore(redis.url, prefix="bench-costs:")
    with tempfile.TemporaryDirectory() as directory:
        file_store = TokenStore(f"{directory}/token-store.json")
        figures = {
            "cached_us": cached_us_per_call(None),
            "cached_redis_us": cached_us_per_call(redis_store),
            "refresh_file_ms": refresh_ms(file_store),
            "refresh_redis_ms": refresh_ms(redis_store),
        }
    redis_store.close()
    return figures


def report(redis: RedisServer) -> list[str]:
    figures = measure(redis)
    extra = figures["refresh_redis_ms"] - figures["refresh_file_ms"]
    return [
        f"cached get_token(): {figures['cached_us']:.3f} µs/call without a store, "
        f"{figures['cached_redis_us']:.3f} µs/call with a Redis store "
        f"(median of {CACHED_RUNS} loops of {CACHED_CALLS:,})",
        f"one refresh through the store (median of {REFRESHES}, provider in memory): "
        f"file {figures['refresh_file_ms']:.3f} ms, Redis {figures['refresh_redis_ms']:.3f} ms "
        f"(Redis {extra:+.3f} ms)",
    ]
