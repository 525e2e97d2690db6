"""A token endpoint for fleet tests: short tokens, rotating refresh tokens, reuse detection.

Runs as the handler of a :class:`tests.support.loopback.LoopbackServer` in the test
process, so a test reads its counters directly. Client credentials get a
new opaque token each time; a refresh token is valid once: the request
that presents it gets the next one, and presenting a spent one revokes the
whole family (as Auth0, Okta and Keycloak do with reuse detection on), after
which every refresh fails with ``invalid_grant``.

``hold_next_refresh()`` makes the next refresh wait until ``release()``; a
released request that is ``abandoned`` answers 503 without rotating, as an
IdP does whose client vanished before the refresh was committed.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Optional

from tests.support.loopback import Request, Response

SEED = "rt-seed-0"


class FleetIdP:
    def __init__(self, ttl: float = 2.0, seed: str = SEED) -> None:
        self.ttl = ttl
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.valid: Optional[str] = seed
        self.spent: set[str] = set()
        self.family_revoked = False
        self.invalid_grant = 0
        self.issued: list[tuple[float, str]] = []  # (monotonic time, access token)
        self.held = threading.Event()
        self._release = threading.Event()
        self._hold = False
        self.abandoned = False

    # -- what tests look at --------------------------------------------------------

    def requests_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for at, _ in self.issued if start <= at < end)

    @property
    def token_requests(self) -> int:
        with self.lock:
            return len(self.issued)

    def hold_next_refresh(self) -> None:
        self.held.clear()
        self._release.clear()
        self._hold = True

    def release(self, *, abandon: bool) -> None:
        self.abandoned = abandon
        self._release.set()

    # -- the endpoint ----------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        grant = request.form.get("grant_type")
        if grant == "client_credentials":
            return self._issue(None)
        if grant != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        if self._hold:
            self._hold = False
            self.held.set()
            self._release.wait(60)
            if self.abandoned:
                return Response(503, {"error": "temporarily_unavailable"})
        presented = request.form.get("refresh_token", "")
        with self.lock:
            if self.family_revoked or presented != self.valid:
                if presented in self.spent:
                    self.family_revoked = True  # reuse: the family is compromised
                self.invalid_grant += 1
                return Response(400, {"error": "invalid_grant"})
            self.spent.add(presented)
            self.valid = f"rt-{next(self.counter)}-{time.monotonic_ns()}"
            rotated = self.valid
        return self._issue(rotated)

    def _issue(self, refresh_token: Optional[str]) -> Response:
        with self.lock:
            access = f"at-{next(self.counter)}"
            self.issued.append((time.monotonic(), access))
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.ttl}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return Response(200, body)
