"""Durations: seconds or timedelta, finite, never negative, in every place that takes one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from h2oauth_lite import AuthCache, ClientCredentialsTokenProvider, Token, TokenStore
from h2oauth_lite.durations import to_seconds


@pytest.mark.parametrize(
    ("value", "seconds"), [(3, 3.0), (2.5, 2.5), (timedelta(minutes=2), 120.0), (0, 0.0)]
)
def test_accepted_values(value: object, seconds: float) -> None:
    assert to_seconds(value, "x") == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "x must not be negative"),
        (timedelta(seconds=-1), "x must not be negative"),
        (float("nan"), "x must be a number of seconds, not NaN"),
        (float("inf"), "x must be a finite number of seconds"),
        (10**400, "x must be a finite number of seconds"),
        (timedelta.max, None),  # finite: accepted
    ],
)
def test_refused_values(value: object, message: str | None) -> None:
    if message is None:
        assert to_seconds(value, "x") > 0  # type: ignore[arg-type]
        return
    with pytest.raises(ValueError) as caught:
        to_seconds(value, "x")  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_positive_refuses_zero() -> None:
    with pytest.raises(ValueError, match="x must be positive"):
        to_seconds(0, "x", positive=True)


@pytest.mark.parametrize("value", [True, "10", None, [1]])
def test_wrong_types(value: object) -> None:
    with pytest.raises(TypeError, match="must be seconds"):
        to_seconds(value, "x")  # type: ignore[arg-type]


def test_every_duration_parameter_is_checked(tmp_path: Path) -> None:
    url = "https://idp.example.com/token"
    for bad in (float("inf"), float("nan"), -1):
        with pytest.raises(ValueError):
            ClientCredentialsTokenProvider(url, "svc", "s", timeout=bad)
        with pytest.raises(ValueError):
            TokenStore(tmp_path / "s.json", lock_timeout=bad)

    class Provider:
        def get_token(self) -> Token:
            return Token("a")

    for option in ("expiry_threshold", "refresh_ahead", "max_token_age"):
        with pytest.raises(ValueError):
            AuthCache(Provider(), **{option: float("inf")})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ClientCredentialsTokenProvider(url, "svc", "s", timeout=0)
