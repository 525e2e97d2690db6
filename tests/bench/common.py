"""What both benchmark scripts share: the token server, the measurements, the report.

The token server runs in the parent process; each library is measured in a
child interpreter (its own virtualenv for peers) that talks to the server
over loopback HTTP only, so every library meets the same server, and the
server's threads never compete with the client's for one GIL. The child
asks the server for its counts (``/_stats``) and sets latency and token
lifetime (``/_control``); the counts include token requests only.

This module imports the standard library alone at import time: it is
imported by the peers' virtualenv, which has neither pytest nor this
package.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

STAMPEDE_THREADS = 32
STAMPEDE_LATENCY = 0.1
AHEAD_THREADS = 32
AHEAD_SECONDS = 10.0
AHEAD_LIFETIME = 2
AHEAD_LATENCY = 0.2
# Between two get_token() calls each thread sleeps this long, as it would while
# using the token; a loop without any pause measures the GIL, not the library.
AHEAD_PAUSE = 0.001
SEQUENTIAL_REFRESHES = 50
BEARER_REQUESTS = 2000
IMPORT_RUNS = 15


# -- the token server (parent side) ---------------------------------------------


@dataclass
class _ServerState:
    latency: float = 0.0
    lifetime: int = 3600
    refresh_token: str = ""
    token_requests: int = 0
    invalid_grant: int = 0
    ports: set[int] = field(default_factory=set)
    serial: itertools.count[int] = field(default_factory=itertools.count)


class TokenServer:
    """Loopback token endpoint: client credentials, rotating refresh tokens, a resource.

    ``POST /token`` answers opaque access tokens valid ``lifetime`` seconds
    after ``latency`` seconds. Refresh tokens rotate: each success hands out
    a new one and the one used is dead, so reusing it is ``invalid_grant``.
    ``GET /resource`` answers 200 at once (for the BearerAuth figure).
    """

    def __init__(self) -> None:
        from tests.support.loopback import LoopbackServer

        self.state = _ServerState()
        self.lock = threading.Lock()
        self.server = LoopbackServer(self._handle)

    def __enter__(self) -> TokenServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def _handle(self, request: Any) -> Any:
        from tests.support.loopback import Response

        if request.path == "/token":
            return self._token(request)
        if request.path == "/resource":
            return Response(200, b"ok", {"Content-Type": "text/plain"})
        if request.path == "/_control":
            return Response(200, self._control(request.json()))
        if request.path == "/_stats":
            with self.lock:
                state = self.state
                return Response(
                    200,
                    {
                        "token_requests": state.token_requests,
                        "connections": len(state.ports),
                        "invalid_grant": state.invalid_grant,
                    },
                )
        if request.path.endswith("/.well-known/openid-configuration"):
            # Under /tenant the addresses say https, for MSAL (its adapter maps them back).
            return Response(200, self._discovery(secure=request.path.startswith("/tenant/")))
        return Response(404, {"error": "not_found"})

    def _discovery(self, secure: bool) -> dict[str, str]:
        base = self.url.replace("http://", "https://", 1) if secure else self.url
        return {
            "issuer": base + ("/tenant" if secure else ""),
            "token_endpoint": base + "/token",
            "authorization_endpoint": base + "/authorize",
            "device_authorization_endpoint": base + "/device",
            "jwks_uri": base + "/jwks",
        }

    def _control(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            state = self.state
            if "latency" in settings:
                state.latency = float(settings["latency"])
            if "lifetime" in settings:
                state.lifetime = int(settings["lifetime"])
            if settings.get("reset"):
                state.token_requests = 0
                state.invalid_grant = 0
                state.ports = set()
            if settings.get("new_refresh_token"):
                state.refresh_token = f"rt-{next(state.serial)}"
            return {"refresh_token": state.refresh_token}

    def _token(self, request: Any) -> Any:
        from tests.support.answers import token_body
        from tests.support.loopback import Response

        with self.lock:
            state = self.state
            state.token_requests += 1
            state.ports.add(request.client_address[1])
            latency, lifetime = state.latency, state.lifetime
            number = next(state.serial)
            body = token_body(f"at-{number}", lifetime, scope=request.form.get("scope") or "api")
            grant = request.form.get("grant_type")
            if grant == "refresh_token":
                if request.form.get("refresh_token") != state.refresh_token:
                    state.invalid_grant += 1
                    return Response(
                        400,
                        {"error": "invalid_grant", "error_description": "refresh token reused"},
                        delay=latency,
                    )
                state.refresh_token = f"rt-{number}"
                body["refresh_token"] = state.refresh_token
            elif grant != "client_credentials":
                return Response(400, {"error": "unsupported_grant_type"}, delay=latency)
        return Response(200, body, {"Cache-Control": "no-store"}, delay=latency)


# -- talking to the server (child side) ------------------------------------------


class Remote:
    """The child's handle on the token server: settings and counts over loopback HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token_url = base_url + "/token"
        self.resource_url = base_url + "/resource"

    def control(self, **settings: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + "/_control",
            data=json.dumps(settings).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            result: dict[str, Any] = json.load(answer)
        return result

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.base_url + "/_stats", timeout=10) as answer:
            result: dict[str, int] = json.load(answer)
        return result


