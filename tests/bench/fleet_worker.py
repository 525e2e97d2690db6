"""One worker process of a simulated fleet: THREADS threads asking one cache for tokens.

Configured the way a deployment is: the ``H2O_AUTHN_*`` variables, with
``H2O_AUTHN_TOKEN_STORE`` naming the shared store (or ``none``). Prints one
JSON line: calls, caller errors by kind, distinct access tokens seen, and
the TokenStoreWarnings raised.

    python -m tests.bench.fleet_worker '{"threads": 8, "seconds": 15, "start_at": <epoch>}'
"""

from __future__ import annotations

import json
import sys
import threading
import time
import warnings
from typing import Any

from h2oauth_lite import AuthError, TokenEndpointError, from_env


def main() -> None:
    config = json.loads(sys.argv[1])
    store_warnings: list[str] = []

    def record(message: Any, category: type[Warning], *_args: Any, **_kw: Any) -> None:
        store_warnings.append(category.__name__)

    warnings.showwarning = record  # type: ignore[assignment]
    warnings.simplefilter("always")
    cache = from_env(cache_options=config.get("cache_options") or {})
    counts = {"calls": 0, "invalid_grant": 0, "other": 0}
    seen: set[str] = set()
    errors: list[str] = []
    guard = threading.Lock()
    time.sleep(max(0.0, config["start_at"] - time.time()))
    deadline = time.monotonic() + config["seconds"]

    def loop() -> None:
        while time.monotonic() < deadline:
            try:
                token = cache.get_token()
            except TokenEndpointError as exc:
                with guard:
                    counts["invalid_grant" if exc.error == "invalid_grant" else "other"] += 1
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            except AuthError as exc:
                with guard:
                    counts["other"] += 1
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
            else:
                with guard:
                    counts["calls"] += 1
                    seen.add(token.access_token)
            time.sleep(0.01)  # a caller doing work between requests, not a spin loop

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(config["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(config["seconds"] + 120)
    result = {
        **counts,
        "tokens": len(seen),
        "warnings": store_warnings,
        "errors": errors[:5],
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
