"""AuthCache: memory answers, single flight, shared errors, invalidation."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from h2oauth_lite import (
    AuthCache,
    ClientCredentialsTokenProvider,
    RefreshTokenProvider,
    Token,
    TokenEndpointError,
)
from tests.support.answers import token_body
from tests.support.clock import Clock
from tests.support.fakes import FakeProvider
from tests.support.loopback import LoopbackServer, Request, Response
from tests.support.threads import run_together

Loopback = Callable[..., LoopbackServer]


def counting(clock: Clock, lifetime: float = 60.0, delay: float = 0.0) -> FakeProvider:
    """Tokens token-1, token-2... that live ``lifetime`` seconds on ``clock``."""
    return FakeProvider(clock, lifetime, prefix="token-", delay=delay)


def cache_for(provider: FakeProvider, **options: object) -> AuthCache:
    clock = provider.clock
    assert clock is not None
    return AuthCache(provider, clock=clock.time, monotonic=clock.monotonic, **options)


def test_fresh_token_comes_from_memory() -> None:
    provider = counting(Clock())
    cache = cache_for(provider)
    first = cache.get_token()
    assert [cache.get_token() for _ in range(100)] == [first] * 100
    assert provider.calls == 1


def test_token_is_renewed_within_the_expiry_threshold() -> None:
    clock = Clock()
    provider = counting(clock, lifetime=60)
    cache = cache_for(provider, expiry_threshold=5, refresh_ahead=0)
    assert cache.get_token().access_token == "token-1"
    clock.now += 54.9
    assert cache.get_token().access_token == "token-1"
    clock.now += 0.2  # 4.9 s left: inside the threshold
    assert cache.get_token().access_token == "token-2"
    assert provider.calls == 2


def test_short_tokens_stay_usable_for_half_their_life() -> None:
    clock = Clock()
    provider = counting(clock, lifetime=2)
    cache = cache_for(provider, expiry_threshold=5, refresh_ahead=0)
    cache.get_token()
    clock.now += 0.9
    cache.get_token()
    assert provider.calls == 1
    clock.now += 0.2
    cache.get_token()
    assert provider.calls == 2


def test_invalidate_forces_a_new_request() -> None:
    provider = counting(Clock())
    cache = cache_for(provider)
    cache.get_token()
    cache.invalidate()
    assert cache.get_token().access_token == "token-2"


def test_32_threads_on_an_empty_cache_make_one_request() -> None:
    provider = counting(Clock(), delay=0.2)
    cache = cache_for(provider)
    results, errors = run_together(32, cache.get_token)
    assert errors == []
    assert provider.calls == 1
    assert {token.access_token for token in results} == {"token-1"}  # type: ignore[attr-defined]


def test_a_failed_request_reaches_every_waiter_and_the_next_call_retries() -> None:
    provider = counting(Clock(), delay=0.2)
    provider.fail_with = TokenEndpointError(503, detail="down")
    cache = cache_for(provider)
    results, errors = run_together(16, cache.get_token)
    assert results == []
    assert len(errors) == 16 and all(isinstance(e, TokenEndpointError) for e in errors)
    assert provider.calls == 1
    provider.fail_with = None
    provider.delay = 0
    assert cache.get_token().access_token == "token-2"


def test_provider_protocol_methods() -> None:
    clock = Clock()
    cache = cache_for(counting(clock, lifetime=90))
    access = cache.token()
    assert access == "token-1" and access.exp is not None
    assert cache() == "token-1"
    assert cache.cached is not None and cache.cached.access_token == "token-1"


def test_a_provider_is_required() -> None:
    with pytest.raises(TypeError):
        AuthCache(object())  # type: ignore[arg-type]


# -- against a loopback token server: the stampede the figures talk about ----------


def rotating_server(loopback: Loopback, latency: float = 0.1) -> tuple[LoopbackServer, list[str]]:
    """A token endpoint that rotates refresh tokens and refuses a used one."""
    lock = threading.Lock()
    valid = {"refresh-0"}
    used: list[str] = []

    def answer(request: Request) -> Response:
        time.sleep(latency)
        with lock:
            if request.form.get("grant_type") == "client_credentials":
                return Response(body=token_body(f"cc-{len(used)}", 300))
            presented = request.form.get("refresh_token", "")
            used.append(presented)
            if presented not in valid:
                return Response(400, {"error": "invalid_grant", "error_description": "reused"})
            valid.discard(presented)
            fresh = f"refresh-{len(used)}"
            valid.add(fresh)
        return Response(body=token_body(f"access-{len(used)}", 300, refresh_token=fresh))

    return loopback(answer), used


def test_stampede_with_rotating_refresh_tokens_sends_one_refresh(loopback: Loopback) -> None:
    server, used = rotating_server(loopback)
    seen: list[Token] = []
    provider = RefreshTokenProvider(server.url + "/token", "app", "refresh-0", on_token=seen.append)
    cache = AuthCache(provider)
    results, errors = run_together(32, cache.get_token)
    assert errors == []
    assert len(server.requests) == 1
    assert {token.access_token for token in results} == {"access-1"}  # type: ignore[attr-defined]
    assert [token.refresh_token for token in seen] == ["refresh-1"]
    # The rotated refresh token is the one sent next.
    cache.invalidate()
    cache.get_token()
    assert used == ["refresh-0", "refresh-1"]


def test_stampede_with_client_credentials_sends_one_request(loopback: Loopback) -> None:
    server, _ = rotating_server(loopback)
    cache = AuthCache(ClientCredentialsTokenProvider(server.url + "/token", "svc", "secret"))
    results, errors = run_together(32, cache.get_token)
    assert errors == [] and len(results) == 32
    assert len(server.requests) == 1


def test_bare_refresh_provider_serialises_concurrent_callers(loopback: Loopback) -> None:
    server, used = rotating_server(loopback, latency=0.02)
    provider = RefreshTokenProvider(server.url + "/token", "app", "refresh-0")
    _, errors = run_together(8, provider.get_token)
    assert errors == []  # each request carried the newest refresh token
    assert len(used) == 8 and len(set(used)) == 8


def test_refresh_token_is_kept_when_the_server_sends_none(loopback: Loopback) -> None:
    server = loopback(Response(body=token_body("a", 60)))
    provider = RefreshTokenProvider(server.url + "/token", "app", "keep-me")
    assert provider.get_token().refresh_token == "keep-me"
    provider.get_token()
    assert [r.form["refresh_token"] for r in server.requests] == ["keep-me", "keep-me"]


def test_invalidate_of_a_token_no_longer_cached_keeps_the_newer_one() -> None:
    provider = counting(Clock())
    cache = cache_for(provider)
    refused = cache.get_token()
    cache.invalidate(token=refused)
    newer = cache.get_token()
    assert newer.access_token == "token-2"
    # A late refusal of the old token (another request still carried it) drops nothing.
    cache.invalidate(token=refused)
    cache.invalidate(token=refused.access_token)
    assert cache.get_token() is newer
    assert provider.calls == 2
    cache.invalidate(token=newer.access_token)
    assert cache.get_token().access_token == "token-3"