# -- statistics ------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per key, the median over runs of the numeric values (first value otherwise)."""
    merged: dict[str, Any] = {}
    for key in runs[0]:
        values = [run[key] for run in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            merged[key] = statistics.median(values)
        else:
            merged[key] = values[0]
    merged["runs"] = len(runs)
    return merged


# -- the measurements (child side) -------------------------------------------------

Getter = Callable[[], Any]


def measure_cached(get: Getter, runs: int = 5) -> dict[str, Any]:
    """µs per call of a getter whose token is fresh: median of ``runs`` timed loops."""
    get()
    count = 1000
    while True:  # calibrate: one loop of about 0.2 s
        start = time.perf_counter()
        for _ in range(count):
            get()
        elapsed = time.perf_counter() - start
        if elapsed > 0.05:
            break
        count *= 4
    count = max(1000, int(count * 0.2 / elapsed))
    per_call = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(count):
            get()
        per_call.append((time.perf_counter() - start) / count * 1e6)
    return {"us_per_call": statistics.median(per_call), "calls_per_run": count, "runs": runs}


def _release_together(work: Callable[[], Any], threads: int) -> list[tuple[float, bool]]:
    """Start ``threads`` threads at one barrier; each returns (latency s, failed)."""
    barrier = threading.Barrier(threads)
    results: list[tuple[float, bool]] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            work()
            failed = False
        except Exception:
            failed = True
        elapsed = time.perf_counter() - start
        with lock:
            results.append((elapsed, failed))

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return results


def measure_stampede(
    remote: Remote, make: Callable[[], Getter], refresh: bool, runs: int = 3
) -> dict[str, Any]:
    """32 threads released together on an expired token, server latency 100 ms.

    The getter obtains a 1 s token first (as a running program would have),
    waits until it has expired for every client, then the threads go. Counts
    are the server's.
    """
    outcomes = []
    for _ in range(runs):
        remote.control(latency=0, lifetime=1, reset=True, new_refresh_token=refresh)
        get = make()
        get()
        time.sleep(2.1)  # some clients keep expiry in whole seconds, rounded
        remote.control(latency=STAMPEDE_LATENCY, lifetime=3600, reset=True)
        results = _release_together(get, STAMPEDE_THREADS)
        stats = remote.stats()
        latencies = [elapsed * 1000 for elapsed, _ in results]
        outcomes.append(
            {
                "token_requests": stats["token_requests"],
                "caller_errors": sum(failed for _, failed in results),
                "p50_ms": percentile(latencies, 0.5),
                "max_ms": max(latencies),
            }
        )
    remote.control(latency=0, lifetime=3600)
    return median_of(outcomes)


def measure_refresh_ahead(
    remote: Remote, make: Callable[[], Getter], runs: int = 1, seconds: float = AHEAD_SECONDS
) -> dict[str, Any]:
    """32 threads call the getter for ``seconds``; 2 s tokens, 200 ms server latency."""
    outcomes = []
    for _ in range(runs):
        remote.control(latency=AHEAD_LATENCY, lifetime=AHEAD_LIFETIME, new_refresh_token=True)
        get = make()
        get()  # the program has a token when the measurement starts
        remote.control(reset=True)
        stop = time.perf_counter() + seconds
        latencies: list[list[float]] = [[] for _ in range(AHEAD_THREADS)]
        errors = [0] * AHEAD_THREADS

        def loop(
            mine: list[float],
            index: int,
            get: Getter = get,
            stop: float = stop,
            errors: list[int] = errors,
        ) -> None:
            while True:
                start = time.perf_counter()
                if start >= stop:
                    return
                try:
                    get()
                except Exception:
                    errors[index] += 1
                mine.append(time.perf_counter() - start)
                time.sleep(AHEAD_PAUSE)

        workers = [
            threading.Thread(target=loop, args=(latencies[i], i)) for i in range(AHEAD_THREADS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(seconds + 60)
        stats = remote.stats()
        every = [value * 1000 for mine in latencies for value in mine]
        outcomes.append(
            {
                "calls": len(every),
                "p99_ms": percentile(every, 0.99),
                "max_ms": max(every),
                "token_requests": stats["token_requests"],
                "expected_requests": seconds / AHEAD_LIFETIME,
                "caller_errors": sum(errors),
            }
        )
    remote.control(latency=0, lifetime=3600)
    return median_of(outcomes)


def measure_sequential(remote: Remote, make: Callable[[], Getter]) -> dict[str, Any]:
    """50 refreshes one after another, each forced; ms each and TCP connections opened."""
    remote.control(latency=0, lifetime=3600, new_refresh_token=True)
    refresh = make()
    remote.control(reset=True)
    each = []
    failed = 0
    for _ in range(SEQUENTIAL_REFRESHES):
        start = time.perf_counter()
        try:
            refresh()
        except Exception:
            failed += 1
        each.append((time.perf_counter() - start) * 1000)
    stats = remote.stats()
    return {
        "ms_each": statistics.median(each),
        "connections": stats["connections"],
        "token_requests": stats["token_requests"],
        "caller_errors": failed,
    }


def measure_bearer(
    plain: Callable[[], Any], authed: Callable[[], Any], runs: int = 5
) -> dict[str, Any]:
    """2,000 resource requests through the library's auth vs a fixed header (ratio).

    The two sides alternate in chunks of 200, so a slow moment of the machine
    falls on both rather than on one.
    """
    plain()
    authed()
    chunk = 200
    ratios, plains, auths = [], [], []
    for _ in range(runs):
        totals = {0: 0.0, 1: 0.0}
        for round_ in range(BEARER_REQUESTS // chunk):
            order = (0, 1) if round_ % 2 == 0 else (1, 0)
            for side in order:
                send = authed if side else plain
                start = time.perf_counter()
                for _ in range(chunk):
                    send()
                totals[side] += time.perf_counter() - start
        plains.append(totals[0] * 1000)
        auths.append(totals[1] * 1000)
        ratios.append(totals[1] / totals[0])
    return {
        "plain_ms": statistics.median(plains),
        "auth_ms": statistics.median(auths),
        "ratio": statistics.median(ratios),
        "runs": runs,
    }


# -- parent side: import cost, children, the machine ----------------------------------


def import_time_ms(python: str, module: str, runs: int = IMPORT_RUNS) -> float:
    """Median ms of ``import module`` by ``python -X importtime``: its own and its imports'.

    Counted by the interpreter around the import alone, so interpreter start-up,
    whose noise is larger than a cheap import, does not enter it.
    """

    def once() -> float:
        done = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        for line in done.stderr.splitlines():
            # "import time: self [us] | cumulative | imported package"
            fields = [field.strip() for field in line.split("|")]
            if len(fields) == 3 and fields[2] == module:
                return int(fields[1]) / 1000
        raise RuntimeError(f"python -X importtime did not report {module}")

    once()  # warm the file cache and bytecode
    return statistics.median(once() for _ in range(runs))


def import_ms(python: str, statement: str, runs: int = IMPORT_RUNS) -> float:
    """Median ms a fresh ``python`` spends on ``statement`` above ``python -c pass``."""

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, cwd=ROOT)
        return (time.perf_counter() - start) * 1000

    once(statement)  # warm the file cache and bytecode
    bare, loaded = [], []
    for _ in range(runs):
        bare.append(once("pass"))
        loaded.append(once(statement))
    return statistics.median(loaded) - statistics.median(bare)


def run_child(python: str, library: str, base_url: str, *options: str) -> dict[str, Any]:
    """Measure ``library`` in a fresh ``python``; its figures as a dict."""
    completed = subprocess.run(
        [python, "-m", "tests.bench.adapters", library, base_url, *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{library}: {completed.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPU, cores, OS, Python, date (UTC)."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({sys.implementation.name}), {when}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table that is also a valid reStructuredText simple table."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * width for width in widths)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join([rule, line(header), rule, *(line(row) for row in rows), rule])


def fmt(value: Optional[float], digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1):
        return str(int(value))
    return f"{value:.{digits}f}"
