"""A plain install brings requests, PyJWT and their own dependencies, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# requests' and PyJWT's own dependencies, and nothing of ours beyond them.
EXPECTED = {"h2oauth-lite", "requests", "pyjwt", "certifi", "charset-normalizer", "idna", "urllib3"}


@pytest.mark.slow
def test_plain_install_has_only_the_two_runtime_dependencies(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        check=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    listing = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = {entry["name"].lower() for entry in json.loads(listing.stdout)}
    names -= {"pip", "setuptools", "wheel"}
    assert names == EXPECTED

    probe = (
        "import importlib.resources as r, sys, h2oauth_lite;"
        "assert (r.files('h2oauth_lite') / 'py.typed').is_file();"
        "h2oauth_lite.ClientCredentialsTokenProvider;"
        "unwanted = ('cryptography', 'asyncio', 'httpx', 'anyio');"
        "print(sorted(m for m in unwanted if m in sys.modules))"
    )
    loaded = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
