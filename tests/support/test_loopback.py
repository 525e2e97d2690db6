from __future__ import annotations

import threading
import time
from typing import Callable

import pytest
import requests

from tests.support.loopback import (
    CLOSE_MID_BODY,
    NEVER_ANSWER,
    RESET,
    LoopbackServer,
    Outcome,
    Request,
    Response,
)

Factory = Callable[..., LoopbackServer]


def test_records_requests_and_parses_forms(loopback: Factory) -> None:
    server = loopback(lambda request: Response(201, {"seen": request.form}))
    response = requests.post(
        f"{server.url}/token?x=1",
        data={"grant_type": "client_credentials", "scope": "a b"},
        headers={"X-Test": "yes"},
        timeout=5,
    )
    assert response.status_code == 201
    assert response.json() == {"seen": {"grant_type": "client_credentials", "scope": "a b"}}
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/token"
    assert request.query == {"x": "1"}
    assert request.header("x-test") == "yes"
    assert request.body == b"grant_type=client_credentials&scope=a+b"


def test_keep_alive_reuses_one_connection(loopback: Factory) -> None:
    server = loopback(Response(200, {"ok": True}))
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(server.url, timeout=5).json() == {"ok": True}
    assert len(server.requests) == 5
    assert server.connections == 1


def test_separate_clients_count_separate_connections(loopback: Factory) -> None:
    server = loopback(Response(204))
    for _ in range(3):
        with requests.Session() as session:
            session.get(server.url, timeout=5)
    assert server.connections == 3


def test_delay_holds_the_answer(loopback: Factory) -> None:
    server = loopback(Response(200, b"late", delay=0.3))
    started = time.monotonic()
    assert requests.get(server.url, timeout=5).content == b"late"
    assert time.monotonic() - started >= 0.3


def test_never_answer_ends_in_a_read_timeout(loopback: Factory) -> None:
    server = loopback(lambda _request: NEVER_ANSWER)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.url, timeout=(2, 0.3))
    assert time.monotonic() - started < 2
    assert len(server.requests) == 1


def test_reset_and_close_mid_body_break_the_transfer(loopback: Factory) -> None:
    def handler(request: Request) -> Outcome:
        return RESET if request.path == "/reset" else CLOSE_MID_BODY

    server = loopback(handler)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{server.url}/reset", timeout=5)
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(f"{server.url}/short", timeout=5).json()


def test_stop_releases_a_held_connection() -> None:
    server = LoopbackServer(lambda _request: NEVER_ANSWER).start()
    url = server.url
    started = time.monotonic()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(url, timeout=10)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    server.wait_for_requests(1)
    server.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert errors
    assert time.monotonic() - started < 5
