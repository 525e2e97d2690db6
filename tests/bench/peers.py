"""``make bench-peers``: the same figures for the peers, against the same server, one table.

The peers go into their own virtualenv (``.venv/bench-peers``), never into
the project's; each is measured in a fresh interpreter of that virtualenv by
``tests.bench.adapters``. Ratios are to h2oauth-lite (x2.0 = twice the cost).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any, Optional

from tests.bench import common

VENV = os.path.join(common.ROOT, ".venv", "bench-peers")
PEER_PACKAGES = (
    "h2o-authn",
    "Authlib",
    "httpx",
    "requests",
    "requests-oauth2client",
    "requests-oauthlib",
    "msal",
)
# adapter name -> what a user imports
PEERS = ("h2o-authn", "authlib", "requests-oauth2client", "requests-oauthlib", "msal")
RUNS = 3


def peer_python() -> str:
    """The peers' interpreter, creating and filling its virtualenv when needed."""
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, ".installed")
    wanted = "\n".join(PEER_PACKAGES)
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read() == wanted:
                return python
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *PEER_PACKAGES],
        check=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return python


def _number(result: dict[str, Any], figure: str, key: str) -> Optional[float]:
    value = result.get(figure, {}).get(key)
    return None if value is None else float(value)


def _with_ratio(value: Optional[float], ours: Optional[float], digits: int) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    if ours and value is not None and ours > 0 and not math.isnan(value):
        text += f" (x{value / ours:.1f})"
    return text


def _pair(result: dict[str, Any], figure: str) -> str:
    data = result.get(figure, {})
    if "na" in data:
        return "n/a"
    return f"{common.fmt(data['token_requests'])} / {common.fmt(data['caller_errors'])}"


def _ahead(ahead: dict[str, Any]) -> str:
    requests = common.fmt(ahead["token_requests"])
    errors = common.fmt(ahead["caller_errors"])
    return f"{ahead['p99_ms']:.3f} / {ahead['max_ms']:.1f} / {requests} / {errors}"


def row(result: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    ahead = result.get("ahead", {})
    sequential = result.get("sequential", {})
    bearer = result.get("bearer", {})
    stampede = result.get("stampede_rt", {})
    if "na" in stampede:
        stampede = result.get("stampede_cc", {})
    return [
        f"{result['name']} {result['version']}",
        _with_ratio(result.get("import_ms"), ours.get("import_ms"), 1),
        _with_ratio(
            _number(result, "cached", "us_per_call"), _number(ours, "cached", "us_per_call"), 2
        ),
        _pair(result, "stampede_cc"),
        _pair(result, "stampede_rt"),
        "n/a" if "na" in stampede else f"{stampede['max_ms']:.0f}",
        "n/a" if "na" in ahead else _ahead(ahead),
        "n/a"
        if "na" in sequential
        else _with_ratio(sequential["ms_each"], _number(ours, "sequential", "ms_each"), 2)
        + f" / {common.fmt(sequential['connections'])}",
        "n/a" if "na" in bearer else f"{bearer['ratio']:.3f}",
    ]


HEADER = [
    "library",
    "import ms",
    "cached µs/call",
    "CC stampede req/err",
    "RT stampede req/err",
    "stampede max ms",
    "ahead p99 ms / max ms / req / err",
    "50 refreshes ms each / conns",
    "auth/plain",
]


def main() -> int:
    print(f"peer benchmark: {common.machine()}")
    print("command: make bench-peers  (python -m tests.bench.peers)")
    peers = peer_python()
    results = []
    with common.TokenServer() as server:
        for name, python in [("h2oauth-lite", sys.executable)] + [(p, peers) for p in PEERS]:
            print(f"  measuring {name} ...", file=sys.stderr, flush=True)
            result = common.run_child(python, name, server.url, "--runs", str(RUNS))
            result["python"] = python
            results.append(result)
    statements = {
        "h2oauth-lite": "import h2oauth_lite",
        "h2o-authn": "import h2o_authn",
        "Authlib": "import authlib.integrations.requests_client",
        "requests-oauth2client": "import requests_oauth2client",
        "requests-oauthlib": "import requests_oauthlib",
        "msal": "import msal",
    }
    for result in results:
        result["import_ms"] = common.import_ms(result["python"], statements[result["name"]])
    ours = results[0]
    print()
    print(common.table(HEADER, [row(result, ours) for result in results]))
    print()
    print(
        f"cached: fresh-token path; CC/RT stampede: {common.STAMPEDE_THREADS} threads on an "
        f"expired token, {common.STAMPEDE_LATENCY * 1000:.0f} ms latency, token requests / "
        f"caller errors (median of {RUNS} runs); stampede max: the RT stampede, else CC; "
        f"ahead: {common.AHEAD_THREADS} threads x {common.AHEAD_SECONDS:.0f} s on "
        f"{common.AHEAD_LIFETIME} s tokens, {common.AHEAD_LATENCY * 1000:.0f} ms latency, "
        f"duration/lifetime = {common.AHEAD_SECONDS / common.AHEAD_LIFETIME:.0f}; "
        f"auth/plain: {common.BEARER_REQUESTS:,} resource requests through the library's "
        "requests auth vs a session with a fixed header."
    )
    for result in results:
        notes = [result["notes"]] if result.get("notes") else []
        for figure in ("cached", "stampede_cc", "stampede_rt", "ahead", "sequential", "bearer"):
            reason = result.get(figure, {}).get("na")
            if reason:
                notes.append(f"{figure}: n/a, {reason}")
        if notes:
            print(f"- {result['name']}: " + "; ".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
