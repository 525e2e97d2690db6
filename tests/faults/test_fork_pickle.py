"""Pickle round trips and forks: locks and sessions are recreated, tokens may travel."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from typing import Any, Callable

import pytest
import requests

from h2oauth_lite import (
    AuthCache,
    BearerAuth,
    ClientCredentialsTokenProvider,
    RefreshTokenProvider,
)
from tests.support.answers import token_body
from tests.support.loopback import Request, Response

CHILD_BOUND = 20.0


class Numbered:
    """Token endpoint handing out tok-1, tok-2, ...; rotates refresh tokens; optional delays."""

    def __init__(self, delays: tuple[float, ...] = ()) -> None:
        self.count = 0
        self.delays = list(delays)
        self.lock = threading.Lock()
        self.refresh_tokens: list[str] = []

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.count += 1
            number = self.count
            delay = self.delays.pop(0) if self.delays else 0.0
        if "refresh_token" in request.form:
            self.refresh_tokens.append(request.form["refresh_token"])
        body = token_body(f"tok-{number}", refresh_token=f"rt-{number + 1}")
        return Response(200, body, delay=delay)


def _cc(url: str) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(f"{url}/token", "cc", "cc-secret", timeout=5)


def _refresh(url: str) -> RefreshTokenProvider:
    return RefreshTokenProvider(f"{url}/token", "app", "rt-1", "app-secret", timeout=5)


def test_provider_round_trip_then_use(loopback: Any) -> None:
    server = loopback(Numbered())
    provider = _cc(server.url)
    provider.get_token()  # a live session with a pooled connection
    copy = pickle.loads(pickle.dumps(provider))
    assert copy.get_token().access_token == "tok-2"
    sent = server.requests
    assert sent[1].header("Authorization") == sent[0].header("Authorization")
    assert copy.retry_policy == provider.retry_policy


def test_refresh_provider_copy_continues_from_the_newest_refresh_token(loopback: Any) -> None:
    handler = Numbered()
    server = loopback(handler)
    provider = _refresh(server.url)
    provider.get_token()
    copy = pickle.loads(pickle.dumps(provider))
    copy.get_token()
    assert handler.refresh_tokens == ["rt-1", "rt-2"]


def test_cache_round_trip_keeps_the_token(loopback: Any) -> None:
    server = loopback(Numbered())
    cache = AuthCache(_cc(server.url))
    cached = cache.get_token()
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.get_token() == cached
    assert len(server.requests) == 1
    copy.invalidate()
    assert copy.get_token().access_token == "tok-2"


def test_bearer_auth_round_trip_then_use(loopback: Any) -> None:
    issuer = loopback(Numbered())
    resource = loopback(Response(200, {"ok": True}))
    auth = pickle.loads(pickle.dumps(BearerAuth(AuthCache(_cc(issuer.url)))))
    answer = requests.get(f"{resource.url}/api", auth=auth, timeout=5)
    assert answer.json() == {"ok": True}
    assert resource.requests[0].header("Authorization") == "Bearer tok-1"


def _fork_and_run(child: Callable[[], str]) -> str:
    """Run ``child`` in a forked process; its answer, or a failure if it hangs or dies."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read_end)
            signal.alarm(int(CHILD_BOUND))
            os.write(write_end, child().encode("utf-8"))
            code = 0
        except BaseException as exc:
            os.write(write_end, f"error: {exc!r}".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + CHILD_BOUND
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        pytest.fail("the forked child hung")
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode("utf-8")
    assert status == 0, answer
    return answer


pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_fork_while_another_thread_is_refreshing(loopback: Any) -> None:
    handler = Numbered(delays=(3.0,))  # the parent's first request hangs for a while
    server = loopback(handler)
    cache = AuthCache(_refresh(server.url))
    parent_result: dict[str, Any] = {}
    refresher = threading.Thread(
        target=lambda: parent_result.setdefault("token", cache.get_token()), daemon=True
    )
    refresher.start()
    server.wait_for_requests(1)
    # Now the parent holds the refresh lock and has a flight in progress.
    answer = _fork_and_run(lambda: cache.get_token().access_token)
    assert answer == "tok-2"
    refresher.join(10)
    assert parent_result["token"].access_token == "tok-1"


def test_child_gets_a_session_of_its_own(loopback: Any) -> None:
    server = loopback(Numbered())
    provider = _cc(server.url)
    provider.get_token()
    assert provider.endpoint._session is not None

    def child() -> str:
        fresh = provider.endpoint._session is None
        free = provider.endpoint._session_lock.acquire(timeout=1)
        if free:
            provider.endpoint._session_lock.release()
        token = provider.get_token().access_token
        return f"{fresh} {free} {token}"

    assert _fork_and_run(child) == "True True tok-2"
    assert server.connections == 2  # the child did not write into the parent's socket
    assert provider.get_token().access_token == "tok-3"


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_multiprocessing_fork_workers_fetch_tokens(loopback: Any) -> None:
    import multiprocessing

    server = loopback(Numbered())
    cache = AuthCache(_cc(server.url))
    cache.get_token()
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        tokens = pool.map(_cached_access_token, [cache, cache])
    assert tokens == ["tok-1", "tok-1"]  # the cached token travelled; nothing fetched


def _cached_access_token(cache: AuthCache) -> str:
    return cache.get_token().access_token
