"""Soak: many threads share one AuthCache against the real oidc-provider with short tokens.

``make soak`` (or ``python -m tests.bench.soak``) runs 32 threads for 60 s
against oidc-provider issuing 2 s access tokens, and prints the figures
that matter for a long-running process: caller errors, token requests
against duration / lifetime, and resident memory after the first 5 s and at
the end. It exits non-zero when a figure is off:

- caller errors: 0;
- token requests: within one of duration / lifetime;
- RSS at the end within 5 MiB of RSS after 5 s.

The cache runs with ``expiry_threshold=0`` and ``refresh_ahead=0``: the
provider's ``exp`` is whole seconds counted from a truncated ``iat``, so with
2 s tokens any refresh before the expiry yields a token that ends one second
later, and the request count measures that rounding instead of the cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from typing import Optional

from h2oauth_lite import AuthCache, ClientCredentialsTokenProvider
from tests.support.fakes import FakeProvider
from tests.support.idp import start_oidc_server

MIB = 1024 * 1024
PAUSE = 0.001  # between calls, as a thread using the token would pause


def rss_bytes() -> int:
    """Resident set size now (Linux /proc), else the peak (getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class Callers:
    def __init__(self, cache: AuthCache, threads: int) -> None:
        self.cache = cache
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.calls = 0
        self.errors: list[str] = []
        self.expired_served = 0
        self.threads = [
            threading.Thread(target=self._run, name=f"caller-{n}", daemon=True)
            for n in range(threads)
        ]

    def _run(self) -> None:
        calls = 0
        expired = 0
        while not self.stop.is_set():
            try:
                token = self.cache.get_token()
            except Exception as exc:
                with self.lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            else:
                # 50 ms of slack: the thread may be descheduled between the two reads.
                if token.expires_at is not None and token.expires_at < time.time() - 0.05:
                    expired += 1
            calls += 1
            time.sleep(PAUSE)
        with self.lock:
            self.calls += calls
            self.expired_served += expired

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def soak(seconds: float, threads: int, lifetime: int) -> int:
    server = start_oidc_server(access_token_ttl=lifetime)
    try:
        client = server.client("cc-basic")
        provider = ClientCredentialsTokenProvider(
            server.token_endpoint, client["client_id"], client["client_secret"], scope="api:read"
        )
        counting = FakeProvider(wraps=provider)  # counts every request, and the failed ones
        cache = AuthCache(counting, expiry_threshold=0, refresh_ahead=0)
        callers = Callers(cache, threads)
        started = time.monotonic()
        callers.start()
        time.sleep(min(5.0, seconds))
        rss_early = rss_bytes()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        callers.join()
        elapsed = time.monotonic() - started
        rss_end = rss_bytes()
    finally:
        server.stop()
    expected = elapsed / lifetime
    growth = rss_end - rss_early
    print(f"soak: {threads} threads for {elapsed:.1f} s, oidc-provider, {lifetime} s tokens")
    print(f"  calls to get_token()    {callers.calls}")
    print(f"  caller errors           {len(callers.errors)}")
    for error in sorted(set(callers.errors))[:5]:
        print(f"    {error}")
    print(f"  expired tokens served   {callers.expired_served}")
    print(f"  token requests          {counting.calls} (failed: {counting.failures})")
    print(f"  duration / lifetime     {expected:.1f}")
    print(f"  RSS after 5 s           {rss_early / MIB:.1f} MiB")
    print(f"  RSS at the end          {rss_end / MIB:.1f} MiB ({growth / MIB:+.2f} MiB)")
    checks = {
        "0 caller errors": not callers.errors,
        "token requests within one of duration / lifetime": abs(counting.calls - expected) <= 1,
        "RSS within 5 MiB": abs(growth) <= 5 * MIB,
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--lifetime", type=int, default=2, help="access token lifetime, s")
    args = parser.parse_args(argv)
    return soak(args.seconds, args.threads, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
