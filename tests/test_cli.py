"""The h2oauth-lite command, run as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from tests.oidc_fixture import OIDCServer

CONSOLE_SCRIPT = Path(sys.executable).with_name("h2oauth-lite")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("H2O_", "H2OCONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "h2oauth_lite", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def cc_env(oidc: OIDCServer, secret: str | None = None) -> dict[str, str]:
    client = oidc.client("cc-basic")
    return {
        "H2O_AUTHN_URI": oidc.token_endpoint,
        "H2O_AUTHN_CLIENT_ID": client["client_id"],
        "H2O_AUTHN_CLIENT_SECRET": secret or client["client_secret"],
        "H2O_AUTHN_SCOPE": "api:read",
    }


@pytest.mark.interop
def test_token_prints_the_access_token(oidc: OIDCServer) -> None:
    result = run("token", env=cc_env(oidc))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout.count("\n") == 1
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["client_id"] == "cc-basic"


@pytest.mark.interop
def test_console_script_is_installed(oidc: OIDCServer) -> None:
    script = str(CONSOLE_SCRIPT) if CONSOLE_SCRIPT.exists() else shutil.which("h2oauth-lite")
    assert script, "the h2oauth-lite console script is not installed"
    result = subprocess.run(
        [script, "token"], env={**os.environ, **cc_env(oidc)}, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().count(".") == 2  # a JWT


def test_missing_configuration_is_one_line_exit_1() -> None:
    result = run("token", env={"H2O_AUTHN_URI": "https://idp.example.com/token"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "h2oauth-lite: error: Missing environment variables: "
        "H2O_AUTHN_CLIENT_ID, H2O_AUTHN_CLIENT_SECRET\n"
    )


@pytest.mark.interop
def test_server_refusal_is_one_line_without_the_secret(oidc: OIDCServer) -> None:
    result = run("token", env=cc_env(oidc, secret="definitely-wrong-secret"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "invalid_client" in result.stderr
    assert "definitely-wrong-secret" not in result.stderr + result.stdout


def test_usage_errors_exit_2() -> None:
    assert run(env={}).returncode == 2
    assert run("no-such-command", env={}).returncode == 2
