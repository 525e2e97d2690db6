"""AuthCache with a TokenStore: tokens persist, and processes refresh once between them."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from h2oauth_lite import AuthCache, RefreshTokenProvider, Token, TokenStore
from h2oauth_lite.errors import ConfigError, TokenStoreError
from tests.bench.processes import run
from tests.support.answers import token_body
from tests.support.clock import Clock
from tests.support.fakes import FakeProvider
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]
HOST = "https://api.example.test"


class Rotating:
    """A token endpoint that rotates refresh tokens and refuses a used one."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.generation = 0
        self.valid = "rt-0"
        self.invalid_grant = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            if request.form.get("refresh_token") != self.valid:
                self.invalid_grant += 1
                return Response(400, {"error": "invalid_grant"})
            self.generation += 1
            self.valid = f"rt-{self.generation}"
            return Response(200, token_body(f"at-{self.generation}", 60, refresh_token=self.valid))


def _cache(url: str, store: TokenStore, clock: Clock, refresh_token: str = "rt-x") -> AuthCache:
    provider = RefreshTokenProvider(
        url, client_id="c", client_secret="s", refresh_token=refresh_token, clock=clock
    )
    return AuthCache(
        provider, store=store, key=HOST, clock=clock, monotonic=clock.monotonic, refresh_ahead=0
    )


def test_stored_token_is_used_at_start_without_a_request(
    tmp_path: Path, loopback: Loopback
) -> None:
    clock = Clock()
    server = loopback(Rotating(clock))
    store = TokenStore(tmp_path / "s.json")
    store.put(HOST, Token("at-stored", expires_at=clock.now + 600, refresh_token="rt-0"))
    cache = _cache(server.url, store, clock)
    assert cache.get_token().access_token == "at-stored"
    assert server.requests == []


def test_new_and_rotated_tokens_are_written_and_stored_refresh_token_is_used(
    tmp_path: Path, loopback: Loopback
) -> None:
    clock = Clock()
    endpoint = Rotating(clock)
    server = loopback(endpoint)
    store = TokenStore(tmp_path / "s.json")
    # Expired access token, live refresh token: the provider's own "rt-x" is stale.
    store.put(HOST, Token("at-old", expires_at=clock.now - 1, refresh_token="rt-0"))
    cache = _cache(server.url, store, clock)
    assert cache.get_token().access_token == "at-1"
    stored = store.get(HOST)
    assert stored is not None and stored.refresh_token == "rt-1"
    clock.now += 120
    assert cache.get_token().access_token == "at-2"
    assert TokenStore(store.path).get(HOST).refresh_token == "rt-2"  # type: ignore[union-attr]
    assert endpoint.invalid_grant == 0


def test_a_refresh_by_another_process_is_adopted(tmp_path: Path, loopback: Loopback) -> None:
    clock = Clock()
    endpoint = Rotating(clock)
    server = loopback(endpoint)
    store = TokenStore(tmp_path / "s.json")
    store.put(HOST, Token("at-0", expires_at=clock.now + 60, refresh_token="rt-0"))
    first = _cache(server.url, store, clock)
    second = _cache(server.url, store, clock)
    assert first.get_token().access_token == second.get_token().access_token == "at-0"
    clock.now += 58  # both stale
    assert first.get_token().access_token == "at-1"
    # The second cache finds at-1 in the store and does not refresh again.
    assert second.get_token().access_token == "at-1"
    assert len(server.requests) == 1
    clock.now += 58
    # ...and it continues from the rotated refresh token it adopted.
    assert second.get_token().access_token == "at-2"
    assert endpoint.invalid_grant == 0


def test_revoked_refresh_token_raises_and_the_store_keeps_its_entry(
    tmp_path: Path, loopback: Loopback
) -> None:
    clock = Clock()
    server = loopback(Response(400, {"error": "invalid_grant"}))
    store = TokenStore(tmp_path / "s.json")
    store.put(HOST, Token("at-0", expires_at=clock.now - 1, refresh_token="rt-0"))
    cache = _cache(server.url, store, clock)
    with pytest.raises(Exception, match="invalid_grant"):
        cache.get_token()
    assert store.get(HOST) is not None


def test_store_needs_a_key(tmp_path: Path) -> None:
    provider = RefreshTokenProvider("https://x.test/token", client_id="c", refresh_token="r")
    with pytest.raises(ConfigError, match="key="):
        AuthCache(provider, store=TokenStore(tmp_path / "s.json"))
    with pytest.raises(ConfigError, match="store="):
        AuthCache(provider, key=HOST)


