"""An exclusive lock on a file, shared by threads and processes.

Processes exclude each other with ``fcntl.flock`` (POSIX) or
``msvcrt.locking`` (Windows) on a separate ``.lock`` file, so the data file
itself can be replaced atomically while the lock is held. Threads of one
process share one lock per path and one descriptor: the OS lock belongs to
the open file, so a second descriptor in the same process would wait for
the first. The lock is re-entrant within a thread, which lets a caller hold
it across a read-modify-write that itself locks. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Optional

from ..errors import TokenStoreError

__all__ = ["FileLock"]

_POLL = 0.01
_MAX_POLL = 0.1


class _PathLock:
    """The process-wide state of one lock file."""

    def __init__(self) -> None:
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd: Optional[int] = None


_registry: dict[str, _PathLock] = {}
_registry_guard = threading.Lock()


def _reset_after_fork() -> None:
    # A forked child inherits neither the parent's threads nor its OS lock.
    global _registry, _registry_guard
    _registry = {}
    _registry_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _path_lock(path: str) -> _PathLock:
    with _registry_guard:
        state = _registry.get(path)
        if state is None:
            state = _registry[path] = _PathLock()
        return state


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """``with FileLock(path).hold():`` holds ``path`` exclusively, else TokenStoreError."""

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self.path = os.path.abspath(path)
        self.timeout = timeout

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        state = _path_lock(self.path)
        deadline = time.monotonic() + self.timeout
        if not state.rlock.acquire(timeout=self.timeout):
            raise self._timed_out()
        try:
            if state.depth == 0:
                state.fd = self._acquire_os_lock(deadline)
            state.depth += 1
            try:
                yield
            finally:
                state.depth -= 1
                if state.depth == 0 and state.fd is not None:
                    fd, state.fd = state.fd, None
                    try:
                        _unlock(fd)
                    finally:
                        os.close(fd)
        finally:
            state.rlock.release()

    def _acquire_os_lock(self, deadline: float) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}"
            ) from None
        delay = _POLL
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise self._timed_out()
                time.sleep(delay)
                delay = min(delay * 2, _MAX_POLL)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _timed_out(self) -> TokenStoreError:
        # The holder is usually in a token refresh; say what was waited for and what to change.
        return TokenStoreError(
            f"timed out after {self.timeout:g} s waiting for the token store lock {self.path}: "
            "another process or thread held the lock all that time (a slow or stuck token "
            "refresh?); TokenStore(lock_timeout=...) sets how long to wait"
        )
