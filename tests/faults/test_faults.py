"""Each way a token endpoint can misbehave: the caller's outcome, and the cache afterwards.

Every call runs in a worker thread that must finish well within a bound
derived from the provider's timeout: a hang fails the test instead of
blocking the suite.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

import pytest

from h2oauth_lite import (
    AuthCache,
    ClientCredentialsTokenProvider,
    InvalidTokenResponseError,
    Token,
    TokenEndpointError,
    TransportError,
)
from h2oauth_lite.wire.retry import RetryPolicy
from tests.support.answers import Script, good, token_body
from tests.support.loopback import CLOSE_MID_BODY, NEVER_ANSWER, RESET, Outcome, Response

TIMEOUT = 0.5
# A generous bound, only there to turn a hang into a failure.
HANG_BOUND = 15.0
NO_WAIT = RetryPolicy(retries=3, backoff_factor=0.0, sleep=lambda _seconds: None)


def _html(status: int, title: str) -> Response:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{title}</body></html>"
    return Response(status, page, {"Content-Type": "text/html; charset=utf-8"})


def _in_thread(call: Callable[[], Token]) -> tuple[Optional[Token], Optional[BaseException]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["token"] = call()
        except BaseException as exc:
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_BOUND)
    assert not worker.is_alive(), "the call hung"
    return result.get("token"), result.get("error")


FIVE_MIB = b'{"access_token": "' + b"x" * (5 * 1024 * 1024) + b'"}'

# fault id -> (answer, error type, message fragment ({url}: the token endpoint), requests)
FAULTS: dict[str, tuple[Outcome, type[Exception], str, int]] = {
    "delay past the timeout": (
        Response(200, token_body(), delay=TIMEOUT * 4),
        TransportError,
        f"within {TIMEOUT:g} s",
        1,
    ),
    "accept and never answer": (NEVER_ANSWER, TransportError, f"within {TIMEOUT:g} s", 1),
    "connection reset": (RESET, TransportError, "connection reset", 1),
    "close mid-body": (CLOSE_MID_BODY, TransportError, "closed before the whole answer", 1),
    "500 with HTML": (
        _html(500, "Internal Server Error"),
        TokenEndpointError,
        "(status: 500 Internal Server Error): token request (client_credentials grant) at "
        "{url}; response: Internal Server Error",
        1,
    ),
    "502 with HTML": (_html(502, "Bad Gateway"), TokenEndpointError, "status: 502", 4),
    "503 with HTML": (_html(503, "Service Unavailable"), TokenEndpointError, "status: 503", 4),
    "429 with a long Retry-After": (
        Response(429, {"error": "too_many_requests"}, {"Retry-After": "3600"}),
        TokenEndpointError,
        "error: too_many_requests",
        1,
    ),
    "truncated JSON": (
        Response(
            200, b'{"access_token": "abc", "expires_in": 3', {"Content-Type": "application/json"}
        ),
        InvalidTokenResponseError,
        "the answer is not JSON (application/json)",
        1,
    ),
    "a body of 5 MiB": (
        Response(200, FIVE_MIB, {"Content-Type": "application/json"}),
        TokenEndpointError,
        "refused (limit 1 MiB)",
        1,
    ),
    "HTML where JSON belongs": (
        _html(200, "Please log in"),
        InvalidTokenResponseError,
        "not JSON (text/html; charset=utf-8): Please log in",
        1,
    ),
    "JSON array": (Response(200, [1, 2]), InvalidTokenResponseError, "a JSON array", 1),
    "JSON string": (
        Response(200, b'"token"', {"Content-Type": "application/json"}),
        InvalidTokenResponseError,
        "a JSON string, not an object",
        1,
    ),
    "JSON number": (
        Response(200, b"42", {"Content-Type": "application/json"}),
        InvalidTokenResponseError,
        "a JSON number",
        1,
    ),
    "JSON null": (
        Response(200, b"null", {"Content-Type": "application/json"}),
        InvalidTokenResponseError,
        "a JSON null",
        1,
    ),
    "every member of the wrong type": (
        Response(
            200,
            {
                "access_token": 12345,
                "token_type": ["Bearer"],
                "expires_in": {"seconds": 60},
                "refresh_token": 7,
                "scope": 1.5,
                "id_token": False,
            },
        ),
        InvalidTokenResponseError,
        "'access_token' is not a string",
        1,
    ),
}


@pytest.fixture
def endpoint(loopback: Any) -> Any:
    script = Script(good())
    server = loopback(script)
    provider = ClientCredentialsTokenProvider(
        f"{server.url}/token", "cc", "cc-secret", timeout=TIMEOUT, retries=NO_WAIT
    )
    return script, AuthCache(provider)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_outcome_and_recovery(endpoint: Any, fault: str) -> None:
    answer, error_type, fragment, expected_requests = FAULTS[fault]
    script, cache = endpoint
    script.then(answer)
    token, error = _in_thread(cache.get_token)
    assert token is None
    assert type(error) is error_type, repr(error)
    assert fragment.format(url=cache.provider.token_endpoint) in str(error)
    assert len(script.seen) == expected_requests
    script.then(good("tok-recovered"))
    token, error = _in_thread(cache.get_token)
    assert error is None
    assert token is not None and token.access_token == "tok-recovered"


@pytest.mark.parametrize(
    ("member", "value", "fragment"),
    [
        ("access_token", 5, "'access_token' is not a string"),
        ("access_token", "", "'access_token' is empty"),
        ("access_token", "two words\n", "'access_token' is empty or holds white space"),
        ("token_type", 5, "'token_type' is not a string"),
        ("refresh_token", ["r"], "'refresh_token' is not a string"),
        ("id_token", {"a": 1}, "'id_token' is not a string"),
        ("scope", 3, "'scope' is not a string"),
    ],
)
def test_members_of_the_wrong_type(endpoint: Any, member: str, value: Any, fragment: str) -> None:
    script, cache = endpoint
    body = token_body()
    body[member] = value
    script.then(Response(200, body))
    _, error = _in_thread(cache.get_token)
    assert isinstance(error, InvalidTokenResponseError)
    assert fragment in str(error)


def test_an_expires_in_that_is_not_a_number_is_refused(endpoint: Any) -> None:
    script, cache = endpoint
    script.then(Response(200, token_body(expires_in="soon")))
    token, error = _in_thread(cache.get_token)
    assert token is None and isinstance(error, InvalidTokenResponseError)
    assert "member 'expires_in' is not a number of seconds" in str(error)


def test_a_wrong_content_type_on_valid_json_is_accepted(endpoint: Any) -> None:
    # Many servers label JSON text/plain; the body decides, as it decides for HTML.
    script, cache = endpoint
    script.then(Response(200, b'{"access_token": "tok-plain"}', {"Content-Type": "text/plain"}))
    token, error = _in_thread(cache.get_token)
    assert error is None and token is not None and token.access_token == "tok-plain"


def test_retries_recover_through_the_cache(endpoint: Any) -> None:
    script, cache = endpoint
    script.then(_html(502, "Bad Gateway"), _html(503, "Service Unavailable"), good("tok-third"))
    token, error = _in_thread(cache.get_token)
    assert error is None and token is not None and token.access_token == "tok-third"
    assert len(script.seen) == 3


def test_many_callers_during_a_hang_share_one_request(endpoint: Any) -> None:
    script, cache = endpoint
    script.then(NEVER_ANSWER)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            cache.get_token()
        except BaseException as exc:
            with lock:
                errors.append(exc)

    workers = [threading.Thread(target=call, daemon=True) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG_BOUND)
    assert not any(worker.is_alive() for worker in workers)
    assert len(errors) == 8
    assert all(isinstance(exc, TransportError) for exc in errors)
    assert len(script.seen) == 1
    script.then(good("tok-back"))
    assert cache.get_token().access_token == "tok-back"
