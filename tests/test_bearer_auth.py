"""BearerAuth on a real requests.Session against loopback servers."""

from __future__ import annotations

import threading
from typing import Callable

import requests

from h2oauth_lite import AuthCache, BearerAuth, ClientCredentialsTokenProvider
from tests.support.answers import token_body
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]


def token_server(loopback: Loopback) -> LoopbackServer:
    counter = iter(range(1, 1000))
    lock = threading.Lock()

    def answer(request: Request) -> Response:
        with lock:
            number = next(counter)
        return Response(body=token_body(f"tok-{number}", None, token_type="bearer"))

    return loopback(answer)


def resource_server(loopback: Loopback, refuse: set[str]) -> LoopbackServer:
    def answer(request: Request) -> Response:
        if request.header("Authorization") in refuse:
            return Response(401, {"error": "invalid_token"})
        return Response(
            body={"seen": request.header("Authorization"), "body": request.body.decode()}
        )

    return loopback(answer)


def test_every_request_carries_the_cached_token(loopback: Loopback) -> None:
    tokens = token_server(loopback)
    api = resource_server(loopback, refuse=set())
    session = requests.Session()
    session.auth = BearerAuth(AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s")))
    seen = [session.get(api.url + "/x", timeout=5).json()["seen"] for _ in range(3)]
    assert seen == ["Bearer tok-1"] * 3
    assert len(tokens.requests) == 1


def test_a_401_invalidates_and_resends_once(loopback: Loopback) -> None:
    tokens = token_server(loopback)
    api = resource_server(loopback, refuse={"Bearer tok-1"})
    cache = AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s"))
    response = requests.post(api.url + "/x", data={"a": "1"}, auth=BearerAuth(cache), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"seen": "Bearer tok-2", "body": "a=1"}
    assert [r.status_code for r in response.history] == [401]
    assert len(api.requests) == 2 and len(tokens.requests) == 2


def test_a_second_401_is_returned_not_looped(loopback: Loopback) -> None:
    tokens = token_server(loopback)
    api = resource_server(loopback, refuse={f"Bearer tok-{n}" for n in range(1, 10)})
    cache = AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s"))
    response = requests.get(api.url + "/x", auth=BearerAuth(cache), timeout=5)
    assert response.status_code == 401
    assert len(api.requests) == 2  # the original and exactly one retry


def test_a_streamed_body_is_not_replayed(loopback: Loopback) -> None:
    tokens = token_server(loopback)
    api = resource_server(loopback, refuse={"Bearer tok-1"})
    cache = AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s"))
    chunks = iter([b"one", b"two"])
    response = requests.post(api.url + "/x", data=chunks, auth=BearerAuth(cache), timeout=5)
    assert response.status_code == 401
    assert len(api.requests) == 1


def test_same_token_again_means_no_retry(loopback: Loopback) -> None:
    tokens = loopback(Response(body=token_body("always-the-same", None)))
    api = resource_server(loopback, refuse={"Bearer always-the-same"})
    cache = AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s"))
    assert requests.get(api.url, auth=BearerAuth(cache), timeout=5).status_code == 401
    assert len(api.requests) == 1


def test_late_401s_for_a_replaced_token_fetch_no_more_tokens(loopback: Loopback) -> None:
    tokens = token_server(loopback)
    api = resource_server(loopback, refuse={"Bearer tok-1"})
    session = requests.Session()
    session.auth = BearerAuth(AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s")))
    # Requests prepared with tok-1 before any of them was answered (as by many threads).
    prepared = [
        session.prepare_request(requests.Request("GET", f"{api.url}/{n}")) for n in range(4)
    ]
    answers = [session.send(request, timeout=5) for request in prepared]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert {answer.json()["seen"] for answer in answers} == {"Bearer tok-2"}
    assert len(tokens.requests) == 2  # tok-1, then one replacement for all four refusals


def test_a_401_after_a_redirect_drops_only_the_refused_token(loopback: Loopback) -> None:
    tokens = token_server(loopback)

    def answer(request: Request) -> Response:
        if request.path == "/old":
            return Response(307, b"", {"Location": "/new"})
        if request.header("Authorization") == "Bearer tok-1":
            return Response(401, {"error": "invalid_token"})
        return Response(body={"seen": request.header("Authorization")})

    api = loopback(answer)
    cache = AuthCache(ClientCredentialsTokenProvider(tokens.url, "svc", "s"))
    session = requests.Session()
    session.auth = BearerAuth(cache)
    late = session.prepare_request(requests.Request("GET", api.url + "/old"))  # carries tok-1
    cache.invalidate()
    assert cache.get_token().access_token == "tok-2"
    response = session.send(late, timeout=5)
    assert response.status_code == 200 and response.json() == {"seen": "Bearer tok-2"}
    assert len(tokens.requests) == 2  # tok-2 was kept: the refusal named tok-1
