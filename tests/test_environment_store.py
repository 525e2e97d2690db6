"""Environment mode that persists: H2O_AUTHN_TOKEN_STORE, the seed rule, prefixes, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest

from h2oauth_lite import AuthCache, ConfigError, TokenStore, from_env
from h2oauth_lite.environment import store_from_env
from h2oauth_lite.settings import read_settings
from h2oauth_lite.store.base import fingerprint
from tests.support.cli_runs import cli_env, run_token, sequential_cli_runs
from tests.support.fleet_idp import SEED, FleetIdP
from tests.support.loopback import LoopbackServer

Loopback = Callable[..., LoopbackServer]


def test_the_store_variable_is_read_in_settings_and_shown_without_a_password() -> None:
    env = {
        "H2O_AUTHN_URI": "https://idp/t",
        "H2O_AUTHN_CLIENT_ID": "c",
        "H2O_AUTHN_CLIENT_SECRET": "s",
    }
    url = "redis://user:hunter2-pw@redis.internal:6380/2"
    settings = read_settings({**env, "H2O_AUTHN_TOKEN_STORE": url})
    assert settings.token_store == url
    assert "hunter2-pw" not in repr(settings)
    assert "redis.internal:6380/2" in repr(settings)
    assert store_from_env({**env, "H2O_AUTHN_TOKEN_STORE": "none"}) is None
    assert store_from_env(env) is None  # unset: no store, as before
    assert isinstance(store_from_env(env, store=True), TokenStore)  # the CLI's default


def test_a_prefix_reads_a_second_clients_variables(tmp_path: Path) -> None:
    env = {
        "H2O_AUTHN_URI": "https://idp.test/token",
        "H2O_AUTHN_CLIENT_ID": "main",
        "H2O_AUTHN_CLIENT_SECRET": "s1",
        "H2O_AUTHN_TOKEN_STORE": str(tmp_path / "s.json"),
        "WAREHOUSE_URI": "https://idp.test/token",
        "WAREHOUSE_CLIENT_ID": "warehouse",
        "WAREHOUSE_CLIENT_SECRET": "s2",
        "WAREHOUSE_SCOPE": "dwh",
        "WAREHOUSE_TOKEN_STORE": str(tmp_path / "s.json"),
    }
    main, warehouse = from_env(env), from_env(env, prefix="WAREHOUSE_")
    assert main.provider.client_id == "main"  # type: ignore[attr-defined]
    assert warehouse.provider.client_id == "warehouse"  # type: ignore[attr-defined]
    assert read_settings(env, prefix="WAREHOUSE_").scope == "dwh"
    with pytest.raises(ConfigError, match="Missing environment variable: WAREHOUSE_CLIENT_ID"):
        read_settings({"WAREHOUSE_URI": "https://idp/t", "WAREHOUSE_CLIENT_SECRET": "s"},
                      prefix="WAREHOUSE_")  # fmt: skip
    with pytest.raises(ConfigError, match="prefix"):
        read_settings(env, prefix="NOT A PREFIX")
    assert repr(main) and "s2" not in repr(read_settings(env, prefix="WAREHOUSE_"))


def test_runs_continue_from_the_stored_rotated_token_and_a_new_seed_replaces_it(
    tmp_path: Path, loopback: Loopback
) -> None:
    idp = FleetIdP(ttl=60)
    server = loopback(idp)
    path = tmp_path / "store.json"
    env = cli_env(server.url, str(path))
    first = from_env(env).get_token()
    assert idp.token_requests == 1
    # A second run (new process, same environment): the stored token, no request.
    again = from_env(env)
    assert again.get_token().access_token == first.access_token
    assert idp.token_requests == 1
    # ...and its next refresh continues from the rotated refresh token, not the seed.
    again.invalidate()
    again.get_token()
    assert idp.invalid_grant == 0 and idp.token_requests == 2
    text = path.read_text()
    assert SEED not in text and fingerprint(SEED) in text  # the seed's fingerprint only
    # A user pastes a new refresh token (a new login): it is used, and replaces the entry.
    idp.valid, idp.family_revoked = "rt-pasted", False
    pasted = from_env({**env, "H2O_AUTHN_REFRESH_TOKEN": "rt-pasted"})
    assert pasted.get_token().access_token != first.access_token
    assert idp.invalid_grant == 0
    entry = json.loads(path.read_text())
    (stored,) = entry.values()
    assert stored["seed"] == fingerprint("rt-pasted") and stored["generation"] == 3


def test_from_env_store_argument_wins_over_the_variable(tmp_path: Path, loopback: Loopback) -> None:
    server = loopback(FleetIdP(ttl=60))
    env = cli_env(server.url, "none")
    assert from_env(env)._store is None
    cache = from_env(env, store=str(tmp_path / "explicit.json"))
    cache.get_token()
    assert (tmp_path / "explicit.json").exists()
    named = {**env, "H2O_AUTHN_TOKEN_STORE": str(tmp_path / "x.json")}
    assert from_env(named, store=False)._store is None
    assert isinstance(from_env(env, store=TokenStore(tmp_path / "obj.json")), AuthCache)


@pytest.mark.slow
def test_sequential_cli_runs_share_the_default_file_store(
    loopback: Loopback, isolated_cache_home: Path
) -> None:
    idp = FleetIdP(ttl=0.1)
    server = loopback(idp)
    env = cli_env(server.url, "")  # unset: the CLI uses the default file store
    env.pop("H2O_AUTHN_TOKEN_STORE")
    assert sequential_cli_runs(idp, env) == [0] * 8
    # Runs rotated the refresh token again and again (a run that starts before the
    # token expires uses it as it is), and none ever sent a spent one.
    assert idp.token_requests >= 4 and idp.invalid_grant == 0
    stored = TokenStore(isolated_cache_home / "h2oauth-lite" / "token-store.json")
    (key,) = stored.hosts()
    assert stored.get(key).refresh_token == idp.valid  # type: ignore[union-attr]


@pytest.mark.slow
def test_without_a_store_the_second_run_spends_the_seed_again(loopback: Loopback) -> None:
    # What the store fixes: the refresh token in the environment is spent by the first run.
    idp = FleetIdP(ttl=0.2)
    server = loopback(idp)
    env = cli_env(server.url, "none")
    assert run_token(env).returncode == 0
    second = run_token(env, "--no-store")
    assert second.returncode == 1 and "invalid_grant" in second.stderr
    assert run_token(env, "--store", "x.json", "--no-store").returncode != 0


def test_no_path_but_a_redis_store_imports_redis(tmp_path: Path) -> None:
    path = str(tmp_path / "s.json")
    code = f"""
        import json, sys
        import h2oauth_lite
        after_import = "redis" in sys.modules
        env = {{"H2O_AUTHN_URI": "https://idp.test/token", "H2O_AUTHN_CLIENT_ID": "c",
               "H2O_AUTHN_CLIENT_SECRET": "s", "H2O_AUTHN_TOKEN_STORE": {path!r}}}
        h2oauth_lite.from_env(env)
        h2oauth_lite.TokenStoreBackend, h2oauth_lite.StoreKey
        after_file_store = "redis" in sys.modules
        h2oauth_lite.RedisTokenStore("redis://127.0.0.1:1/0")
        print(json.dumps([after_import, after_file_store, "redis" in sys.modules]))
        """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=60, check=True)  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, False, True]


def test_without_redis_py_a_redis_store_names_the_extra() -> None:
    code = """
        import sys
        sys.modules["redis"] = None  # as if redis-py were not installed
        from h2oauth_lite import ConfigError, RedisTokenStore, from_env
        try:
            RedisTokenStore("redis://:pw-secret@127.0.0.1:6379/0")
        except ConfigError as exc:
            print(exc)
        """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=60, check=True)  # fmt: skip
    assert "pip install 'h2oauth-lite[redis]'" in out.stdout
    assert "pw-secret" not in out.stdout + out.stderr
