"""Processes sharing one token store: how many refreshes, how many invalid_grant errors.

Starts a real oidc-provider (access tokens live a few seconds, refresh tokens
rotate), logs in once with the authorization code flow, stores the token,
then runs PROCESSES processes x THREADS threads that all ask one
``AuthCache(RefreshTokenProvider, store=..., key=...)`` per process for
tokens for SECONDS seconds. Prints, per run: refreshes performed across all
processes, token generations seen, invalid_grant errors, other errors.

    python -m tests.bench.processes [--processes 4] [--threads 8] [--seconds 6] [--ttl 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from h2oauth_lite import AuthCache, RefreshTokenProvider, TokenStore, parse_token_response
from h2oauth_lite.errors import AuthError, TokenEndpointError

KEY = "https://bench.invalid"
JOIN_SLACK = 60.0


@dataclass
class Figures:
    processes: int
    threads: int
    seconds: float
    token_ttl: int
    refreshes: int
    generations: int
    calls: int
    invalid_grant: int
    other_errors: int
    exit_codes: list[int]

    def lines(self) -> list[str]:
        return [
            f"processes x threads        {self.processes} x {self.threads}",
            f"run time / access token    {self.seconds:g} s / {self.token_ttl} s",
            f"get_token() calls          {self.calls}",
            f"refreshes (all processes)  {self.refreshes}",
            f"token generations seen     {self.generations}",
            f"refreshes per generation   {self.refreshes / max(1, self.generations):.2f}",
            f"mean refresh interval      {self.seconds / max(1, self.refreshes):.2f} s",
            f"invalid_grant errors       {self.invalid_grant}",
            f"other errors               {self.other_errors}",
        ]


def _worker(
    token_url: str,
    client_id: str,
    client_secret: str,
    store_path: str,
    threads: int,
    seconds: float,
    results: Any,
) -> None:
    store = TokenStore(store_path)
    stored = store.get(KEY)
    assert stored is not None and stored.refresh_token
    counts = {"refreshes": 0, "calls": 0, "invalid_grant": 0, "other": 0}
    guard = threading.Lock()
    seen: set[str] = set()

    def counted(_token: Any) -> None:
        with guard:
            counts["refreshes"] += 1

    provider = RefreshTokenProvider(
        token_url,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=stored.refresh_token,
        on_token=counted,
    )
    cache = AuthCache(provider, store=store, key=KEY)
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            try:
                token = cache.get_token()
            except TokenEndpointError as exc:
                with guard:
                    counts["invalid_grant" if exc.error == "invalid_grant" else "other"] += 1
            except AuthError:
                with guard:
                    counts["other"] += 1
            else:
                with guard:
                    counts["calls"] += 1
                    seen.add(token.access_token)
            time.sleep(0.01)  # a caller doing work between requests, not a spin loop

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(seconds + JOIN_SLACK)
    results.put((counts, sorted(seen)))


def run(
    oidc: Any,
    *,
    processes: int = 4,
    threads: int = 8,
    seconds: float = 6.0,
    store_dir: str,
) -> Figures:
    """Run the processes against ``oidc`` (an OIDCServer); the figures."""
    client = oidc.client("app-basic")
    tokens = oidc.login_code_flow(client="app-basic")
    first = parse_token_response(tokens, time.time())
    store_path = os.path.join(store_dir, "token-store.json")
    TokenStore(store_path).put(KEY, first)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    args = (oidc.token_endpoint, client["client_id"], client["client_secret"], store_path)
    workers = [
        ctx.Process(target=_worker, args=(*args, threads, seconds, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected = []
    deadline = time.monotonic() + seconds + JOIN_SLACK
    for _ in workers:
        collected.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
    for worker in workers:
        worker.join(max(0.1, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join(5)
    seen: set[str] = set()
    for _, tokens_seen in collected:
        seen.update(tokens_seen)
    seen.discard(first.access_token)
    return Figures(
        processes=processes,
        threads=threads,
        seconds=seconds,
        token_ttl=oidc.access_token_ttl,
        refreshes=sum(counts["refreshes"] for counts, _ in collected),
        generations=len(seen),
        calls=sum(counts["calls"] for counts, _ in collected),
        invalid_grant=sum(counts["invalid_grant"] for counts, _ in collected),
        other_errors=sum(counts["other"] for counts, _ in collected),
        exit_codes=[worker.exitcode if worker.exitcode is not None else -1 for worker in workers],
    )


def main() -> None:
    from tests.support.idp import start_oidc_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--ttl", type=int, default=2, help="access token lifetime, seconds")
    options = parser.parse_args()
    server = start_oidc_server(access_token_ttl=options.ttl)
    try:
        with tempfile.TemporaryDirectory() as store_dir:
            figures = run(
                server,
                processes=options.processes,
                threads=options.threads,
                seconds=options.seconds,
                store_dir=store_dir,
            )
    finally:
        server.stop()
    print("token store shared by processes (rotating refresh tokens, real oidc-provider)")
    for line in figures.lines():
        print("  " + line)


if __name__ == "__main__":
    main()
