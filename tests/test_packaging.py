"""A plain install brings requests, PyJWT and their own dependencies, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run inside the fresh venv: our direct requirements (markers applied, extras
# not requested), and the closure of everything they pull in.
CLOSURE = """
import json
from importlib.metadata import requires
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

def direct(name):
    found = []
    for line in requires(name) or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.append(canonicalize_name(requirement.name))
    return found

ours = direct("h2oauth-lite")
seen, todo = set(), list(ours)
while todo:
    name = todo.pop()
    if name not in seen:
        seen.add(name)
        todo.extend(direct(name))
print(json.dumps({"direct": sorted(ours), "closure": sorted(seen)}))
"""


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
    installed = {entry["name"].lower().replace("_", "-") for entry in json.loads(listing.stdout)}
    installed -= {"pip", "setuptools", "wheel"}
    walked = subprocess.run(
        [str(python), "-c", CLOSURE], check=True, capture_output=True, text=True, timeout=60
    )
    requirements = json.loads(walked.stdout)
    assert requirements["direct"] == ["pyjwt", "requests"]
    # Nothing is installed that requests and PyJWT do not ask for themselves.
    assert installed == {"h2oauth-lite", *requirements["closure"]}
    assert "cryptography" not in installed

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


def _floors_in_setup_cfg() -> dict[str, str]:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    floors = {}
    lines = parser["options"]["install_requires"].split()
    lines += parser["options.extras_require"]["redis"].split()
    for line in lines:
        name, _, version = line.partition(">=")
        floors[name.lower()] = version
    return floors


def _makefile_minimums() -> dict[str, str]:
    line = next(
        line for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("MIN_REQUIREMENTS :=")
    )
    pins = {}
    for pin in line.split(":=", 1)[1].split():
        name, _, version = pin.partition("==")
        pins[name.split("[")[0].lower()] = version
    return pins


def test_the_minimum_versions_job_installs_the_declared_floors() -> None:
    floors = _floors_in_setup_cfg()
    pins = _makefile_minimums()
    assert set(floors) == {"requests", "pyjwt", "redis"}
    for name, floor in floors.items():
        # A floor "2.30" is proved by the lowest release it admits, 2.30.0.
        assert pins[name].split(".")[:2] == floor.split("."), (name, floor, pins[name])


def test_this_run_uses_the_pinned_minimums_when_asked() -> None:
    import os
    from importlib.metadata import version

    wanted = os.environ.get("H2OAUTH_LITE_MIN_REQUIREMENTS")
    if wanted is None:
        pytest.skip("only in `make test-min`, which runs the suite on the minimum versions")
    for pin in wanted.split():
        name, _, pinned = pin.partition("==")
        assert version(name.split("[")[0]) == pinned
