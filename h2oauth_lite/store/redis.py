"""RedisTokenStore: one token per expiry for a whole fleet, through Redis.

Needs the optional extra ``pip install 'h2oauth-lite[redis]'`` (redis-py),
imported when a RedisTokenStore is made and never before.

The lock is ``SET <prefix>lock:<key> <owner> NX PX <lease>`` with a random
owner, released by a compare-and-delete script so that only its owner can
release it. The lease covers one token refresh with the provider's retries
(default 90 s: four 10 s attempts within a 30 s retry budget, with room to
spare); a holder that dies releases it by expiry, so the fleet recovers
within one lease. A waiter polls for at most ``lock_timeout``.

Entries live ``entry_ttl`` (default 30 days, renewed by every write): as
long as a refresh token may stay useful, never just as long as the access
token. What counts as a fault: before the first successful contact, a wrong
password, an ACL denial or a server that is not Redis is a TokenStoreError
naming the URL without its password; a connection failure at any time, and
any failure after the first contact, is a TokenStoreUnavailableError, which
an AuthCache answers by refreshing on its own until Redis answers again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import warnings
from collections.abc import Iterator
from typing import Any, Callable, Optional, Union

from .._log import logger
from ..durations import Duration, to_seconds
from ..errors import ConfigError, TokenStoreError, TokenStoreUnavailableError
from .base import StoredEntry
from .file import TokenStoreWarning
from .redis_scripts import ASIDE, READ, RELEASE, WRITE, decode_entry, encode_entry
from .redis_url import check_redis_url, safe_redis_url, split_store_options

__all__ = [
    "DEFAULT_ENTRY_TTL",
    "DEFAULT_LOCK_LEASE",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_PREFIX",
    "RedisTokenStore",
]

DEFAULT_PREFIX = "h2oauth-lite:"
DEFAULT_LOCK_LEASE = 90.0
DEFAULT_LOCK_TIMEOUT = 120.0
DEFAULT_ENTRY_TTL = 30 * 24 * 3600.0
# A Redis that does not answer within these is "down" for this refresh; the
# fleet keeps serving on its own meanwhile, so waiting longer buys nothing.
DEFAULT_SOCKET_TIMEOUT = 2.0
DEFAULT_CONNECT_TIMEOUT = 1.0
_ASIDE_TTL_MS = 7 * 24 * 3600 * 1000
_POLL = 0.005
_MAX_POLL = 0.05
_EXTRA = "pip install 'h2oauth-lite[redis]'"


def _redis() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigError(f"RedisTokenStore needs redis-py: {_EXTRA}") from None
    return redis


class RedisTokenStore:
    """Tokens in Redis, shared by every process on every host that uses the same Redis.

    ``target`` is a URL (``redis://[user:password@]host[:port][/db]``,
    ``rediss://`` for TLS, ``unix:///path/to/socket``) or an existing
    ``redis.Redis`` client (Sentinel, managed Redis: bring your own). For
    ``rediss://``, ``ssl_ca_certs``/``ssl_certfile``/``ssl_keyfile`` name the
    CA bundle and the client certificate. Keys start with ``prefix``.
    ``lock_lease`` must outlast one refresh with the provider's retries;
    ``lock_timeout`` bounds a wait for the lock and must exceed the lease.
    These four may also come in the URL's query (``?prefix=etl:&lock_lease=60``);
    an argument wins over the URL.
    """

    def __init__(
        self,
        target: Union[str, Any],
        *,
        prefix: Optional[str] = None,
        lock_lease: Optional[Duration] = None,
        lock_timeout: Optional[Duration] = None,
        entry_ttl: Optional[Duration] = None,
        socket_timeout: Duration = DEFAULT_SOCKET_TIMEOUT,
        connect_timeout: Duration = DEFAULT_CONNECT_TIMEOUT,
        ssl_ca_certs: Optional[str] = None,
        ssl_certfile: Optional[str] = None,
        ssl_keyfile: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        in_url: dict[str, str] = {}
        if isinstance(target, str):
            url, in_url = split_store_options(check_redis_url(target))
        self.lock_lease = _seconds(lock_lease, in_url, "lock_lease", DEFAULT_LOCK_LEASE)
        self.lock_timeout = _seconds(lock_timeout, in_url, "lock_timeout", DEFAULT_LOCK_TIMEOUT)
        if self.lock_timeout <= self.lock_lease:
            raise ConfigError(
                "lock_timeout must exceed lock_lease, so a waiter outlives a dead holder's lease"
            )
        self.entry_ttl = _seconds(entry_ttl, in_url, "entry_ttl", DEFAULT_ENTRY_TTL)
        self.prefix = prefix if prefix is not None else in_url.get("prefix", DEFAULT_PREFIX)
        self._clock = clock
        self._contacted = False
        # Locks this store may hold without knowing it: a SET NX that timed out may still
        # have been applied. Released (by owner) at the next lock, not left for the lease.
        self._orphans: list[tuple[str, str]] = []
        if isinstance(target, str):
            self.url = safe_redis_url(url)
            self._password = _password_of(url)
            redis = _redis()
            options: dict[str, Any] = {
                "socket_timeout": to_seconds(socket_timeout, "socket_timeout", positive=True),
                "socket_connect_timeout": to_seconds(
                    connect_timeout, "connect_timeout", positive=True
                ),
                # One retry on a fresh connection survives a Redis restart; more would
                # only delay the fall back to this process's own cache.
                "retry": redis.retry.Retry(redis.backoff.NoBackoff(), 1),
            }
            if url.lower().startswith("rediss://"):
                for name, value in (
                    ("ssl_ca_certs", ssl_ca_certs),
                    ("ssl_certfile", ssl_certfile),
                    ("ssl_keyfile", ssl_keyfile),
                ):
                    if value is not None:
                        options[name] = value
            elif ssl_ca_certs or ssl_certfile or ssl_keyfile:
                raise ConfigError("ssl_* options need a rediss:// URL")
            try:
                self._client = redis.Redis.from_url(url, **options)
            except ValueError:
                raise ConfigError(f"redis-py cannot use the Redis URL {self.url}") from None
        else:
            redis = _redis()
            if not isinstance(target, redis.Redis):
                raise TypeError("RedisTokenStore needs a URL or a redis.Redis client")
            self._client = target  # its timeouts and retries are the caller's to choose
            self.url = _describe_client(target)
            self._password = None
        self._owns_client = isinstance(target, str)
        self._errors = redis.exceptions
        self._read = self._client.register_script(READ)
        self._write = self._client.register_script(WRITE)
        self._release = self._client.register_script(RELEASE)
        self._aside = self._client.register_script(ASIDE)

    # -- the store contract (TokenStoreBackend) -----------------------------------------

    def read_entry(self, key: str) -> Optional[StoredEntry]:
        """The entry of ``key``, its expiry on this host's clock; None when absent or foreign."""
        name = self._entry_key(key)
        kind, value, seconds, micros = self._call(lambda: self._read(keys=[name]))
        kind, value = _text(kind), _text(value)
        if kind == "none":
            return None
        server_ms = int(seconds) * 1000 + int(micros) / 1000.0
        entry = decode_entry(value, server_ms, self._clock()) if kind == "string" else None
        if entry is None:
            self._set_aside(name, value, f"not a token entry (a {kind})")
        return entry

    def write_entry(self, key: str, entry: StoredEntry) -> None:
        """Replace the entry of ``key``, unless Redis holds a newer generation."""
        name = self._entry_key(key)
        now = self._clock()
        ttl = self.entry_ttl
        if entry.token.expires_at is not None:
            ttl = max(ttl, entry.token.expires_at - now + 60.0)
        body = encode_entry(entry, now)
        args = [str(entry.generation), body, str(int(ttl * 1000))]
        if not self._call(lambda: self._write(keys=[name], args=args)):
            logger.info("the store holds a newer generation for %s; not replaced", key)

    def remove(self, key: str) -> bool:
        """Forget ``key``; True when there was something to forget."""
        return bool(self._call(lambda: self._client.delete(self._entry_key(key))))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the fleet-wide lock of ``key`` for one refresh (a lease, see the class notes)."""
        name = f"{self.prefix}lock:{key}"
        owner = f"{os.getpid()}-{secrets.token_hex(16)}"
        lease_ms = max(1, int(self.lock_lease * 1000))
        deadline = time.monotonic() + self.lock_timeout
        delay = _POLL
        self._release_orphans()
        while not self._try_lock(name, owner, lease_ms):
            if time.monotonic() >= deadline:
                raise TokenStoreError(
                    f"timed out after {self.lock_timeout:g} s waiting for the token store lock "
                    f"of {key} in {self.url}: another process held it all that time (a slow "
                    "token refresh?); RedisTokenStore(lock_timeout=...) sets how long to wait"
                )
            time.sleep(delay)
            delay = min(delay * 2, _MAX_POLL)
        try:
            yield
        finally:
            try:
                self._release(keys=[name], args=[owner])
            except self._errors.RedisError as exc:
                # Failing here would make a caller refresh twice; released at the next lock.
                logger.debug("lock of %s not released (%s); released later", key, _kind(exc))
                self._orphans.append((name, owner))

    def _try_lock(self, name: str, owner: str, lease_ms: int) -> bool:
        try:
            return bool(self._call(lambda: self._client.set(name, owner, nx=True, px=lease_ms)))
        except TokenStoreUnavailableError:
            self._orphans.append((name, owner))
            raise

    def _release_orphans(self) -> None:
        orphans, self._orphans = self._orphans, []
        for name, owner in orphans:
            try:
                self._release(keys=[name], args=[owner])
            except self._errors.RedisError:
                self._orphans.append((name, owner))

    def describe(self) -> str:
        """The Redis URL without user, password or query."""
        return self.url

    def ping(self) -> None:
        """Contact Redis now: TokenStoreError for a misconfiguration, else nothing."""
        self._call(self._client.ping)

    def close(self) -> None:
        """Close the connections (only those of a client this store made)."""
        if self._owns_client:
            self._client.close()

    def __repr__(self) -> str:
        return f"RedisTokenStore({self.url!r})"

    # -- Redis ----------------------------------------------------------------------------

    def _entry_key(self, key: str) -> str:
        return f"{self.prefix}token:{key}"

    def _set_aside(self, name: str, value: str, reason: str) -> None:
        target = f"{name}.corrupt-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(self._clock()))}"
        moved = self._call(lambda: self._aside(keys=[name, target], args=[value, _ASIDE_TTL_MS]))
        if moved:
            warnings.warn(
                f"the token store entry {name} in {self.url} was {reason}; moved it to "
                f"{target} and started empty",
                TokenStoreWarning,
                stacklevel=4,
            )

    def _call(self, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except self._errors.RedisError as exc:
            raise self._fault(exc) from None
        self._contacted = True
        return result

    def _fault(self, exc: Exception) -> TokenStoreError:
        errors = self._errors
        # Older redis-py raises a plain ResponseError for WRONGPASS and NOAUTH.
        if isinstance(exc, errors.AuthenticationError) or str(exc).startswith(
            ("WRONGPASS", "NOAUTH")
        ):
            reason = "authentication failed (wrong user or password?)"
        elif isinstance(exc, errors.NoPermissionError) or "NOPERM" in str(exc):
            reason = "permission denied by an ACL"
        elif _unreachable(exc, errors):
            # Down, not misconfigured: the fleet serves on its own until it answers.
            return TokenStoreUnavailableError(
                f"the token store {self.url} does not answer ({self._reason(exc)})"
            )
        elif isinstance(exc, errors.ConnectionError) and not self._contacted:
            reason = f"it does not answer as Redis does ({self._reason(exc)})"
        else:
            reason = self._reason(exc)
        if self._contacted:
            return TokenStoreUnavailableError(f"the token store {self.url} failed ({reason})")
        return TokenStoreError(f"the token store {self.url} cannot be used: {reason}")

    def _reason(self, exc: Exception) -> str:
        text = str(exc)
        if self._password:
            text = text.replace(self._password, "***")
        return f"{_kind(exc)}: {text[:200]}"


def _unreachable(exc: Exception, errors: Any) -> bool:
    """Refused, timed out, no route: nothing at the address answered at all."""
    if isinstance(exc, errors.TimeoutError):
        return True
    return isinstance(exc, errors.ConnectionError) and "connecting to" in str(exc)


def _seconds(given: Optional[Duration], in_url: dict[str, str], name: str, default: float) -> float:
    if given is not None:
        return to_seconds(given, name, positive=True)
    if name not in in_url:
        return default
    try:
        return to_seconds(float(in_url[name]), name, positive=True)
    except ValueError:
        message = f"the Redis URL option {name} must be a positive number of seconds"
        raise ConfigError(message) from None


def _kind(exc: BaseException) -> str:
    return type(exc).__name__


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _password_of(url: str) -> Optional[str]:
    from urllib.parse import unquote, urlsplit

    password = urlsplit(url).password
    return unquote(password) if password else None


def _describe_client(client: Any) -> str:
    """A client's host, port and db, from its connection pool; never its password."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    host = kwargs.get("host", "?")
    return f"redis://{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
