"""Environment mode from the outside: ``h2oauth-lite token`` run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.fleet_idp import SEED, FleetIdP

__all__ = ["cli_env", "run_cli", "run_token", "sequential_cli_runs"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m h2oauth_lite *args`` with ``env`` over an environment free of H2O_*."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("H2O_", "H2OCONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "h2oauth_lite", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def cli_env(url: str, store: str, **extra: str) -> dict[str, str]:
    return {
        "H2O_AUTHN_URI": url + "/token",
        "H2O_AUTHN_CLIENT_ID": "etl",
        "H2O_AUTHN_REFRESH_TOKEN": SEED,
        "H2O_AUTHN_TOKEN_STORE": store,
        **extra,
    }


def run_token(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``h2oauth-lite token *args`` in environment mode, configured by ``env``."""
    return run_cli("token", *args, env=env)


def sequential_cli_runs(idp: FleetIdP, env: dict[str, str], runs: int = 8) -> list[int]:
    """``h2oauth-lite token`` ``runs`` times, one after the other; their exit codes."""
    codes = []
    for _ in range(runs):
        result = run_token(env)
        codes.append(result.returncode)
        assert SEED not in result.stdout + result.stderr
    return codes
