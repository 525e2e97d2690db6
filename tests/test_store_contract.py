"""The store contract: declared once, met by the file store and by a store a user writes.

Also the client-keyed entries, generations, and how a cache lives through a
store that stops answering (with a store written here that can be switched
off; the Redis store itself is tested against a real redis-server in
tests/interop/test_redis_store.py).
"""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from h2oauth_lite import (
    AuthCache,
    StoredEntry,
    StoreKey,
    Token,
    TokenStore,
    TokenStoreBackend,
    TokenStoreUnavailableError,
    TokenStoreWarning,
)
from h2oauth_lite.store.keys import normalise_key

HOST = "https://idp.example.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class DictStore:
    """A store a user might write: a dict and a lock. Meets TokenStoreBackend, nothing more."""

    def __init__(self) -> None:
        self.entries: dict[str, StoredEntry] = {}
        self.guard = threading.RLock()
        self.down = False
        self.reads = 0
        self.writes: list[tuple[str, int]] = []  # (access token, generation)

    def _check(self) -> None:
        if self.down:
            raise TokenStoreUnavailableError("the token store dict://test does not answer")

    def read_entry(self, key: str) -> Optional[StoredEntry]:
        self._check()
        self.reads += 1
        return self.entries.get(key)

    def write_entry(self, key: str, entry: StoredEntry) -> None:
        self._check()
        held = self.entries.get(key)
        self.writes.append((entry.token.access_token, entry.generation))
        if held is None or held.generation <= entry.generation:
            self.entries[key] = entry

    def remove(self, key: str) -> bool:
        self._check()
        return self.entries.pop(key, None) is not None

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        self._check()
        with self.guard:
            yield

    def describe(self) -> str:
        return "dict://test"


class Rotating:
    """A provider with a rotating refresh token; records every refresh token it sent."""

    client_id = "svc"

    def __init__(self, clock: Clock, name: str = "p") -> None:
        self.clock = clock
        self.name = name
        self.refresh_token = "rt-0"
        self.sent: list[str] = []
        self.issued = 0

    def use_refresh_token(self, refresh_token: str) -> None:
        self.refresh_token = refresh_token

    def get_token(self) -> Token:
        self.sent.append(self.refresh_token)
        self.issued += 1
        self.refresh_token = f"rt-{self.name}-{self.issued}"
        return Token(
            f"at-{self.name}-{self.issued}",
            expires_at=self.clock.now + 60,
            refresh_token=self.refresh_token,
        )


def _cache(provider: Rotating, store: TokenStoreBackend, clock: Clock) -> AuthCache:
    return AuthCache(
        provider, store=store, key=StoreKey(HOST, "svc"), clock=clock, monotonic=clock,
        refresh_ahead=0,
    )  # fmt: skip


def test_the_file_store_and_a_users_store_meet_the_contract(tmp_path: Path) -> None:
    assert isinstance(TokenStore(tmp_path / "s.json"), TokenStoreBackend)
    assert isinstance(DictStore(), TokenStoreBackend)
    assert not isinstance(object(), TokenStoreBackend)
    with pytest.raises(TypeError, match="TokenStoreBackend"):
        AuthCache(Rotating(Clock()), store=object(), key=HOST)  # type: ignore[arg-type]


def test_a_users_store_is_enough_to_refresh_once_and_keep_the_rotated_token() -> None:
    clock, store = Clock(), DictStore()
    first, second = Rotating(clock, "a"), Rotating(clock, "b")
    one, two = _cache(first, store, clock), _cache(second, store, clock)
    assert one.get_token().access_token == "at-a-1"
    assert two.get_token().access_token == "at-a-1"  # read from the store: no refresh
    clock.now += 58
    assert two.get_token().access_token == "at-b-1"
    assert one.get_token().access_token == "at-b-1"
    # b refreshed with the token a stored; a then continues from b's rotated token.
    assert second.sent == ["rt-a-1"]
    clock.now += 58
    assert one.get_token().access_token == "at-a-2"
    assert first.sent == ["rt-0", "rt-b-1"]
    assert store.entries[str(StoreKey(HOST, "svc"))].generation == 3


def test_store_keys_name_the_host_and_the_client() -> None:
    key = StoreKey("HTTPS://IdP.Example.TEST:443/oauth/token", "svc", scope="write read")
    assert str(key) == "https://idp.example.test#client_id=svc&scope=read+write"
    assert normalise_key(str(key)) == str(key)
    assert normalise_key("IdP.Example.TEST/x") == HOST  # a host key stays as it was
    assert str(StoreKey(HOST, "svc", audience="api", seed="abc")) == (
        HOST + "#client_id=svc&audience=api"  # the seed is not part of the name
    )


