"""AuthCache refresh-ahead: the window rules, one background refresh, no pause for callers.

Both clocks are injected, so every deadline is reached by setting a number,
not by sleeping. The background refresh runs on a real thread; tests that
need it to finish wait for its result (bounded), never for a duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from h2oauth_lite import AuthCache, TransportError
from tests.support.clock import Clock
from tests.support.fakes import FakeProvider

EPOCH = 1_700_000_000.0


@pytest.fixture
def clocks() -> Clock:
    """Wall clock and monotonic clock, moved together unless a test says otherwise."""
    return Clock(EPOCH, monotonic_start=1000.0)


def make_cache(clocks: Clock, provider: FakeProvider, **options: object) -> AuthCache:
    return AuthCache(
        provider,
        clock=clocks.time,
        monotonic=clocks.monotonic,
        **options,  # type: ignore[arg-type]
    )


def wait_until_cached(cache: AuthCache, access_token: str) -> None:
    """Wait (bounded) until the background refresh has published ``access_token``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cached = cache.cached
        if cached is not None and cached.access_token == access_token:
            return
        time.sleep(0.001)
    raise AssertionError(f"{access_token} was never cached")


def wait_until_idle(cache: AuthCache) -> None:
    """Wait (bounded) until no refresh is in flight."""
    deadline = time.monotonic() + 10
    while cache._flight is not None:
        assert time.monotonic() < deadline, "refresh never finished"
        time.sleep(0.001)


def test_60_second_token_is_not_refreshed_on_every_call(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 60)
    cache = make_cache(clocks, provider)
    assert cache.get_token().access_token == "t1"
    # Default window: 10% of 60 s = 6 s, above the 5 s threshold.
    for _ in range(53):
        clocks.advance(1)
        assert cache.get_token().access_token == "t1"
    clocks.advance(0.9)  # 53.9 s in: still before the window
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1
    clocks.advance(0.2)  # 54.1 s in: in the window
    assert cache.get_token().access_token == "t1"  # served at once, refreshed behind
    wait_until_cached(cache, "t2")
    assert provider.calls == 2
    for _ in range(50):
        clocks.advance(1)
        assert cache.get_token().access_token == "t2"
    assert provider.calls == 2


def test_24_hour_token_is_refreshed_five_minutes_early_not_hours(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 24 * 3600)
    cache = make_cache(clocks, provider)
    cache.get_token()
    clocks.advance(24 * 3600 - 2.4 * 3600)  # where a bare 10% rule would start
    assert cache.get_token().access_token == "t1"
    clocks.advance(2.4 * 3600 - 301)
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1
    clocks.advance(2)  # 299 s left
    assert cache.get_token().access_token == "t1"
    wait_until_cached(cache, "t2")
    assert provider.calls == 2


def test_window_is_at_least_the_expiry_threshold(clocks: Clock) -> None:
    # 30 s token: 10% is 3 s, the threshold of 5 s wins; the window and the
    # stale point coincide, so the caller at 25.1 s waits for the new token.
    provider = FakeProvider(clocks, 30)
    cache = make_cache(clocks, provider, expiry_threshold=5)
    cache.get_token()
    clocks.advance(24.9)
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1
    clocks.advance(0.2)
    assert cache.get_token().access_token == "t2"
    assert provider.calls == 2


def test_threshold_longer_than_the_cap_is_never_undercut(clocks: Clock) -> None:
    # 10 minutes of threshold on a 24 h token: the 5 minute cap on the window
    # must not let the cache serve the token inside those 10 minutes.
    provider = FakeProvider(clocks, 24 * 3600)
    cache = make_cache(clocks, provider, expiry_threshold=timedelta(minutes=10))
    cache.get_token()
    clocks.advance(24 * 3600 - 601)
    assert cache.get_token().access_token == "t1"
    clocks.advance(2)  # 599 s left: stale for this cache
    assert cache.get_token().access_token == "t2"
    assert provider.calls == 2


def test_explicit_refresh_ahead_on_a_short_token(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 2)
    cache = make_cache(clocks, provider, expiry_threshold=0.1, refresh_ahead=0.5)
    cache.get_token()
    clocks.advance(1.49)
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1
    clocks.advance(0.02)
    assert cache.get_token().access_token == "t1"
    wait_until_cached(cache, "t2")
    assert provider.calls == 2


def test_refresh_ahead_zero_turns_the_window_off(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 3600)
    cache = make_cache(clocks, provider, refresh_ahead=0)
    cache.get_token()
    clocks.advance(3600 - 5.1)
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1
    clocks.advance(0.2)
    assert cache.get_token().access_token == "t2"  # fetched by the caller, not behind it


