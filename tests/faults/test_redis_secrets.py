"""No Redis password, refresh token or access token leaves through a Redis store.

The idea of test_secrets.py, for Redis URLs that carry passwords: every log
record at DEBUG (all loggers, redis-py's included), warning, exception
message and repr, object repr and CLI output of these scenarios is
searched for the secrets.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from typing import Callable

import pytest

from h2oauth_lite import ConfigError, RedisTokenStore, from_env
from h2oauth_lite.settings import read_settings
from tests.support.fleet_idp import SEED, FleetIdP
from tests.support.loopback import LoopbackServer
from tests.support.redis_server import PASSWORD, RedisServer, free_port

Loopback = Callable[..., LoopbackServer]
WRONG = "wrong-pw-Fj38Qz"


def _traces(exc: BaseException) -> str:
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_redis_passwords_and_tokens_stay_out_of_every_trace(
    redis_server: RedisServer, loopback: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    idp = FleetIdP(ttl=1)
    url = loopback(idp).url
    traces: list[str] = []
    env = {"H2O_AUTHN_URI": url + "/token", "H2O_AUTHN_CLIENT_ID": "svc",
           "H2O_AUTHN_REFRESH_TOKEN": SEED, "H2O_AUTHN_TOKEN_STORE": redis_server.url}  # fmt: skip
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cache = from_env(env)
        store = cache._store.store  # type: ignore[union-attr]
        traces += [repr(cache), repr(store), store.describe(), repr(read_settings(env))]
        token = cache.get_token()
        redis_server.kill()
        cache.invalidate()
        cache.get_token()  # refreshed without Redis: warns
        redis_server.start()
        cache.invalidate()
        cache.get_token()  # written back
        for bad in (f"redis://:{WRONG}@127.0.0.1:{redis_server.port}/0",
                    f"redis://user:{WRONG}@127.0.0.1:{free_port()}/0",
                    f"rediss://:{WRONG}@127.0.0.1:99999/0"):  # fmt: skip
            try:
                RedisTokenStore(bad).read_entry("k")
            except ConfigError as exc:  # TokenStoreError; ConfigError for the bad port
                traces.append(_traces(exc))
            else:
                traces.append("unreachable store: served nothing")
    traces += [str(w.message) for w in caught]
    traces += [record.getMessage() for record in caplog.records]
    cli = subprocess.run(
        [sys.executable, "-m", "h2oauth_lite", "token", "--store",
         f"redis://:{WRONG}@127.0.0.1:{redis_server.port}/0"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("H2O_")}, **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cli.returncode == 1 and "authentication failed" in cli.stderr
    traces += [cli.stdout, cli.stderr]
    text = "\n".join(traces)
    assert len(caught) >= 1 and len(caplog.records) > 0  # the scan had something to read
    secrets = [PASSWORD, WRONG, SEED, token.access_token, *idp.spent]
    if idp.valid:
        secrets.append(idp.valid)
    for secret in secrets:
        assert secret not in text, f"a secret leaked: {secret[:4]}..."
