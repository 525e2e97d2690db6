"""AuthCache's max_token_age: refresh at least that often, whatever the token's lifetime."""

from __future__ import annotations

import pytest

from h2oauth_lite import AuthCache, TransportError
from tests.support.clock import Clock
from tests.support.fakes import FakeProvider


def cache_for(issuer: FakeProvider, clock: Clock, **options: object) -> AuthCache:
    return AuthCache(
        issuer,
        expiry_threshold=0,
        refresh_ahead=0,
        clock=clock.time,
        monotonic=clock.monotonic,
        **options,  # type: ignore[arg-type]
    )


def test_a_long_lived_token_is_refreshed_at_the_age() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=3600)
    cache = cache_for(issuer, clock, max_token_age=60)
    assert cache.get_token().access_token == "t1"
    clock.now += 59.9
    assert cache.get_token().access_token == "t1"
    clock.now += 0.1
    assert cache.get_token().access_token == "t2"


def test_a_short_token_still_follows_its_own_expiry() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=30)
    cache = cache_for(issuer, clock, max_token_age=60)
    cache.get_token()
    clock.now += 30
    assert cache.get_token().access_token == "t2"


def test_a_token_without_expiry_is_refreshed_at_the_age() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=None)
    cache = cache_for(issuer, clock, max_token_age=60)
    cache.get_token()
    clock.now += 59
    assert cache.get_token().access_token == "t1"
    clock.now += 1
    assert cache.get_token().access_token == "t2"


def test_without_the_option_a_token_without_expiry_is_kept() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=None)
    cache = cache_for(issuer, clock)
    cache.get_token()
    clock.now += 10**9
    assert cache.get_token().access_token == "t1"


def test_a_failed_refresh_at_the_age_serves_the_still_valid_token() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=3600)
    cache = cache_for(issuer, clock, max_token_age=60)
    cache.get_token()
    issuer.fail_with = TransportError("down")
    clock.now += 61
    assert cache.get_token().access_token == "t1"
    clock.now += 3600  # now really expired: the failure reaches the caller
    with pytest.raises(TransportError):
        cache.get_token()


def test_the_threshold_counts_back_from_the_age() -> None:
    clock = Clock(1000.0)
    issuer = FakeProvider(clock, lifetime=3600)
    cache = AuthCache(
        issuer,
        expiry_threshold=5,
        refresh_ahead=0,
        max_token_age=60,
        clock=clock.time,
        monotonic=clock.monotonic,
    )
    cache.get_token()
    clock.now += 54.9
    assert cache.get_token().access_token == "t1"
    clock.now += 0.1
    assert cache.get_token().access_token == "t2"


@pytest.mark.parametrize("value", [0, -1])
def test_a_zero_or_negative_age_is_refused(value: float) -> None:
    clock = Clock(1000.0)
    with pytest.raises(ValueError):
        cache_for(FakeProvider(clock, 60), clock, max_token_age=value)
