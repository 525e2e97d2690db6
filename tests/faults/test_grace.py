"""Grace while the provider is down: the valid cached token keeps serving, never an expired one."""

from __future__ import annotations

import logging
import time

import pytest

from h2oauth_lite import AuthCache, TokenEndpointError
from tests.support.clock import Clock
from tests.support.fakes import FakeProvider

LIFETIME = 100.0


@pytest.fixture
def setup() -> tuple[Clock, FakeProvider, AuthCache]:
    clock = Clock()
    provider = FakeProvider(clock, LIFETIME, prefix="tok-")
    # No refresh-ahead: the stale zone (last 5 s) refreshes in the caller's thread.
    cache = AuthCache(
        provider, expiry_threshold=5, refresh_ahead=0, clock=clock, monotonic=clock.monotonic
    )
    return clock, provider, cache


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "h2oauth_lite" and r.levelno >= logging.WARNING]


def test_grace_backoff_expiry_and_recovery(
    setup: tuple[Clock, FakeProvider, AuthCache], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="h2oauth_lite")
    clock, provider, cache = setup
    start = clock.now
    first = cache.get_token()
    assert first.access_token == "tok-1"

    provider.fail_with = TokenEndpointError(503, detail="down for maintenance")
    clock.now = start + 96  # stale: a refresh is due, and fails
    assert cache.get_token() is first
    assert provider.calls == 2
    assert len(_warnings(caplog)) == 1
    assert "serving the cached token" in _warnings(caplog)[0].getMessage()

    clock.now = start + 96.5  # within the 1 s backoff: no request at all
    for _ in range(50):
        assert cache.get_token() is first
    assert provider.calls == 2

    clock.now = start + 97.1  # backoff over: one more try, then 2 s of quiet
    assert cache.get_token() is first
    assert provider.calls == 3
    clock.now = start + 98.5
    assert cache.get_token() is first
    assert provider.calls == 3
    assert len(_warnings(caplog)) == 1  # one warning per outage, the rest at DEBUG

    clock.now = start + LIFETIME  # expired: never served; callers get the real error
    with pytest.raises(TokenEndpointError, match="down for maintenance"):
        cache.get_token()
    assert provider.calls == 4
    clock.now = start + LIFETIME + 0.1  # no backoff once nothing valid is left to serve
    with pytest.raises(TokenEndpointError):
        cache.get_token()
    assert provider.calls == 5

    provider.fail_with = None  # the provider is back: the first call gets a new token
    clock.now = start + LIFETIME + 0.2
    assert cache.get_token().access_token == "tok-6"
    assert provider.calls == 6


def test_a_new_outage_warns_again(
    setup: tuple[Clock, FakeProvider, AuthCache], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="h2oauth_lite")
    clock, provider, cache = setup
    start = clock.now
    cache.get_token()
    provider.fail_with = TokenEndpointError(502)
    clock.now = start + 96
    cache.get_token()
    provider.fail_with = None
    clock.now = start + 97.5
    renewed = cache.get_token()
    assert renewed.access_token == "tok-3"
    provider.fail_with = TokenEndpointError(502)
    clock.now = start + 97.5 + 96
    assert cache.get_token() is renewed
    assert len(_warnings(caplog)) == 2


def test_background_refresh_failure_backs_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="h2oauth_lite")
    clock = Clock()
    provider = FakeProvider(clock, LIFETIME, prefix="tok-")
    cache = AuthCache(
        provider, expiry_threshold=5, refresh_ahead=20, clock=clock, monotonic=clock.monotonic
    )
    start = clock.now
    first = cache.get_token()
    provider.fail_with = TokenEndpointError(503)
    clock.now = start + 85  # refresh window: answered at once, refreshed in the background
    assert cache.get_token() is first
    _wait_for(lambda: provider.calls == 2 and len(_warnings(caplog)) == 1)
    clock.now = start + 85.5  # within the backoff: no new background refresh
    for _ in range(20):
        assert cache.get_token() is first
    time.sleep(0.05)  # would be long enough for a wrongly started thread to call
    assert provider.calls == 2


def _wait_for(condition: object, bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")
