"""Crash safety of the token store: a writer killed with SIGKILL, many times, mid-write.

After every kill the file must parse as JSON and hold either the token the
previous round left or one this round's writer stored: never a half-written
file, never a lost entry, and the lock the dead writer held must not block
the next one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from h2oauth_lite.store.file import TokenStore
from h2oauth_lite.token import Token

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")

ROUNDS = 40
HOST = "https://auth.example.com"
OTHER_HOST = "https://other.example.com"
# A large entry widens the window in which a non-atomic write would be caught half-done.
PADDING = "s" * 200_000


def _writer(path: Path, round_number: int) -> None:
    """The child: store new tokens as fast as it can until it is killed."""
    store = TokenStore(path, lock_timeout=10)
    number = 0
    while True:
        token = Token(f"tok-{round_number}-{number}", expires_at=2e9, scope=PADDING)
        store.put(HOST, token)
        number += 1


def _stored_access_token(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    data = json.loads(raw)  # raises on a torn file
    assert isinstance(data, dict)
    token = TokenStore(path).get(HOST)
    assert token is not None, "the entry was lost"
    assert token.scope == PADDING
    return token.access_token


def test_sigkill_mid_write_never_leaves_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "token-store.json"
    store = TokenStore(path)
    store.put(OTHER_HOST, Token("other-host-token", expires_at=2e9))
    store.put(HOST, Token("tok-start", expires_at=2e9, scope=PADDING))
    previous = "tok-start"
    rng = random.Random(7)
    advanced = 0
    for round_number in range(ROUNDS):
        pid = os.fork()
        if pid == 0:
            try:
                _writer(path, round_number)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.005, 0.06))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        current = _stored_access_token(path)
        assert current == previous or current.startswith(f"tok-{round_number}-"), current
        advanced += current != previous
        previous = current
        other = TokenStore(path).get(OTHER_HOST)
        assert other is not None and other.access_token == "other-host-token"
    assert advanced > ROUNDS // 2, "the writers were killed before they wrote anything"
    # The dead writers' lock is free: a normal write still goes through at once.
    TokenStore(path, lock_timeout=2).put(HOST, Token("tok-after", expires_at=2e9))
    assert TokenStore(path).get(HOST) is not None
    # ... and it cleared the temporary copies the killed writers left behind.
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