@pytest.mark.interop
@pytest.mark.slow
def test_processes_refresh_once_per_expiry(oidc_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oidc = oidc_factory(access_token_ttl=2)
    figures = run(oidc, processes=4, threads=8, seconds=5.0, store_dir=str(tmp_path))
    assert figures.exit_codes == [0, 0, 0, 0]
    assert figures.invalid_grant == 0
    assert figures.other_errors == 0
    assert figures.refreshes >= 2  # tokens did expire during the run
    # Every refresh produced a generation somebody used; none was done twice.
    assert figures.refreshes == figures.generations
    # A process that refreshed although another had just stored a fresh token would
    # multiply this: the JWT's whole-second exp leaves a lifetime of at least ttl/2,
    # refreshed at half of it, so one process alone stays under this bound.
    assert figures.refreshes <= figures.seconds / (figures.token_ttl / 4) + 1


class _FailingWrites(TokenStore):
    """A store whose next ``failures`` writes fail, as on a full or read-only disk."""

    failures = 0

    def put(self, host: str, token: Token, **options: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise TokenStoreError(f"cannot write the token store {self.path}: disk full")
        super().put(host, token, **options)


def test_a_failed_write_keeps_the_new_token_and_never_sends_a_spent_refresh_token(
    tmp_path: Path, loopback: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    endpoint = Rotating(clock)
    server = loopback(endpoint)
    store = _FailingWrites(tmp_path / "s.json")
    store.put(HOST, Token("at-0", expires_at=clock.now - 1, refresh_token="rt-0"))
    cache = _cache(server.url, store, clock)
    store.failures = 1
    with caplog.at_level(logging.WARNING, logger="h2oauth_lite"):
        assert cache.get_token().access_token == "at-1"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "not stored" in caplog.text and HOST in caplog.text
    assert "rt-" not in caplog.text and "at-1" not in caplog.text
    assert store.get(HOST).access_token == "at-0"  # type: ignore[union-attr]
    clock.now += 120
    # The stored entry is older than the cache's token: its spent rt-0 is not used again.
    assert cache.get_token().access_token == "at-2"
    assert endpoint.invalid_grant == 0
    assert store.get(HOST).refresh_token == "rt-2"  # type: ignore[union-attr]


def _numbered(client_id: Optional[str] = None, prefix: str = "access") -> FakeProvider:
    """Tokens access-1, access-2... with refresh tokens; records what it is asked to revoke."""
    return FakeProvider(
        lifetime=3600, prefix=f"{prefix}-", refresh_tokens=True, client_id=client_id
    )


def test_invalidate_with_a_store_asks_the_provider(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    provider = _numbered()
    cache = AuthCache(provider, store=store, key=HOST)
    assert cache.get_token().access_token == "access-1"
    cache.invalidate()
    assert cache.get_token().access_token == "access-2"
    assert provider.calls == 2
    assert store.get(HOST).access_token == "access-2"  # type: ignore[union-attr]


def test_revoke_with_a_store_drops_the_token_there_too(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    provider = _numbered()
    cache = AuthCache(provider, store=store, key=HOST)
    revoked = cache.get_token()
    cache.revoke()
    assert provider.revoked == [revoked]
    # Another process starting now is not handed the revoked access token...
    other = _numbered(prefix="other")
    assert AuthCache(other, store=store, key=HOST).get_token().access_token == "other-1"
    assert other.calls == 1
    # ...and this cache takes the token that process stored, not the revoked one.
    assert cache.get_token().access_token == "other-1"
    assert provider.calls == 1


def test_revoking_the_access_token_keeps_the_stored_refresh_token(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    cache = AuthCache(_numbered(), store=store, key=HOST)
    token = cache.get_token()
    cache.revoke()
    stored = store.get(HOST)
    assert stored is not None and stored.refresh_token == token.refresh_token
    assert stored.is_expired(time.time())


def test_revoking_the_refresh_token_removes_the_stored_entry(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    cache = AuthCache(_numbered(), store=store, key=HOST)
    token = cache.get_token()
    assert token.refresh_token is not None
    cache.revoke(token.refresh_token, "refresh_token")
    assert store.get(HOST) is None


def test_two_clients_never_read_each_others_entry(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    reporting = _numbered("reporting")
    billing = _numbered("billing")
    late = AuthCache(billing, store=store, key=HOST + "/billing")  # made while the store is empty
    AuthCache(reporting, store=store, key=HOST + "/reporting").get_token()
    with pytest.raises(ConfigError, match=r"'reporting'.*'billing'"):
        AuthCache(_numbered("billing"), store=store, key=HOST + "/billing")
    with pytest.raises(ConfigError, match=r"'reporting'.*'billing'"):
        late.get_token()
    assert billing.calls == 0  # refused before any token request
    assert store.get(HOST).access_token == "access-1"  # type: ignore[union-attr]
    # The same client in another process shares the entry as before.
    again = _numbered("reporting")
    assert AuthCache(again, store=store, key=HOST).get_token().access_token == "access-1"
    assert again.calls == 0


def test_an_entry_without_a_client_is_used_by_any_client(tmp_path: Path) -> None:
    # Entries written by TokenStore.put or py-oidc-auth-client name no client.
    store = TokenStore(tmp_path / "s.json")
    store.put(HOST, Token("at-login", expires_at=time.time() + 600, refresh_token="rt"))
    provider = _numbered("cli")
    assert AuthCache(provider, store=store, key=HOST).get_token().access_token == "at-login"
    assert provider.calls == 0
