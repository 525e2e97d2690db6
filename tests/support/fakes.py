"""One fake token provider for the tests of what sits above a provider (caches, stores, auth).

Tokens are numbered by call (``t1``, ``t2``, ... with the default ``prefix``)
and live ``lifetime`` seconds on the injected clock (``None``: no expiry).
A test can hold callers at ``gate``, slow them with ``delay``, make every
call fail with ``fail_with``, count ``calls`` and ``failures``, and, when it
needs them, get refresh tokens, a ``client_id`` and the ``revoked`` record.
With ``wraps`` it counts the calls and failures of a real provider instead.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from h2oauth_lite import Token
from h2oauth_lite.protocols import SupportsGetToken
from tests.support.clock import Clock

__all__ = ["FakeProvider"]


class FakeProvider:
    """A ``get_token()`` / ``token()`` provider whose every answer a test decides."""

    def __init__(
        self,
        clock: Optional[Clock] = None,
        lifetime: Optional[float] = 60.0,
        *,
        prefix: str = "t",
        delay: float = 0.0,
        refresh_tokens: bool = False,
        client_id: Optional[str] = None,
        wraps: Optional[SupportsGetToken] = None,
    ) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.prefix = prefix
        self.delay = delay
        self.refresh_tokens = refresh_tokens
        self.client_id = client_id
        self.wraps = wraps
        self.calls = 0
        self.failures = 0
        self.fail_with: Optional[Exception] = None
        self.gate: Optional[threading.Event] = None
        self.entered = threading.Event()
        self.revoked: list[Any] = []
        self.lock = threading.Lock()

    def _now(self) -> float:
        return time.time() if self.clock is None else self.clock.time()

    def get_token(self) -> Token:
        with self.lock:
            self.calls += 1
            number = self.calls
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if self.delay:
            time.sleep(self.delay)
        failure = self.fail_with
        if failure is not None:
            with self.lock:
                self.failures += 1
            raise failure
        if self.wraps is not None:
            try:
                return self.wraps.get_token()
            except Exception:
                with self.lock:
                    self.failures += 1
                raise
        name = f"{self.prefix}{number}"
        expires_at = None if self.lifetime is None else self._now() + self.lifetime
        refresh_token = f"rt-{name}" if self.refresh_tokens else None
        return Token(name, expires_at=expires_at, refresh_token=refresh_token)

    def token(self) -> str:
        """h2o-authn's form: a new access token string on every call."""
        return self.get_token().access_token

    def revoke(self, token: Any, token_type_hint: Optional[str] = None) -> None:
        self.revoked.append(token)
