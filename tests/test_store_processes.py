"""AuthCache with a TokenStore: tokens persist, and processes refresh once between them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import pytest

from h2oauth_lite import AuthCache, RefreshTokenProvider, Token, TokenStore
from h2oauth_lite.errors import ConfigError
from tests.bench.processes import run
from tests.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]
HOST = "https://api.example.test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


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
            return Response(
                200,
                {
                    "access_token": f"at-{self.generation}",
                    "expires_in": 60,
                    "refresh_token": self.valid,
                },
            )


def _cache(url: str, store: TokenStore, clock: Clock, refresh_token: str = "rt-x") -> AuthCache:
    provider = RefreshTokenProvider(
        url, client_id="c", client_secret="s", refresh_token=refresh_token, clock=clock
    )
    return AuthCache(provider, store=store, key=HOST, clock=clock, monotonic=clock, refresh_ahead=0)


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
