"""The h2oauth-lite command, run as a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from tests.support.cli_runs import run_cli as run
from tests.support.idp import OIDCServer

CONSOLE_SCRIPT = Path(sys.executable).with_name("h2oauth-lite")




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
def test_scope_and_client_id_flags_stand_in_for_the_variables(oidc: OIDCServer) -> None:
    env = {**cc_env(oidc), "H2O_AUTHN_CLIENT_ID": "no-such-client", "H2O_AUTHN_SCOPE": "api:read"}
    result = run("token", "--client-id", "cc-basic", "--scope", "api:write", env=env)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["client_id"] == "cc-basic"
    assert claims["scope"] == "api:write"


def test_allow_insecure_http_flag_in_environment_mode() -> None:
    env = {
        "H2O_AUTHN_URI": "http://idp.invalid/token",
        "H2O_AUTHN_CLIENT_ID": "svc",
        "H2O_AUTHN_CLIENT_SECRET": "s",
    }
    refused = run("token", env=env)
    assert refused.returncode == 1
    assert "H2O_AUTHN_ALLOW_INSECURE_HTTP=1; command line: --allow-insecure-http" in (
        refused.stderr
    )
    allowed = run("token", "--allow-insecure-http", env={**env, "H2O_AUTHN_TIMEOUT": "2"})
    assert allowed.returncode == 1
    assert "plain http" not in allowed.stderr
    assert "could not reach http://idp.invalid/token" in allowed.stderr


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
        "h2oauth-lite: error: Missing environment variables: H2O_AUTHN_CLIENT_ID, "
        "H2O_AUTHN_CLIENT_SECRET (or H2O_AUTHN_REFRESH_TOKEN for the refresh grant, or "
        "H2O_AUTHN_PRIVATE_KEY_FILE for private_key_jwt, or H2O_AUTHN_TLS_CERT_FILE for "
        "tls_client_auth)\n"
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


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 if code == 1 else result.stderr.endswith("\n")
    last: str = result.stderr.splitlines()[-1]
    return last


_BAD_IPV6 = "https://[::1/token"
_CLIENT = {"H2O_AUTHN_CLIENT_ID": "svc", "H2O_AUTHN_CLIENT_SECRET": "svc-secret"}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["token"], {"H2O_AUTHN_URI": _BAD_IPV6, **_CLIENT}),
        (["token", "--host", _BAD_IPV6], {}),
        (["login", "--issuer", _BAD_IPV6, "--client-id", "c", "--no-open"], {}),
        (["logout", "--host", _BAD_IPV6], {}),
        (["token"], {"H2O_AUTHN_URI": "http://127.0.0.1:1/t", "H2O_AUTHN_TIMEOUT": "inf", **_CLIENT}),  # noqa: E501
    ],
    ids=["env-uri", "token-host", "login-issuer", "logout-host", "env-timeout-inf"],
)
def test_bad_urls_and_durations_are_one_line_exit_1(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    if args != ["token"]:
        args = [*args, "--store", str(tmp_path / "store.json")]
    line = _one_line(run(*args, env=env), 1)
    assert line.startswith("h2oauth-lite: error: ")
    assert "svc-secret" not in line


@pytest.mark.parametrize("value", ["-1", "0", "inf", "nan", "soon"])
def test_bad_login_timeout_is_a_usage_error(value: str, tmp_path: Path) -> None:
    result = run(
        "login", "--host", "http://127.0.0.1:1", "--timeout", value,
        "--store", str(tmp_path / "store.json"), env={},
    )  # fmt: skip
    line = _one_line(result, 2)
    assert "--timeout" in line and "seconds" in line
