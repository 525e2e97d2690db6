"""Retries through urllib3's Retry on the provider's own session: what is retried, and when."""

from __future__ import annotations

from typing import Any

import pytest

from h2oauth_lite import (
    ClientCredentialsTokenProvider,
    RefreshTokenProvider,
    TokenEndpointError,
    TransportError,
)
from h2oauth_lite.wire.retry import RETRY_STATUSES, RetryPolicy
from tests.support.answers import Script, closed_port, good
from tests.support.loopback import Response


def _policy(sleeps: list[float], **options: Any) -> RetryPolicy:
    options.setdefault("backoff_factor", 0.01)
    return RetryPolicy(sleep=sleeps.append, **options)


def _cc(url: str, retries: Any) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(
        f"{url}/token", "cc", "cc-secret", retries=retries, timeout=5
    )


def _refresh(url: str, retries: Any) -> RefreshTokenProvider:
    return RefreshTokenProvider(
        f"{url}/token", "app", "rt-1", "app-secret", retries=retries, timeout=5
    )


def _html(status: int) -> Response:
    return Response(
        status,
        "<html><body><h1>Service Unavailable</h1></body></html>",
        {"Content-Type": "text/html"},
    )


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_client_credentials_recovers_after_retryable_answers(loopback: Any, status: int) -> None:
    script = Script(_html(status), _html(status), good("tok-after"))
    server = loopback(script)
    sleeps: list[float] = []
    token = _cc(server.url, _policy(sleeps)).get_token()
    assert token.access_token == "tok-after"
    assert len(script.seen) == 3
    assert len(sleeps) == 2


def test_exhausted_retries_end_as_the_last_answer(loopback: Any) -> None:
    script = Script(_html(503))
    server = loopback(script)
    sleeps: list[float] = []
    with pytest.raises(TokenEndpointError) as caught:
        _cc(server.url, _policy(sleeps, retries=3)).get_token()
    assert caught.value.status_code == 503
    assert "Service Unavailable" in str(caught.value)
    assert len(script.seen) == 4  # the first attempt and three retries
    assert len(sleeps) == 3


