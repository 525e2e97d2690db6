"""A real redis-server (7.x) on a free loopback port, with a password.

``make test`` installs ``redis-server`` (see the Makefile's ``redis`` target).
Outside CI a missing binary skips the tests that need it; under ``CI=true``
it fails them, so a broken install never passes silently. The server keeps
nothing on disk, so a restart (``kill`` then ``start``) begins empty, as a
Redis without persistence does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Optional

import pytest

PASSWORD = "redis-pw-Tq7Wc2Lk9Z"
START_TIMEOUT = 10.0


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def redis_binary() -> Optional[str]:
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; ``kill()`` and ``start()`` again on the same port."""

    def __init__(self, binary: str, port: Optional[int] = None, password: str = PASSWORD) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.password = password
        self.directory = tempfile.mkdtemp(prefix="h2oauth-redis-")
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        """With the password: for the code under test, never for a message."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--requirepass", self.password, "--save", "", "--appendonly", "no"]
        command += ["--dir", self.directory, "--protected-mode", "yes"]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                    if b"PONG" in sock.recv(100):
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)

    def version(self) -> str:
        """The server's version, e.g. ``7.0.15``."""
        info = self.client().info("server")
        return str(info["redis_version"])

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def require_redis() -> str:
    binary = redis_binary()
    if binary is None:
        reason = "redis-server is not installed (run `make redis` or `make test`)"
        if _truthy(os.environ.get("CI")):
            pytest.fail(f"redis-server is required under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip("redis-py is not installed (pip install 'h2oauth-lite[redis]')")
    return binary


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test (tests kill and restart it)."""
    server = RedisServer(require_redis()).start()
    try:
        yield server
    finally:
        server.stop()
