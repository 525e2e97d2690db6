"""``make bench-airflow``: token requests of Airflow tasks that share a connection.

Six mapped tasks of the README's example DAG run in LocalExecutor task
processes, 25 calls each to a protected API, on 2 s tokens; the loopback
token server counts its requests and the tokens the API saw. One refresh per
expiry across the processes means token requests = tokens used, and no
request within half a token's usable life of the previous one; the last row
turns the store off to show what each process would request on its own.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.interop.airflow_env import (
    AIRFLOW,
    dags_test,
    figures_line,
    json_connection,
    running_airflow,
    task_env,
)
from tests.interop.airflow_idp import start_idp

CALLS = 25
PAUSE = 0.2
LIFETIME = 2.0


def main() -> int:
    if not AIRFLOW.is_file():
        print(f"{AIRFLOW} is missing: run `make airflow` first", file=sys.stderr)
        return 1
    print(f"6 tasks x {CALLS} calls ({PAUSE} s apart), {LIFETIME:.0f} s tokens, LocalExecutor")
    with tempfile.TemporaryDirectory() as tmp, running_airflow(Path(tmp)) as flow:
        for label in ("client credentials", "rotating refresh token", "no store (for contrast)"):
            state, server = start_idp(lifetime=LIFETIME)
            try:
                extra: dict[str, str] = {}
                if "refresh" in label:
                    extra["refresh_token"] = state.seed()
                if "no store" in label:
                    extra["token_store"] = "none"  # each task process on its own
                env = task_env(server, json_connection(server, state, **extra))
                started = time.monotonic()
                dags_test(flow, "h2oauth_example", {"calls": CALLS, "pause": PAUSE}, env)
                print(figures_line(label, state, time.monotonic() - started))
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
