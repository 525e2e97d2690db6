"""The real h2ogpte client, in a virtualenv of its own, driven against loopback servers.

h2ogpte brings httpx, aiohttp, pandas and h2o-authn, none of which may reach
this library's own environment, so it lives in ``.venv-h2ogpte`` next to the
project's ``.venv``, created on first use (about half a minute) and reused
after. Run as a script inside that virtualenv, this module builds this
library's providers, hands each to ``h2ogpte.H2OGPTE`` and calls the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".venv-h2ogpte"
H2OGPTE_VERSION = "1.7.5"
STAMP = VENV / f".installed-h2ogpte-{H2OGPTE_VERSION}"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """The virtualenv's python, after creating the virtualenv if needed (raises on failure)."""
    python = _venv_python()
    if STAMP.exists() and python.exists():
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"h2ogpte=={H2OGPTE_VERSION}",
            # This library's own runtime dependencies, for the driver below.
            "requests",
            "PyJWT",
        ],
        check=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    STAMP.touch()
    return python


def run(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the driver once in the h2ogpte virtualenv for all ``specs``; one report each."""
    python = ensure_venv()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(
        [str(python), "-m", "tests.interop.h2ogpte_peer", json.dumps(specs)],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if completed.returncode != 0:
        raise AssertionError(f"h2ogpte driver failed:\n{completed.stdout}\n{completed.stderr}")
    reports: list[dict[str, Any]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return reports


def _provider(spec: dict[str, Any]) -> Any:
    import h2oauth_lite

    kind = spec["provider"]
    if kind == "TokenProvider":
        return h2oauth_lite.TokenProvider(
            refresh_token=spec["refresh_token"],
            client_id="platform-client-id",
            token_endpoint_url=spec["token_url"],
        )
    if kind == "RefreshTokenProvider":
        return h2oauth_lite.RefreshTokenProvider(
            spec["token_url"], client_id="platform-client-id", refresh_token=spec["refresh_token"]
        )
    cc = h2oauth_lite.ClientCredentialsTokenProvider(
        spec["token_url"], client_id="cc", client_secret="cc-secret"
    )
    if kind == "ClientCredentialsTokenProvider":
        return cc
    if kind == "AuthCache":
        return h2oauth_lite.AuthCache(cc)
    raise ValueError(kind)


def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    import warnings

    import h2ogpte

    provider = _provider(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy-mode notice
        client = h2ogpte.H2OGPTE(address=spec["address"], token_provider=provider)
        meta = client.get_meta()
    own = [name for name in sys.modules if name.startswith("h2oauth_lite")]
    return {"username": meta.username, "h2oauth_lite_modules": sorted(own)}


if __name__ == "__main__":
    # One process for every case: importing h2ogpte takes seconds.
    print(json.dumps([_drive(spec) for spec in json.loads(sys.argv[1])]))
