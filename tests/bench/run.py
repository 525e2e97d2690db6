"""``make bench``: this library's figures, each a median over several runs.

The token server runs here; the library is measured in a fresh interpreter
(``tests.bench.adapters``), exactly as ``make bench-peers`` measures the peers.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any, Callable

from tests.bench import common

RUNS = 3
AHEAD_RUNS = 3


def na(figure: dict[str, Any]) -> str:
    return f"n/a ({figure['na']})"


def report_lines(result: dict[str, Any], import_ms: float) -> list[str]:
    """The figures of one library run, as lines of text."""
    lines = []
    cached = result.get("cached", {})
    if "na" in cached:
        lines.append(f"cached get_token(): {na(cached)}")
    elif cached:
        lines.append(
            f"cached get_token(): {cached['us_per_call']:.3f} µs/call "
            f"(median of {cached['runs']} loops of {cached['calls_per_run']:,} calls)"
        )
    for key, title in (("stampede_cc", "client credentials"), ("stampede_rt", "rotating refresh")):
        figure = result.get(key)
        if figure is None:
            continue
        head = f"stampede, {title}, {common.STAMPEDE_THREADS} threads on an expired token, "
        head += f"{common.STAMPEDE_LATENCY * 1000:.0f} ms latency: "
        if "na" in figure:
            lines.append(head + na(figure))
            continue
        lines.append(
            head + f"{common.fmt(figure['token_requests'])} token request(s), "
            f"{common.fmt(figure['caller_errors'])} caller errors, "
            f"p50 {figure['p50_ms']:.1f} ms, max {figure['max_ms']:.1f} ms "
            f"(median of {figure['runs']} runs)"
        )
    ahead = result.get("ahead")
    if ahead is not None:
        head = (
            f"refresh-ahead, {common.AHEAD_THREADS} threads x {common.AHEAD_SECONDS:.0f} s, "
            f"{common.AHEAD_LIFETIME} s tokens, {common.AHEAD_LATENCY * 1000:.0f} ms latency"
            f" [{result.get('notes', '')}]: "
        )
        if "na" in ahead:
            lines.append(head + na(ahead))
        else:
            lines.append(
                head + f"p99 {ahead['p99_ms']:.3f} ms, max {ahead['max_ms']:.1f} ms, "
                f"{common.fmt(ahead['token_requests'])} token requests "
                f"(duration/lifetime = {ahead['expected_requests']:.0f}), "
                f"{common.fmt(ahead['caller_errors'])} caller errors, "
                f"{common.fmt(ahead['calls'])} calls (median of {ahead['runs']} runs)"
            )
    sequential = result.get("sequential")
    if sequential is not None:
        head = f"{common.SEQUENTIAL_REFRESHES} sequential refreshes: "
        if "na" in sequential:
            lines.append(head + na(sequential))
        else:
            lines.append(
                head + f"{sequential['ms_each']:.2f} ms each (median), "
                f"{common.fmt(sequential['connections'])} TCP connection(s), "
                f"{common.fmt(sequential['caller_errors'])} errors"
            )
    if import_ms == import_ms:  # not NaN
        lines.append(
            f"import h2oauth_lite: {import_ms:.1f} ms (python -X importtime, cumulative, median "
            "of fresh runs; loads neither requests nor jwt)"
        )
    bearer = result.get("bearer")
    if bearer is not None:
        head = f"BearerAuth on {common.BEARER_REQUESTS:,} loopback requests vs a fixed header: "
        if "na" in bearer:
            lines.append(head + na(bearer))
        else:
            lines.append(
                head + f"ratio {bearer['ratio']:.3f} (median of {bearer['runs']} runs; "
                f"{bearer['auth_ms']:.0f} ms vs {bearer['plain_ms']:.0f} ms)"
            )
    return lines


# What a script pays before its first request: the quick start's names resolved
# and a provider's session made (requests, urllib3, ssl and http.client load here).
FIRST_USE = (
    "from h2oauth_lite import AuthCache, BearerAuth, ClientCredentialsTokenProvider\n"
    "provider = ClientCredentialsTokenProvider('https://idp.invalid/token', 'svc', 's')\n"
    "session = provider.session\n"
    "AuthCache(provider); BearerAuth\n"
)


def main() -> int:
    python = sys.executable
    print(f"h2oauth-lite benchmark: {common.machine()}")
    print("command: make bench  (python -m tests.bench.run)")
    with common.TokenServer() as server:
        ours = common.run_child(
            python, "h2oauth-lite", server.url, "--runs", str(RUNS),
            "--ahead-runs", str(AHEAD_RUNS),
        )  # fmt: skip
        defaults = common.run_child(
            python, "h2oauth-lite-defaults", server.url, "--figures", "ahead",
            "--ahead-runs", str(AHEAD_RUNS),
        )  # fmt: skip
        drop_in = common.run_child(
            python, "h2oauth-lite-tokenprovider", server.url,
            "--figures", "stampede_rt,sequential", "--runs", str(RUNS),
        )  # fmt: skip
    import_ms = common.import_time_ms(python, "h2oauth_lite")
    first_use_ms = common.import_ms(python, FIRST_USE)
    print(f"\nh2oauth-lite {ours['version']}")
    for line in report_lines(ours, import_ms):
        print("  " + line)
    print(
        f"  first use: {first_use_ms:.1f} ms above `python -c pass` for the quick start's "
        "names and a provider's session (loads requests, urllib3, ssl, http.client)"
    )
    print("  with the AuthCache defaults instead (expiry_threshold=5 s, automatic window):")
    for line in report_lines(defaults, float("nan")):
        print("    " + line)
    print(
        "    The defaults cannot meet the refresh-ahead figure on 2 s tokens: the stale\n"
        "    margin is capped at half the lifetime (1 s) and the window is at least the\n"
        "    threshold, so window and margin coincide and every caller waits at the\n"
        "    stale point. Tokens of 50 s or more get a real window from the defaults."
    )
    print("\nh2oauth_lite.TokenProvider (h2o-authn drop-in)")
    for line in report_lines(drop_in, float("nan")):
        print("  " + line)
    print("\nDPoP (RFC 9449): the cost of a proof per request, in process")
    for line in dpop_lines():
        print("  " + line)
    return 0


def _median_us(call: Callable[[], Any], calls: int, runs: int = 7) -> float:
    """Median over ``runs`` of the mean µs per call of ``calls`` calls."""
    means = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        means.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(means)


def dpop_lines() -> list[str]:
    """What a DPoP proof adds per request, next to the plain cached path (in process)."""
    import requests

    from h2oauth_lite import AuthCache, BearerAuth, DPoPKey, Token
    from h2oauth_lite.client_auth.dpop import DPoPProver

    class Fixed:
        def __init__(self, token: Token) -> None:
            self.token = token

        def get_token(self) -> Token:
            return self.token

    far = time.time() + 3600
    url = "https://api.example/v1/items?page=2"
    plain_cache = AuthCache(Fixed(Token("a" * 800, expires_at=far)))
    plain = BearerAuth(plain_cache)
    lines = [f"cached get_token(), no DPoP: {_median_us(plain_cache.get_token, 200_000):.3f} µs"]
    request = requests.Request("GET", url).prepare()
    def bearer(auth: Any) -> None:
        auth(request)
        request.hooks["response"].clear()  # each call adds its hook; keep the list short

    bearer_us = _median_us(lambda: bearer(plain), 20_000)
    lines.append(f"BearerAuth per request, Bearer: {bearer_us:.2f} µs")
    for alg in ("ES256", "RS256"):
        key = DPoPKey.generate(alg)
        prover = DPoPProver(key)
        bound = BearerAuth(AuthCache(Fixed(Token("a" * 800, "DPoP", far))), dpop=prover)
        proof_us = _median_us(lambda p=prover: p.proof("GET", url, "a" * 800), 1000)
        auth_us = _median_us(lambda b=bound: bearer(b), 1000)
        lines.append(
            f"DPoP {alg}: proof {proof_us:.1f} µs, BearerAuth per request {auth_us:.1f} µs "
            "(median of 7 loops)"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
