"""Fleets sharing one Redis: token requests per generation, faults, and what a refresh costs.

HOSTS simulated hosts, each a process group of PROCESSES worker processes
with its own HOME, XDG_CACHE_HOME and TMPDIR (no file is shared between
hosts), each worker THREADS threads asking one ``from_env()`` cache for
tokens; access tokens live 2 s. The token endpoint (``tests.support.fleet_idp``) and
a real redis-server run here. ``make bench`` prints the figures:

    python -m tests.bench.fleet
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.fleet_idp import SEED, FleetIdP
from tests.support.loopback import LoopbackServer
from tests.support.redis_server import RedisServer, redis_binary

HOSTS, PROCESSES, THREADS = 3, 3, 8
SECONDS = 15.0
TTL = 2.0
START_DELAY = 3.0  # every worker imports and connects before the clock starts
CLIENT_ID = "fleet"


@dataclass
class FleetFigures:
    grant: str
    shared: bool
    seconds: float
    token_requests: int
    generations: int
    calls: int
    invalid_grant: int
    caller_errors: int
    store_warnings: list[int]
    exit_codes: list[int]
    errors: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def per_generation(self) -> float:
        return self.token_requests / max(1, self.generations)

    def line(self) -> str:
        return (
            f"{self.token_requests} token requests, {self.generations} generations: "
            f"{self.per_generation:.2f} per generation; {self.calls:,} calls, "
            f"{self.invalid_grant} invalid_grant, {self.caller_errors} caller errors"
        )


def host_env(workdir: str, host: int, idp_url: str, grant: str, store: str) -> dict[str, str]:
    """The environment of one simulated host: its own home, cache and temp directories."""
    root = os.path.join(workdir, f"host{host}")
    env = {key: value for key, value in os.environ.items() if not key.startswith("H2O_")}
    for name in ("home", "cache", "tmp"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    env.update(
        HOME=os.path.join(root, "home"),
        XDG_CACHE_HOME=os.path.join(root, "cache"),
        TMPDIR=os.path.join(root, "tmp"),
        H2O_AUTHN_URI=idp_url + "/token",
        H2O_AUTHN_CLIENT_ID=CLIENT_ID,
        H2O_AUTHN_TOKEN_STORE=store,
        PYTHONPATH=os.getcwd(),
    )
    if grant == "refresh_token":
        env["H2O_AUTHN_REFRESH_TOKEN"] = SEED
    else:
        env["H2O_AUTHN_CLIENT_SECRET"] = "fleet-secret"
    return env


def run_fleet(
    idp: FleetIdP,
    idp_url: str,
    *,
    grant: str,
    store: str,
    workdir: str,
    seconds: float = SECONDS,
    hosts: int = HOSTS,
    processes: int = PROCESSES,
    threads: int = THREADS,
    during: Callable[[float], None] | None = None,
) -> FleetFigures:
    """Run the fleet; ``during(start)`` runs here meanwhile (``start``: monotonic start time)."""
    start_at = time.time() + START_DELAY
    config = json.dumps({"threads": threads, "seconds": seconds, "start_at": start_at})
    workers: list[subprocess.Popen[str]] = []
    for host in range(hosts):
        env = host_env(workdir, host, idp_url, grant, store)
        group = 0
        for _ in range(processes):
            worker = subprocess.Popen(
                [sys.executable, "-m", "tests.bench.fleet_worker", config],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                # A host is one process group. setpgid is async-signal-safe, so the
                # server threads running here cannot deadlock the child before exec.
                preexec_fn=(lambda g=group: os.setpgid(0, g)),
            )
            group = group or worker.pid
            workers.append(worker)
    start = time.monotonic() + max(0.0, start_at - time.time())
    before = idp.token_requests
    if during is not None:
        threading.Thread(target=during, args=(start,), daemon=True).start()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=seconds + START_DELAY + 180)
        lines = out.strip().splitlines()
        results.append(json.loads(lines[-1]) if worker.returncode == 0 and lines else None)
        if worker.returncode not in (0, -signal.SIGKILL):
            print(err[-2000:], file=sys.stderr)
    done = [result for result in results if result is not None]
    return FleetFigures(
        grant=grant,
        shared=store != "none",
        seconds=seconds,
        token_requests=idp.token_requests - before,
        generations=max((result["tokens"] for result in done), default=0),
        calls=sum(result["calls"] for result in done),
        invalid_grant=idp.invalid_grant,
        caller_errors=sum(result["invalid_grant"] + result["other"] for result in done),
        store_warnings=[len(result["warnings"]) for result in done],
        exit_codes=[worker.returncode for worker in workers],
        errors=[error for result in done for error in result["errors"]][:5],
    )


def redis_killed_mid_run(
    redis: RedisServer, idp: FleetIdP, idp_url: str, workdir: str, seconds: float = SECONDS
) -> FleetFigures:
    """Client credentials; Redis SIGKILLed at 1/3 of the run, started again at 2/3."""
    third = seconds / 3
    marks: dict[str, float] = {}

    def during(start: float) -> None:
        marks["start"] = start
        time.sleep(max(0.0, start + third - time.monotonic()))
        redis.kill()
        time.sleep(max(0.0, start + 2 * third - time.monotonic()))
        redis.start()

    figures = run_fleet(idp, idp_url, grant="client_credentials", store=redis.url,
                        workdir=workdir, seconds=seconds, during=during)  # fmt: skip
    start = marks["start"]
    for name, (begin, end) in {
        "shared": (start, start + third),
        "redis down": (start + third, start + 2 * third),
        "redis back": (start + 2 * third, start + seconds),
    }.items():
        # Skip the first second of each phase: the switch itself is not the steady state.
        figures.phases[name] = idp.requests_between(begin + 1, end) / (third - 1)
    return figures


def lock_holder_killed(
    redis: RedisServer, idp: FleetIdP, idp_url: str, workdir: str, lease: float = 3.0
) -> tuple[FleetFigures, float]:
    """Rotating refresh tokens; the process holding the lock is SIGKILLed mid-refresh.

    Returns the figures and the seconds from the kill to the fleet's next new token.
    """
    client = redis.client()
    marks: dict[str, float] = {}

    def during(start: float) -> None:
        time.sleep(max(0.0, start + 3 - time.monotonic()))
        idp.hold_next_refresh()
        if not idp.held.wait(30):
            return
        owners = [client.get(name) for name in client.keys("h2oauth-lite:lock:*")]
        pid = int(owners[0].decode().split("-")[0]) if owners and owners[0] else 0
        marks["killed_at"] = time.monotonic()
        marks["issued_before"] = idp.token_requests
        if pid:
            os.kill(pid, signal.SIGKILL)
        idp.release(abandon=True)  # the refresh died with its process: nothing rotated

    store = f"{redis.url}?lock_lease={lease:g}&lock_timeout=30"
    figures = run_fleet(idp, idp_url, grant="refresh_token", store=store, workdir=workdir,
                        seconds=10.0, during=during)  # fmt: skip
    killed_at = marks.get("killed_at", float("nan"))
    after = [at for at, _ in idp.issued if at > killed_at]
    recovery = (after[0] - killed_at) if after else float("inf")
    return figures, recovery


def sequential_runs(redis: RedisServer, workdir: str, runs: int = 8) -> list[str]:
    """``h2oauth-lite token`` run after run with a rotating refresh token: file store, Redis."""
    from tests.support.cli_runs import cli_env, sequential_cli_runs

    lines = []
    for name, store in (("default file store", ""), ("Redis", redis.url)):
        idp = FleetIdP(0.1)  # expired by the next run, or nearly
        with LoopbackServer(idp) as server:
            env = cli_env(server.url, store, XDG_CACHE_HOME=os.path.join(workdir, "cli-cache"))
            if not store:
                env.pop("H2O_AUTHN_TOKEN_STORE")
            codes = sequential_cli_runs(idp, env, runs)
        lines.append(
            f"{runs} sequential `h2oauth-lite token` runs, rotating refresh token, {name}: "
            f"{codes.count(0)} succeeded, {idp.token_requests} refreshes, "
            f"{idp.invalid_grant} invalid_grant"
        )
    return lines


def main() -> int:
    binary = redis_binary()
    if binary is None:
        print("redis-server is missing: run `make redis`")
        return 1
    redis = RedisServer(binary).start()
    print(
        f"fleet: {HOSTS} hosts x {PROCESSES} processes x {THREADS} threads, "
        f"{TTL:g} s access tokens, {SECONDS:g} s runs; redis-server {redis.version()}"
    )
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for grant, store in (
                ("client_credentials", "none"),
                ("client_credentials", redis.url),
                ("refresh_token", redis.url),
            ):
                redis.client().flushall()
                idp = FleetIdP(TTL)
                with LoopbackServer(idp) as server:
                    figures = run_fleet(idp, server.url, grant=grant, store=store,
                                        workdir=workdir)  # fmt: skip
                where = "shared Redis store" if figures.shared else "no shared store"
                print(f"  {grant}, {where}: {figures.line()}")
            redis.client().flushall()
            idp = FleetIdP(TTL)
            with LoopbackServer(idp) as server:
                figures = redis_killed_mid_run(redis, idp, server.url, workdir)
            rates = ", ".join(f"{name} {rate:.1f}/s" for name, rate in figures.phases.items())
            print(f"  Redis SIGKILLed mid-run (client credentials): token requests {rates}; "
                  f"{figures.caller_errors} caller errors; TokenStoreWarnings per process "
                  f"{sorted(set(figures.store_warnings))}")  # fmt: skip
            redis.client().flushall()
            idp = FleetIdP(TTL)
            # The killed worker's connection resets; the server would print its traceback.
            with LoopbackServer(idp) as server, contextlib.redirect_stderr(io.StringIO()):
                figures, recovery = lock_holder_killed(redis, idp, server.url, workdir)
            print(f"  lock holder SIGKILLed mid-refresh (rotating, 3 s lease): next token "
                  f"{recovery:.2f} s after the kill; family revoked: {idp.family_revoked}; "
                  f"{figures.invalid_grant} invalid_grant; exit codes "
                  f"{sorted(figures.exit_codes)}")  # fmt: skip
            for line in sequential_runs(redis, workdir):
                print("  " + line)
        from tests.bench.store_costs import report

        for line in report(redis):
            print("  " + line)
    finally:
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
