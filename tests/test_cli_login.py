"""login, token --issuer/--host, status and logout, run as real subprocesses."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import pytest
import requests

from h2oauth_lite import Token, TokenStore
from tests.support.idp import OIDCServer

SCOPE = "openid offline_access api:read"


def _env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("H2O_", "H2OCONFIG"))}
    clean["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    clean.pop("CI", None)  # the login command is interactive by its nature; CI must not matter
    return clean


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "h2oauth_lite", *args],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _login(
    tmp_path: Path, oidc: OIDCServer, *args: str, act: Any
) -> subprocess.CompletedProcess[str]:
    """Start ``login``, hand each stderr line to ``act`` until it returns True, wait for the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "h2oauth_lite", "login", *args],
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[Optional[str]] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 60
    acted = False
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if not acted:
                acted = bool(act(line))
        stdout, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, "".join(seen))


@pytest.mark.interop
def test_browser_login_token_status_logout(oidc: OIDCServer, tmp_path: Path) -> None:
    store = str(tmp_path / "store.json")
    server = ["--issuer", oidc.issuer, "--client-id", "app-public", "--store", store]

    def browse(line: str) -> bool:
        match = re.search(r"(http://\S+/auth\?\S+)", line)
        if match:
            requests.get(oidc.complete_authorization(match.group(1)), timeout=10)
        return bool(match)

    login = _login(tmp_path, oidc, "--browser", "--no-open", *server, act=browse)
    assert login.returncode == 0, login.stderr
    assert "logged in to http://127.0.0.1:" in login.stderr
    stored = TokenStore(store).get(oidc.issuer)
    assert stored is not None and stored.refresh_token

    token = run(tmp_path, "token", *server)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip() == stored.access_token

    status = run(tmp_path, "status", "--json", "--store", store)
    assert status.returncode == 0
    report = json.loads(status.stdout)
    assert report["logins"][0]["host"] == oidc.issuer
    assert report["logins"][0]["refresh_token"] is True
    assert stored.access_token not in status.stdout and stored.refresh_token not in status.stdout
    text = run(tmp_path, "status", "--store", store)
    assert oidc.issuer in text.stdout and stored.access_token not in text.stdout

    logout = run(tmp_path, "logout", "--issuer", oidc.issuer, "--client-id", "x", "--store", store)
    assert logout.returncode == 0 and "logged out of" in logout.stderr
    after = run(tmp_path, "token", *server)
    assert after.returncode == 3
    assert after.stderr.count("\n") == 1 and "h2oauth-lite login" in after.stderr


@pytest.mark.interop
@pytest.mark.slow
def test_device_login(oidc: OIDCServer, tmp_path: Path) -> None:
    store = str(tmp_path / "store.json")

    def approve(line: str) -> bool:
        match = re.search(r"(http://\S+user_code=\S+)", line)
        if match:
            oidc.complete_device(match.group(1))
        return bool(match)

    login = _login(
        tmp_path,
        oidc,
        "--device",
        "--issuer",
        oidc.issuer,
        "--client-id",
        "app-public",
        "--store",
        store,
        "--timeout",
        "30",
        act=approve,
    )
    assert login.returncode == 0, login.stderr
    assert TokenStore(store).get(oidc.issuer) is not None


def test_token_from_store_uses_the_default_store(tmp_path: Path) -> None:
    # No network: a valid token stored under the default path is printed as it is.
    default = tmp_path / "cache" / "h2oauth-lite" / "token-store.json"
    TokenStore(default).put("https://h.example", Token("at-stored", expires_at=time.time() + 600))
    result = run(tmp_path, "token", "--host", "https://H.example/some/path")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "at-stored\n"


def test_status_of_an_empty_store_and_logout_all(tmp_path: Path) -> None:
    store = str(tmp_path / "s.json")
    TokenStore(store).put("https://a.example", Token("secret-a", expires_at=1.0))
    assert "expired" in run(tmp_path, "status", "--store", store).stdout
    assert run(tmp_path, "logout", "--store", store).returncode == 0
    assert "no stored logins" in run(tmp_path, "status", "--store", store).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["login", "--host", "https://h.example", "--issuer", "https://i.example"], 2, "not both"),
        (["login", "--issuer", "https://i.example"], 2, "--issuer needs --client-id"),
        (["token", "--issuer", "https://i.example"], 2, "--issuer needs --client-id"),
        (["login"], 2, "needs --host"),
        (["login", "--host", "https://h.example", "--client-id", "x"], 2, "takes no --client-id"),
        (["logout", "--host", "https://h.example", "--issuer", "https://i"], 2, "not both"),
        (["login", "--device", "--browser", "--host", "https://h.example"], 2, "not allowed"),
        (["token", "--host", "ftp://h.example"], 1, "http"),
    ],
)
def test_usage_errors_are_one_line(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run(tmp_path, *args, "--store", str(tmp_path / "s.json"))
    assert result.returncode == code
    assert message in result.stderr
    if code == 1:
        assert result.stderr.count("\n") == 1
    else:  # a usage error: the usage of the subcommand typed, then the message
        assert result.stderr.startswith(f"usage: h2oauth-lite {args[0]} ")
        assert f"h2oauth-lite {args[0]}: error: " in result.stderr


def test_logout_of_one_client_keeps_the_others(tmp_path: Path) -> None:
    store = str(tmp_path / "s.json")
    TokenStore(store).put("https://a.example", Token("at-a", expires_at=1.0), client_id="app")
    TokenStore(store).put("https://b.example", Token("at-b", expires_at=1.0), client_id="other")
    TokenStore(store).put("https://c.example", Token("at-c", expires_at=1.0), client_id="app")
    result = run(tmp_path, "logout", "--client-id", "app", "--store", store)
    assert result.returncode == 0, result.stderr
    assert "https://a.example, https://c.example (client app)" in result.stderr
    assert TokenStore(store).hosts() == ["https://b.example"]
    result = run(tmp_path, "logout", "--client-id", "nobody", "--store", store)
    assert result.returncode == 0 and "no stored login of client nobody" in result.stderr
    assert TokenStore(store).hosts() == ["https://b.example"]


def test_token_help_lists_the_environment_variables(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "--help")
    assert result.returncode == 0
    for name in ("H2O_AUTHN_URI", "H2O_AUTHN_ISSUER", "H2O_AUTHN_CLIENT_SECRET",
                 "H2O_AUTHN_REFRESH_TOKEN", "H2O_AUTHN_ALLOW_INSECURE_HTTP"):
        assert name in result.stdout


@pytest.mark.parametrize("host", ["https://[::1/token", "[::1", "https://[fe80::1%zz"])
def test_an_unparsable_host_is_a_config_error(host: str) -> None:
    from h2oauth_lite import ConfigError
    from h2oauth_lite.store.hosts import normalise_host

    with pytest.raises(ConfigError, match="cannot be parsed"):
        normalise_host(host)
