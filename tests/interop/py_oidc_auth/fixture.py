"""Start a real py-oidc-auth server (FastAPI + uvicorn) in front of the test OpenID provider.

The server runs from its own virtualenv, next to the test virtualenv
(``<venv>-oidc-auth``, built by ``make oidc-auth``), as a child process on a
free loopback port; its stdin is a pipe held here, so it exits with pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.idp import OIDCServer, _free_port
from tests.support.processes import read_log, stop_child

APP = Path(__file__).resolve().parent / "app.py"
READY_TIMEOUT = 60.0


def server_python() -> Path:
    """The interpreter of the py-oidc-auth virtualenv that belongs to this test venv."""
    named = os.environ.get("OIDC_AUTH_PYTHON")  # set by `make test-min`, whose venv differs
    return Path(named) if named else Path(sys.prefix + "-oidc-auth") / "bin" / "python"


class PyOIDCAuthServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return read_log(self.log_path)

    def stop(self) -> None:
        stop_child(self.process, self.log_path, timeout=10)


def require_server_python() -> Path:
    """The interpreter, or skip (fail under CI: a silent skip there would hide a broken install)."""
    python = server_python()
    if not python.exists():
        reason = f"{python} is missing (run `make oidc-auth`)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"py-oidc-auth is required under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return python


def start_py_oidc_auth(oidc: OIDCServer, client_id: str = "app-public") -> PyOIDCAuthServer:
    python = require_server_python()
    port = _free_port()
    env = dict(
        os.environ,
        OIDC_AUTH_PORT=str(port),
        OIDC_AUTH_CLIENT_ID=client_id,
        OIDC_AUTH_DISCOVERY_URL=f"{oidc.issuer}/.well-known/openid-configuration",
    )
    fd, log_name = tempfile.mkstemp(prefix="py-oidc-auth-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            [str(python), str(APP)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
        )
    server = PyOIDCAuthServer(process, port, Path(log_name))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{server.url}/openapi.json", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    log = server.log()
    server.stop()
    raise RuntimeError(f"py-oidc-auth did not start:\n{log}")


@pytest.fixture(scope="module")
def py_oidc_auth(oidc: OIDCServer) -> Iterator[PyOIDCAuthServer]:
    server = start_py_oidc_auth(oidc)
    try:
        yield server
    finally:
        server.stop()
