"""TokenStore: tokens of many hosts in one JSON file, safe across processes.

Layout (the one py-oidc-auth-client writes to ``token-store.json``, so each
library reads the other's file)::

    {"https://auth.example.com": {"token": {"access_token": "...", ...},
                                  "stored_at": 1717027200.0}}

Every write is a read-modify-write under an exclusive cross-process lock and
lands atomically (a unique temporary file in the same directory, fsync,
``os.replace``), so readers never need the lock and never see half a file,
and two processes writing different hosts lose nothing. A file that cannot
be parsed is moved aside, never overwritten.

An entry written by an :class:`~h2oauth_lite.AuthCache` also names the
``client_id`` of the client it belongs to (a refresh token works only for
the client it was issued to), so a cache of another client refuses it
instead of reading it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any, Callable, Optional, Union

from ..durations import Duration, to_seconds
from ..errors import TokenStoreError
from ..settings import user_cache_dir
from ..token import Token
from .base import StoredEntry
from .keys import normalise_key
from .lock import FileLock

__all__ = ["DEFAULT_FILE_NAME", "DEFAULT_LOCK_TIMEOUT", "TokenStore", "TokenStoreWarning"]

DEFAULT_FILE_NAME = "token-store.json"
# An AuthCache holds the lock across one token refresh, so a waiter must outlast
# one: with the provider defaults (4 attempts of 10 s, 30 s retry budget) that is
# 70 s, and a first refresh also reads the discovery document.
DEFAULT_LOCK_TIMEOUT = 120.0


class TokenStoreWarning(UserWarning):
    """A token store file was unreadable (moved aside) or readable by others."""


_PathLike = Union[str, "os.PathLike[str]"]


class TokenStore:
    """Host-aware persistent tokens in one JSON file (default: the user cache directory).

    ``path`` defaults to ``<user cache dir>/<app_name>/token-store.json``
    (``$XDG_CACHE_HOME`` or ``~/.cache`` on POSIX, ``%LOCALAPPDATA%`` on
    Windows). The directory is created 0700 and the file written 0600.
    ``lock_timeout`` (default 120 s, longer than one token refresh with the
    provider defaults) bounds every wait for the cross-process lock.
    """

    def __init__(
        self,
        path: Optional[_PathLike] = None,
        *,
        app_name: str = "h2oauth-lite",
        lock_timeout: Duration = DEFAULT_LOCK_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if path is None:
            path = os.path.join(user_cache_dir(app_name), DEFAULT_FILE_NAME)
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        wait = to_seconds(lock_timeout, "lock_timeout", positive=True)
        self._lock = FileLock(self.path + ".lock", timeout=wait)
        self._clock = clock

    @property
    def lock_timeout(self) -> float:
        """Seconds a wait for the cross-process lock lasts before TokenStoreError."""
        return self._lock.timeout

    # -- public API -------------------------------------------------------------

    def get(self, host: str) -> Optional[Token]:
        """The token stored for ``host``, or None (expired tokens too: they may refresh)."""
        entry = self._read().get(normalise_key(host))
        return _token_of(entry)

    def entry(self, host: str) -> tuple[Optional[Token], Optional[str]]:
        """The token of ``host`` and the ``client_id`` it was stored for (None: not named)."""
        entry = self._read().get(normalise_key(host))
        client_id = entry.get("client_id") if isinstance(entry, dict) else None
        return _token_of(entry), client_id if isinstance(client_id, str) else None

    def stored_at(self, host: str) -> Optional[float]:
        """When the token of ``host`` was written (epoch seconds), or None."""
        entry = self._read().get(normalise_key(host))
        value = entry.get("stored_at") if isinstance(entry, dict) else None
        return float(value) if isinstance(value, (int, float)) else None

    def put(
        self,
        host: str,
        token: Token,
        *,
        client_id: Optional[str] = None,
        generation: int = 0,
        seed: Optional[str] = None,
    ) -> None:
        """Store ``token`` for ``host``, replacing the previous one, keeping every other host.

        ``client_id`` names the client the token belongs to (see :meth:`entry`);
        ``generation`` and ``seed`` are kept for :meth:`read_entry`.
        ``host`` may also be a client key (:class:`~h2oauth_lite.store.keys.StoreKey`).
        """
        key = normalise_key(host)
        entry: dict[str, Any] = {"token": _stored_form(token), "stored_at": self._clock()}
        if client_id:
            entry["client_id"] = client_id
        if generation:
            entry["generation"] = generation
        if seed:
            entry["seed"] = seed
        with self.lock():
            data = self._read(locked=True)
            data[key] = entry
            self._write(data)

    def remove(self, host: str) -> bool:
        """Forget ``host``; True when there was something to forget."""
        key = normalise_key(host)
        with self.lock():
            data = self._read(locked=True)
            if key not in data:
                return False
            del data[key]
            self._write(data)
            return True

    def hosts(self) -> list[str]:
        """The normalised hosts that have an entry."""
        return sorted(self._read())

    def clear(self) -> None:
        """Forget every host."""
        with self.lock():
            self._write({})

    # -- the store contract (TokenStoreBackend) --------------------------------------

    def read_entry(self, key: str) -> Optional[StoredEntry]:
        """The entry of ``key`` with its client, generation and seed; None when absent."""
        return _entry_of(self._read().get(normalise_key(key)))

    def write_entry(self, key: str, entry: StoredEntry) -> None:
        """Replace the entry of ``key`` (through :meth:`put`, so subclasses see every write)."""
        self.put(
            key,
            entry.token,
            client_id=entry.client_id,
            generation=entry.generation,
            seed=entry.seed,
        )

    def describe(self) -> str:
        """The file, for messages."""
        return self.path

    @contextlib.contextmanager
    def lock(self, key: Optional[str] = None) -> Iterator[None]:
        """Hold the store's cross-process lock (re-entrant within a thread).

        One lock covers the whole file (``key`` is accepted for the store contract).
        """
        self._ensure_directory()
        with self._lock.hold():
            yield

    def __repr__(self) -> str:
        return f"TokenStore({self.path!r})"

    # -- the file -----------------------------------------------------------------

    def _ensure_directory(self) -> None:
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot create the token store directory {directory}: {exc.strerror or exc}"
            ) from None

    def _read(self, *, locked: bool = False) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                self._check_mode(handle.fileno())
                text = handle.read()
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            return self._set_aside(f"unreadable ({type(exc).__name__})", locked)
        try:
            data = json.loads(text) if text.strip() else {}
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            return self._set_aside("not valid JSON", locked)
        if not isinstance(data, dict):
            return self._set_aside("not a JSON object", locked)
        return data

    def _set_aside(self, reason: str, locked: bool) -> dict[str, Any]:
        """Move a broken file out of the way (under the lock) and start empty."""
        if not locked:
            with self.lock():
                return self._read(locked=True)  # another process may have fixed it meanwhile
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._clock()))
        target = f"{self.path}.corrupt-{stamp}"
        try:
            os.replace(self.path, target)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(
                f"the token store {self.path} is {reason} and cannot be moved aside: "
                f"{exc.strerror or exc}"
            ) from None
        warnings.warn(
            f"the token store {self.path} was {reason}; moved it to {target} and started empty",
            TokenStoreWarning,
            stacklevel=4,
        )
        return {}

    def _check_mode(self, fd: int) -> None:
        if sys.platform == "win32":
            return
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            warnings.warn(
                f"the token store {self.path} is accessible by other users (mode {mode:04o}); "
                f"run: chmod 600 {self.path}",
                TokenStoreWarning,
                stacklevel=5,
            )

    def _write(self, data: dict[str, Any]) -> None:
        directory = os.path.dirname(self.path)
        try:
            fd, temporary = tempfile.mkstemp(
                prefix=os.path.basename(self.path) + ".", suffix=".tmp", dir=directory
            )
        except OSError as exc:
            raise TokenStoreError(
                f"cannot write the token store in {directory}: {exc.strerror or exc}"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            if sys.platform != "win32":
                os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise TokenStoreError(
                f"cannot write the token store {self.path}: {exc.strerror or exc}"
            ) from None
        self._remove_leftovers(directory)

    def _remove_leftovers(self, directory: str) -> None:
        """Delete temporary files of writers killed mid-write.

        Writes happen only under the lock we hold, so any temporary file still
        there belongs to a dead writer; each holds a full copy of the tokens.
        """
        prefix = os.path.basename(self.path) + "."
        with contextlib.suppress(OSError):
            for name in os.listdir(directory):
                if name.startswith(prefix) and name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(directory, name))


def _stored_form(token: Token) -> dict[str, Any]:
    data = token.to_dict()
    # What py-oidc-auth-client expects to find: its expiry field and ready headers.
    if token.expires_at is not None:
        data["expires"] = int(token.expires_at)
    data["headers"] = token.headers
    return data


def _entry_of(entry: Any) -> Optional[StoredEntry]:
    token = _token_of(entry)
    if token is None:
        return None
    client_id = entry.get("client_id")
    generation = entry.get("generation")
    seed = entry.get("seed")
    return StoredEntry(
        token,
        client_id=client_id if isinstance(client_id, str) and client_id else None,
        # bool is an int: a foreign true/false is no generation.
        generation=generation
        if isinstance(generation, int) and not isinstance(generation, bool) and generation > 0
        else 0,
        seed=seed if isinstance(seed, str) and seed else None,
    )


def _token_of(entry: Any) -> Optional[Token]:
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), dict):
        return None
    try:
        return Token.from_dict(entry["token"])
    except ValueError:
        return None
