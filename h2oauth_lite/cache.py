"""AuthCache: one token shared by every thread, refreshed once, ahead of time.

The life of a cached token, on the monotonic clock::

    fetched ........ refresh_at ........ stale_at ........ expires_at
      fresh: answer    window: answer     stale: callers     expired:
      from memory      and refresh in     wait for the one   never
      (no lock)        the background     refresh            served

``stale_at`` is ``expiry_threshold`` before the expiry (at most half the
token's life, so short tokens stay usable). The window starts
``refresh_ahead`` before the expiry: by default the last 10% of the lifetime,
at most five minutes, and never less than the threshold (a longer threshold
wins over the cap). A window no longer than the threshold means no refresh
ahead: callers wait at ``stale_at``. Short tokens need a threshold well below
``refresh_ahead`` to get one.

Whatever the number of callers, at most one request is in flight: the first
caller that needs a token starts it ("single flight"), the others wait for
its answer, success or error. A refresh that fails while the cached token is
still valid leaves that token in place and is retried after a backoff.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._fork import after_fork_in_child
from ._log import logger
from .durations import Duration, to_seconds
from .errors import ConfigError
from .protocols import (
    DPoPSigner,
    SupportsDPoP,
    SupportsGetToken,
    SupportsIntrospect,
    SupportsRevoke,
)
from .store.link import store_link
from .token import AccessToken, Token, TokenLike

if TYPE_CHECKING:
    from .store.base import TokenStoreBackend
    from .store.keys import StoreKey

__all__ = ["DEFAULT_EXPIRY_THRESHOLD", "AuthCache"]

# How long before the expiry callers stop using a token and wait for a new one.
DEFAULT_EXPIRY_THRESHOLD = 5.0

_MAX_AUTO_WINDOW = 300.0
_AUTO_WINDOW_SHARE = 0.1
_FIRST_BACKOFF = 1.0
_MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class _Entry:
    """A cached token and its deadlines on the monotonic clock; replaced, never changed."""

    token: Token
    refresh_at: float
    stale_at: float
    expires_at: float


class _Flight:
    """One token request in progress, and its outcome for everyone who waited."""

    __slots__ = ("done", "error", "token")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: Optional[Token] = None
        self.error: Optional[BaseException] = None


class AuthCache:
    """Caches the tokens of any provider; safe to share between threads.

    ``get_token()`` returns the cached token while it is fresh, without
    taking a lock. ``expiry_threshold`` (default 5 s) is how long before the
    expiry callers stop using a token and wait for a new one;
    ``refresh_ahead`` (default: automatic, see the module notes; ``0``
    turns it off) is how long before the expiry one background thread starts
    fetching the next token while callers keep the current one.
    With ``store`` (a :class:`~h2oauth_lite.TokenStore`, a
    :class:`~h2oauth_lite.RedisTokenStore` or any
    :class:`~h2oauth_lite.TokenStoreBackend`) and ``key`` (the host, or a
    :class:`~h2oauth_lite.StoreKey` naming the client too), tokens persist
    across runs and processes refresh once between them; the entry belongs to
    the provider's ``client_id``, and a cache of another client raises
    ConfigError rather than use it. The store is read only when a refresh is due.
    ``max_token_age`` (default: none) makes a token due for refresh that long
    after it was fetched even when it would live longer.
    """

    def __init__(
        self,
        provider: SupportsGetToken,
        *,
        expiry_threshold: Duration = DEFAULT_EXPIRY_THRESHOLD,
        refresh_ahead: Optional[Duration] = None,
        max_token_age: Optional[Duration] = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        store: Optional[TokenStoreBackend] = None,
        key: Optional[Union[str, StoreKey]] = None,
    ) -> None:
        if not isinstance(provider, SupportsGetToken):
            raise TypeError("AuthCache needs a provider with a get_token() method")
        self.provider = provider
        self._threshold = to_seconds(expiry_threshold, "expiry_threshold")
        self._refresh_ahead = (
            None if refresh_ahead is None else to_seconds(refresh_ahead, "refresh_ahead")
        )
        self._max_token_age = (
            None if max_token_age is None else to_seconds(max_token_age, "max_token_age")
        )
        if self._max_token_age == 0:
            raise ValueError("max_token_age must be positive")
        self._clock = clock
        self._monotonic = monotonic
        self._init_runtime_state()
        # With a store, tokens outlive the process and are shared with other processes.
        self._store = store_link(store, key, provider)
        self._load_from_store()
        after_fork_in_child(self)

    def _init_runtime_state(self) -> None:
        self._lock = threading.Lock()
        self._entry: Optional[_Entry] = None
        self._flight: Optional[_Flight] = None
        self._backoff_until = 0.0
        self._backoff = 0.0

    def _load_from_store(self) -> None:
        if self._store is not None:
            stored = self._store.load(self.provider)
            if stored is not None:
                self._entry = self._entry_for(stored)

    # -- the provider protocol -------------------------------------------------

    def get_token(self) -> Token:
        """A valid token: from memory when fresh, else from the one refresh in flight."""
        entry = self._entry
        if entry is not None and self._monotonic() < entry.refresh_at:
            return entry.token
        return self._get_token_slow()

    def token(self) -> AccessToken:
        """The access token as a ``str`` with ``.exp`` and ``.scope`` (h2o-authn style)."""
        return self.get_token().as_access_token()

    def __call__(self) -> str:
        """The bare access token."""
        return self.get_token().access_token

    def invalidate(self, token: Optional[TokenLike] = None) -> None:
        """Forget the cached token: the next call asks the provider.

        With ``token`` (a Token or an access token), only when that is still the
        cached one: a refusal of a token already replaced costs no request.
        """
        value = token.access_token if isinstance(token, Token) else token
        with self._lock:
            entry = self._entry
            if value is not None and (entry is None or entry.token.access_token != value):
                return
            self._entry = None
            self._backoff_until = 0.0

    @property
    def cached(self) -> Optional[Token]:
        """The cached token, whatever its state, or None."""
        entry = self._entry
        return None if entry is None else entry.token

    def revoke(
        self, token: Optional[TokenLike] = None, token_type_hint: Optional[str] = None
    ) -> None:
        """Revoke ``token`` (default: the cached token) through the provider.

        When it is the cached access or refresh token, the cache drops that
        token, so the next call asks for a new one. With a store, a revoked
        refresh token removes the stored entry and a revoked access token marks
        it expired, so no process is handed the revoked token from there.
        """
        target = self.cached if token is None else token
        if target is None:
            raise ConfigError("no token is cached, so there is none to revoke")
        if not isinstance(self.provider, SupportsRevoke):
            raise ConfigError(f"{type(self.provider).__name__} does not support revoke()")
        self.provider.revoke(target, token_type_hint)
        value = target.access_token if isinstance(target, Token) else target
        with self._lock:
            entry = self._entry
            if entry is not None and value in (entry.token.access_token, entry.token.refresh_token):
                self._entry = None
        if self._store is not None:
            self._store.forget(value, self._clock())

    def introspect(
        self, token: Optional[TokenLike] = None, token_type_hint: Optional[str] = None
    ) -> dict[str, Any]:
        """Introspect ``token`` (default: the cached token) through the provider."""
        target = self.cached if token is None else token
        if target is None:
            raise ConfigError("no token is cached, so there is none to introspect")
        if not isinstance(self.provider, SupportsIntrospect):
            raise ConfigError(f"{type(self.provider).__name__} does not support introspect()")
        return self.provider.introspect(target, token_type_hint)

    # -- refreshing -------------------------------------------------------------

    def _get_token_slow(self) -> Token:
        while True:
            now = self._monotonic()
            entry = self._entry
            if entry is not None and now < entry.expires_at:
                if now < entry.refresh_at:
                    return entry.token  # replaced while this caller looked
                if now < entry.stale_at:
                    if now >= self._backoff_until:
                        self._start_background_refresh(entry)
                    return entry.token
                if now < self._backoff_until:
                    return entry.token  # grace: the provider failed a moment ago
            joined = self._join_flight(entry)
            if joined is not None:
                break
        flight, leader = joined
        if leader:
            self._run(flight)
        else:
            flight.done.wait()
        if flight.token is not None:
            return flight.token
        assert flight.error is not None
        entry = self._entry
        if entry is not None and self._monotonic() < entry.expires_at:
            return entry.token  # grace: still valid, and _run logged the failure
        raise flight.error

    def _join_flight(self, seen: Optional[_Entry]) -> Optional[tuple[_Flight, bool]]:
        """The flight in progress, or a new one led by the caller (True).

        None when the cached entry is no longer ``seen``: a flight finished
        between the caller's look and this lock, so its token is the answer,
        and starting another request would mean two where one was needed.
        """
        with self._lock:
            if self._flight is not None:
                return self._flight, False
            if self._entry is not seen:
                return None
            self._flight = _Flight()
            return self._flight, True

    def _start_background_refresh(self, seen: _Entry) -> None:
        if self._flight is not None:  # cheap check first: the common case in the window
            return
        joined = self._join_flight(seen)
        if joined is not None and joined[1]:
            flight = joined[0]
            thread = threading.Thread(
                target=self._run, args=(flight,), name="h2oauth-lite-refresh", daemon=True
            )
            thread.start()

    def _run(self, flight: _Flight) -> None:
        """Fetch a token for ``flight`` and publish the outcome; never raises."""
        try:
            token = self._fetch()
        except BaseException as exc:
            self._record_failure(exc)
            flight.error = exc
            if not isinstance(exc, Exception):
                raise
        else:
            with self._lock:
                self._entry = self._entry_for(token)
                self._backoff = 0.0
                self._backoff_until = 0.0
            flight.token = token
        finally:
            with self._lock:
                self._flight = None
            flight.done.set()

    def _fetch(self) -> Token:
        """Where a new token comes from; one call per flight."""
        if self._store is not None:
            return self._store.fetch(
                self.provider, lambda token: self._monotonic() < self._entry_for(token).refresh_at
            )
        return self.provider.get_token()

    def _record_failure(self, exc: BaseException) -> None:
        with self._lock:
            entry = self._entry
            if entry is None or self._monotonic() >= entry.expires_at:
                return  # callers get the error itself; nothing to protect
            first = self._backoff == 0.0
            self._backoff = min(_MAX_BACKOFF, self._backoff * 2 or _FIRST_BACKOFF)
            self._backoff_until = self._monotonic() + self._backoff
        log = logger.warning if first else logger.debug
        log(
            "token refresh failed (%s); serving the cached token, still valid, retrying in %.0f s",
            _describe(exc),
            self._backoff,
        )

    def _entry_for(self, token: Token) -> _Entry:
        now = self._monotonic()
        never = float("inf")
        if token.expires_at is None and self._max_token_age is None:
            return _Entry(token, never, never, never)
        lifetime = never if token.expires_at is None else max(0.0, token.expires_at - self._clock())
        expires_at = now + lifetime
        # max_token_age moves the refresh schedule, not the expiry: a token past its
        # age is still served (grace) while its replacement fails to arrive.
        due = lifetime if self._max_token_age is None else min(lifetime, self._max_token_age)
        margin = min(self._threshold, due / 2)
        if self._refresh_ahead is None:
            # The cap bounds the share, never the threshold: a window shorter than
            # the margin would serve a token after it had gone stale.
            window = max(min(due * _AUTO_WINDOW_SHARE, _MAX_AUTO_WINDOW), margin)
        else:
            window = max(min(self._refresh_ahead, due), margin)
        return _Entry(token, now + due - window, now + due - margin, expires_at)

    # -- pickling and forking ---------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("_lock", "_entry", "_flight", "_backoff_until", "_backoff")
        }
        # Monotonic deadlines mean nothing in another process; the token's epoch expiry does.
        state["_cached_token"] = self.cached
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        token = state.pop("_cached_token", None)
        self.__dict__.update(state)
        self._init_runtime_state()
        if token is not None:
            self._entry = self._entry_for(token)
        after_fork_in_child(self)

    def _after_fork(self) -> None:
        # A flight in progress at fork time belongs to a thread the child does not
        # have: waiting for it would never end. The cached token stays (the
        # monotonic clock is shared across fork); locks and backoff start over.
        entry = self._entry
        self._init_runtime_state()
        self._entry = entry

    @property
    def dpop(self) -> Optional[DPoPSigner]:
        """The provider's DPoP prover, so consumers sign proofs for the cached tokens."""
        return self.provider.dpop if isinstance(self.provider, SupportsDPoP) else None

    def __repr__(self) -> str:
        return f"AuthCache({self.provider!r})"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
