"""A TokenProvider family (a provider and its with_scope() copies) across os.fork().

The fork lands while a parent thread is in the middle of a refresh, so the
family's refresh lock is held at that moment by a thread the child does not
have. The child must still make copies, refresh, and keep the one-refresh-at-
a-time rule of the family: with rotation, two members sending the same refresh
token at once means one invalid_grant.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any, Callable

import pytest

from h2oauth_lite import TokenProvider
from tests.support.answers import token_body
from tests.support.loopback import Request, Response

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_BOUND = 20.0  # the whole child, however it goes wrong
STEP_BOUND = 5.0  # one step inside the child
HUNG_WITH_SCOPE = 3
HUNG_REFRESH = 4


class RotatingServer:
    """Rotates refresh tokens; holds the first request; sees overlapping later ones.

    Request 1 is the parent's refresh, in flight at fork time. Every later one
    comes from the child and stays open a little, so that two members sending
    without a shared lock would be seen at the server at the same time.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.active = 0
        self.most_active = 0
        self.later_refresh_tokens: list[str] = []

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.count += 1
            number = self.count
        body = token_body(f"tok-{number}", refresh_token=f"rt-{number + 1}")
        if number == 1:
            return Response(200, body, delay=2.0)
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.later_refresh_tokens.append(request.form["refresh_token"])
        try:
            time.sleep(0.3)
        finally:
            with self.lock:
                self.active -= 1
        return Response(200, body)


def _bounded(step: Callable[[], Any], code: int) -> Any:
    """``step()``'s result; the child exits with ``code`` if it does not finish in time."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(step())
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(STEP_BOUND)
    if worker.is_alive():
        os._exit(code)
    if failure:
        raise failure[0]
    return result[0]


def _child(provider: TokenProvider) -> dict[str, Any]:
    scoped = _bounded(lambda: provider.with_scope("other"), HUNG_WITH_SCOPE)
    start = threading.Barrier(2, timeout=STEP_BOUND)

    def fetch(member: TokenProvider) -> str:
        start.wait()
        return member()

    tokens: dict[str, str] = {}

    def both() -> None:
        side = threading.Thread(target=lambda: tokens.setdefault("scoped", fetch(scoped)))
        side.start()
        tokens["original"] = fetch(provider)
        side.join(STEP_BOUND)

    _bounded(both, HUNG_REFRESH)
    return tokens


def _fork_and_run(child: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``child()``'s answer from a forked process; a test failure if it hangs or dies."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # never return into pytest
        code = 1
        try:
            os.close(read_end)
            signal.alarm(int(CHILD_BOUND))
            os.write(write_end, json.dumps(child()).encode("utf-8"))
            code = 0
        except BaseException as exc:
            os.write(write_end, json.dumps({"error": repr(exc)}).encode("utf-8"))
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + CHILD_BOUND
    status = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode("utf-8")
    code = os.waitstatus_to_exitcode(status)
    assert code != HUNG_WITH_SCOPE, "with_scope() in the child waited on the parent's refresh"
    assert code != HUNG_REFRESH, "a refresh in the child never finished"
    assert code == 0, answer
    result: dict[str, Any] = json.loads(answer)
    return result


def test_family_forked_mid_refresh_keeps_one_refresh_at_a_time(loopback: Any) -> None:
    handler = RotatingServer()
    server = loopback(handler)
    provider = TokenProvider(
        refresh_token="rt-1", client_id="app", token_endpoint_url=f"{server.url}/token"
    )
    provider.with_scope("early")  # a family of more than one before the fork
    parent: dict[str, str] = {}
    refresher = threading.Thread(
        target=lambda: parent.setdefault("token", provider()), daemon=True
    )
    refresher.start()
    server.wait_for_requests(1)  # the parent holds the family's refresh lock now

    tokens = _fork_and_run(lambda: _child(provider))

    assert sorted(tokens.values()) == ["tok-2", "tok-3"]
    # One lock for the family in the child too: the two refreshes went one after
    # the other, the second with the refresh token the first one got back.
    assert handler.most_active == 1
    assert handler.later_refresh_tokens == ["rt-1", "rt-3"]
    refresher.join(STEP_BOUND)
    assert parent["token"] == "tok-1"