def test_several_clients_of_one_host_share_one_file_and_a_host_entry_stays_readable(
    tmp_path: Path,
) -> None:
    clock = Clock()
    store = TokenStore(tmp_path / "s.json")
    # What py-oidc-auth-client (or `h2oauth-lite login`) writes: a host-only key.
    store.put(HOST, Token("at-login", expires_at=clock.now + 600, refresh_token="rt-login"))
    reporting, billing = Rotating(clock, "reporting"), Rotating(clock, "billing")
    reporting.client_id, billing.client_id = "reporting", "billing"  # type: ignore[misc]
    one = AuthCache(reporting, store=store, key=StoreKey(HOST, "reporting"), clock=clock)
    two = AuthCache(billing, store=store, key=StoreKey(HOST, "billing"), clock=clock)
    assert one.get_token().access_token == "at-reporting-1"
    assert two.get_token().access_token == "at-billing-1"
    data = json.loads(Path(store.path).read_text())
    assert sorted(data) == [HOST, HOST + "#client_id=billing", HOST + "#client_id=reporting"]
    assert data[HOST + "#client_id=billing"]["client_id"] == "billing"
    assert store.get(HOST).access_token == "at-login"  # type: ignore[union-attr]


def test_generations_count_up_and_entries_of_older_versions_read_as_zero(tmp_path: Path) -> None:
    clock = Clock()
    store = TokenStore(tmp_path / "s.json", clock=clock)
    cache = _cache(Rotating(clock), store, clock)
    cache.get_token()
    key = str(StoreKey(HOST, "svc"))
    assert store.read_entry(key).generation == 1  # type: ignore[union-attr]
    clock.now += 120
    cache.get_token()
    assert store.read_entry(key).generation == 2  # type: ignore[union-attr]
    data = json.loads(Path(store.path).read_text())
    data[key].pop("generation")
    data["https://other.test"] = {"token": {"access_token": "x"}, "generation": True}
    Path(store.path).write_text(json.dumps(data))
    assert store.read_entry(key).generation == 0  # type: ignore[union-attr]
    assert store.read_entry("other.test").generation == 0  # type: ignore[union-attr]


def test_a_store_that_stops_answering_warns_once_and_the_cache_keeps_serving() -> None:
    clock, store = Clock(), DictStore()
    provider = Rotating(clock)
    cache = _cache(provider, store, clock)
    cache.get_token()
    store.down = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            clock.now += 120
            cache.get_token()
    assert [w.category for w in caught] == [TokenStoreWarning]
    assert "dict://test" in str(caught[0].message)
    # Each refresh continued from the last rotated token: none was sent twice.
    assert provider.sent == ["rt-0", "rt-p-1", "rt-p-2", "rt-p-3"]
    store.down = False
    clock.now += 120
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.get_token().access_token == "at-p-5"
    assert caught == []
    entry = store.entries[str(StoreKey(HOST, "svc"))]
    assert entry.token.refresh_token == "rt-p-5" and entry.generation == 5


def test_a_token_refreshed_during_an_outage_is_written_back_unless_the_store_is_newer() -> None:
    clock, store = Clock(), DictStore()
    key = str(StoreKey(HOST, "svc"))
    alone = Rotating(clock, "alone")
    cache = _cache(alone, store, clock)
    cache.get_token()  # generation 1
    store.down = True
    clock.now += 58
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TokenStoreWarning)
        assert cache.get_token().access_token == "at-alone-2"  # generation 2, not stored
    store.down = False
    # The store lost its entry meanwhile (a Redis restart without persistence).
    store.entries.clear()
    store.writes.clear()
    clock.now += 58
    assert cache.get_token().access_token == "at-alone-3"
    # First the token refreshed during the outage went back, then its successor.
    assert store.writes == [("at-alone-2", 2), ("at-alone-3", 3)]
    assert alone.sent == ["rt-0", "rt-alone-1", "rt-alone-2"]
    # A newer generation in the store wins over what a cache holds.
    newer = Token("at-newer", expires_at=clock.now + 60, refresh_token="rt-newer")
    store.entries[key] = StoredEntry(newer, "svc", 7)
    cache.invalidate()
    assert cache.get_token().access_token == "at-newer"
    clock.now += 58
    cache.get_token()
    assert alone.sent[-1] == "rt-newer"
    assert store.entries[key].generation == 8
    # An outage during which the store moved on: the store's newer entry wins.
    store.down = True
    clock.now += 58
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TokenStoreWarning)
        cache.get_token()  # generation 9 here, not stored
    store.down = False
    other = Token("at-other", expires_at=clock.now + 60, refresh_token="rt-other")
    store.entries[key] = StoredEntry(other, "svc", 12)
    cache.invalidate()
    assert cache.get_token().access_token == "at-other"
    assert store.entries[key].token.access_token == "at-other"


def test_an_older_generation_in_the_store_is_never_handed_to_the_provider() -> None:
    clock, store = Clock(), DictStore()
    key = str(StoreKey(HOST, "svc"))
    provider = Rotating(clock)
    cache = _cache(provider, store, clock)
    cache.get_token()
    clock.now += 58
    cache.get_token()  # generation 2, rt-p-2
    spent = Token("at-old", expires_at=clock.now - 1, refresh_token="rt-p-1")
    store.entries[key] = StoredEntry(spent, "svc", 1)  # e.g. a replica that lagged
    clock.now += 58
    cache.get_token()
    assert provider.sent == ["rt-0", "rt-p-1", "rt-p-2"]


def test_the_cached_path_never_reads_the_store() -> None:
    clock, store = Clock(), DictStore()
    cache = _cache(Rotating(clock), store, clock)
    cache.get_token()
    reads = store.reads
    for _ in range(1000):
        cache.get_token()
    assert store.reads == reads