def test_window_follows_the_monotonic_clock_not_the_wall_clock(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 3600)
    cache = make_cache(clocks, provider)
    cache.get_token()
    clocks.jump_wall(2 * 3600)  # the wall clock jumps two hours ahead
    assert cache.get_token().access_token == "t1"
    clocks.jump_wall(-4 * 3600)  # ... and then back
    assert cache.get_token().access_token == "t1"
    assert provider.calls == 1


@pytest.fixture
def held() -> Iterator[threading.Event]:
    gate = threading.Event()
    yield gate
    gate.set()  # never leave a refresh thread waiting


def test_background_refresh_does_not_block_other_callers(
    clocks: Clock, held: threading.Event
) -> None:
    provider = FakeProvider(clocks, 100)
    cache = make_cache(clocks, provider)
    cache.get_token()
    provider.gate = held
    provider.entered.clear()
    clocks.advance(91)  # window: the last 10 s
    assert cache.get_token().access_token == "t1"
    assert provider.entered.wait(10)  # the refresh is now held inside the provider
    answers: list[str] = []

    def caller() -> None:
        for _ in range(100):
            answers.append(cache.get_token().access_token)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # Every caller finished while the refresh was still held: nobody waited for it.
    assert not any(thread.is_alive() for thread in threads)
    assert answers == ["t1"] * 800
    assert provider.calls == 2
    held.set()
    wait_until_cached(cache, "t2")
    assert cache.get_token().access_token == "t2"


def test_exactly_one_background_refresh_for_many_threads(
    clocks: Clock, held: threading.Event
) -> None:
    provider = FakeProvider(clocks, 100)
    cache = make_cache(clocks, provider)
    cache.get_token()
    provider.gate = held
    clocks.advance(92)
    barrier = threading.Barrier(32)
    seen: set[str] = set()

    def caller() -> None:
        barrier.wait(10)
        for _ in range(200):
            seen.add(cache.get_token().access_token)

    threads = [threading.Thread(target=caller) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"t1"}
    held.set()
    wait_until_cached(cache, "t2")
    wait_until_idle(cache)
    for _ in range(100):
        assert cache.get_token().access_token == "t2"
    assert provider.calls == 2


def test_failed_early_refresh_keeps_the_valid_token(
    clocks: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    provider = FakeProvider(clocks, 100)
    cache = make_cache(clocks, provider)
    cache.get_token()
    provider.fail_with = TransportError("could not reach the endpoint", url="http://127.0.0.1")
    clocks.advance(91)
    assert cache.get_token().access_token == "t1"
    wait_until_idle(cache)
    assert provider.calls == 2
    assert cache.cached is not None and cache.cached.access_token == "t1"
    assert "serving the cached token" in caplog.text
    # Still the valid token, and no new attempt inside the first backoff (1 s).
    clocks.advance(0.5)
    assert cache.get_token().access_token == "t1"
    wait_until_idle(cache)
    assert provider.calls == 2
    # After the backoff, the next caller in the window starts one more try, which succeeds.
    provider.fail_with = None
    clocks.advance(0.6)
    assert cache.get_token().access_token == "t1"
    wait_until_cached(cache, "t3")
    assert provider.calls == 3


def test_failed_refresh_past_expiry_raises_to_the_caller(clocks: Clock) -> None:
    provider = FakeProvider(clocks, 100)
    cache = make_cache(clocks, provider)
    cache.get_token()
    provider.fail_with = TransportError("could not reach the endpoint", url="http://127.0.0.1")
    clocks.advance(100.1)
    with pytest.raises(TransportError):
        cache.get_token()


class InterleavedCache(AuthCache):
    """Lets another caller complete a whole refresh between this caller's look and its lock."""

    interleave = True

    def _join_flight(self, seen):  # type: ignore[no-untyped-def]
        if self.interleave:
            self.interleave = False
            other = threading.Thread(target=self.get_token)
            other.start()
            other.join(10)
        return super()._join_flight(seen)


@pytest.mark.parametrize("elapsed", [92, 100.1], ids=["in the window", "expired"])
def test_a_refresh_finished_meanwhile_is_not_repeated(clocks: Clock, elapsed: float) -> None:
    provider = FakeProvider(clocks, 100)
    cache = InterleavedCache(provider, clock=clocks.time, monotonic=clocks.monotonic)
    cache.interleave = False
    cache.get_token()
    cache.interleave = True
    clocks.advance(elapsed)
    cache.get_token()
    wait_until_idle(cache)
    assert cache.cached is not None and cache.cached.access_token == "t2"
    assert provider.calls == 2