def test_retry_after_is_honoured(loopback: Any) -> None:
    script = Script(Response(429, {"error": "slow_down"}, {"Retry-After": "7"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    _cc(server.url, _policy(sleeps)).get_token()
    assert sleeps == [7.0]
    assert len(script.seen) == 2


def test_a_retry_after_past_the_budget_gives_up_at_once(loopback: Any) -> None:
    script = Script(Response(429, {"error": "rate_limited"}, {"Retry-After": "3600"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    with pytest.raises(TokenEndpointError) as caught:
        _cc(server.url, _policy(sleeps, max_retry_time=30)).get_token()
    assert caught.value.status_code == 429
    assert caught.value.error == "rate_limited"
    assert sleeps == []
    assert len(script.seen) == 1


def test_a_backoff_past_the_budget_gives_up(loopback: Any) -> None:
    script = Script(_html(503), good())
    server = loopback(script)
    sleeps: list[float] = []
    policy = _policy(sleeps, backoff_factor=20, backoff_max=20, jitter=0, max_retry_time=5)
    with pytest.raises(TokenEndpointError) as caught:
        _cc(server.url, policy).get_token()
    assert caught.value.status_code == 503
    assert sleeps == []


def test_an_unparsable_retry_after_falls_back_to_the_backoff(loopback: Any) -> None:
    script = Script(Response(503, "busy", {"Retry-After": "soon-ish"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    _cc(server.url, _policy(sleeps, backoff_factor=0.5, jitter=0)).get_token()
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_other_answers_are_not_retried(loopback: Any, status: int) -> None:
    script = Script(Response(status, {"error": "invalid_client"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    with pytest.raises(TokenEndpointError) as caught:
        _cc(server.url, _policy(sleeps)).get_token()
    assert caught.value.status_code == status
    assert len(script.seen) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_refresh_grant_does_not_retry_answers(loopback: Any, status: int) -> None:
    script = Script(Response(status, "gateway trouble", {"Retry-After": "0"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    provider = _refresh(server.url, _policy(sleeps))
    assert provider.retry_policy.statuses == frozenset()
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.status_code == status
    assert len(script.seen) == 1
    assert sleeps == []


@pytest.mark.parametrize("make", [_cc, _refresh], ids=["client_credentials", "refresh_token"])
def test_connect_errors_are_retried_then_reported(make: Any) -> None:
    sleeps: list[float] = []
    provider = make(f"http://127.0.0.1:{closed_port()}", _policy(sleeps, retries=2))
    with pytest.raises(TransportError) as caught:
        provider.get_token()
    assert "connection refused" in str(caught.value)
    assert len(sleeps) == 2


def test_retries_zero_turns_retrying_off(loopback: Any) -> None:
    script = Script(_html(503), good())
    server = loopback(script)
    with pytest.raises(TokenEndpointError):
        _cc(server.url, 0).get_token()
    assert len(script.seen) == 1


def test_default_retries_are_three(loopback: Any) -> None:
    provider = ClientCredentialsTokenProvider("https://idp.example/token", "cc", "s")
    assert provider.retry_policy.retries == 3
    assert provider.retry_policy.statuses == RETRY_STATUSES


def test_backoff_grows_with_jitter_below_the_cap(loopback: Any) -> None:
    script = Script(_html(503))
    server = loopback(script)
    sleeps: list[float] = []
    policy = _policy(sleeps, retries=4, backoff_factor=0.01, backoff_max=0.03, jitter=0.5)
    with pytest.raises(TokenEndpointError):
        _cc(server.url, policy).get_token()
    ceilings = [0.01, 0.02, 0.03, 0.03]
    assert len(sleeps) == 4
    for wait, ceiling in zip(sleeps, ceilings):
        assert ceiling * 0.5 <= wait <= ceiling


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"retries": -1}, ValueError),
        ({"retries": 1.5}, TypeError),
        ({"statuses": {401, 503}}, ValueError),
        ({"statuses": {400}}, ValueError),
        ({"jitter": 2}, ValueError),
        ({"max_retry_time": -1}, ValueError),
    ],
)
def test_bad_policies_are_refused(options: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        RetryPolicy(**options)


def _ec_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )


def _jwt_bearer(url: str, retries: Any) -> Any:
    from h2oauth_lite import JWTBearerTokenProvider

    return JWTBearerTokenProvider(
        f"{url}/token", "svc", "svc", _ec_pem(), alg="ES256", retries=retries, timeout=5
    )


def _client_secret_jwt(url: str, retries: Any) -> Any:
    from h2oauth_lite import ClientSecretJWT

    auth = ClientSecretJWT("cc", "s" * 48)
    return ClientCredentialsTokenProvider(
        f"{url}/token", client_auth=auth, retries=retries, timeout=5
    )


def _private_key_jwt(url: str, retries: Any) -> Any:
    from h2oauth_lite import PrivateKeyJWT

    auth = PrivateKeyJWT("cc", _ec_pem(), alg="ES256")
    return ClientCredentialsTokenProvider(
        f"{url}/token", client_auth=auth, retries=retries, timeout=5
    )


_ASSERTION_CARRIERS = [_jwt_bearer, _client_secret_jwt, _private_key_jwt]
_CARRIER_IDS = ["jwt_bearer_grant", "client_secret_jwt", "private_key_jwt"]


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
@pytest.mark.parametrize("make", _ASSERTION_CARRIERS, ids=_CARRIER_IDS)
def test_requests_with_a_single_use_assertion_do_not_retry_answers(
    loopback: Any, make: Any, status: int
) -> None:
    # The server may have recorded the jti before the gateway answered: the same
    # body again would be a replay, which this library never sends.
    script = Script(Response(status, "gateway trouble", {"Retry-After": "0"}), good())
    server = loopback(script)
    sleeps: list[float] = []
    provider = make(server.url, _policy(sleeps))
    assert provider.retry_policy.statuses == frozenset()
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.status_code == status
    assert len(script.seen) == 1
    assert sleeps == []
    # The next call is a new request with a new assertion.
    provider.get_token()
    first, second = script.seen
    field = "assertion" if make is _jwt_bearer else "client_assertion"
    assert first.form[field] != second.form[field]


@pytest.mark.parametrize("make", _ASSERTION_CARRIERS, ids=_CARRIER_IDS)
def test_requests_with_a_single_use_assertion_still_retry_connect_errors(make: Any) -> None:
    sleeps: list[float] = []
    provider = make(f"http://127.0.0.1:{closed_port()}", _policy(sleeps, retries=2))
    with pytest.raises(TransportError) as caught:
        provider.get_token()
    assert "connection refused" in str(caught.value)
    assert len(sleeps) == 2


def test_client_secret_methods_keep_retrying_answers() -> None:
    for method in ("client_secret_basic", "client_secret_post"):
        provider = ClientCredentialsTokenProvider(
            "https://idp.example/token", "cc", "s", client_auth=method
        )
        assert provider.retry_policy.statuses == RETRY_STATUSES
