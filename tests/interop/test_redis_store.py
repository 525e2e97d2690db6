"""RedisTokenStore against a real redis-server (7.x, with a password): the lock, faults, fleets."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

from h2oauth_lite import (
    ConfigError,
    RedisTokenStore,
    StoredEntry,
    StoreKey,
    Token,
    TokenStoreError,
    TokenStoreUnavailableError,
    TokenStoreWarning,
    from_env,
)
from tests.support.fleet_idp import SEED, FleetIdP
from tests.support.loopback import LoopbackServer
from tests.support.redis_server import PASSWORD, RedisServer

Loopback = Callable[..., LoopbackServer]
KEY = str(StoreKey("https://idp.test", "svc"))


def _entry(name: str, generation: int, expires_in: float = 60.0) -> StoredEntry:
    token = Token(f"at-{name}", expires_at=time.time() + expires_in, refresh_token=f"rt-{name}")
    return StoredEntry(token, "svc", generation, "seed-fp")


class Commands:
    """Commands Redis processed (top level: a script counts once), less our own INFO calls."""

    def __init__(self, redis_server: RedisServer) -> None:
        self.client = redis_server.client()
        self.own = 0

    def __call__(self) -> int:
        self.own += 1
        return int(self.client.info("stats")["total_commands_processed"]) - self.own

    def scripts(self) -> int:
        self.own += 1
        stats = self.client.info("commandstats")
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_entries_round_trip_and_an_older_generation_never_replaces_a_newer(
    redis_server: RedisServer,
) -> None:
    store = RedisTokenStore(redis_server.url)
    assert store.read_entry(KEY) is None
    store.write_entry(KEY, _entry("a", 5))
    read = store.read_entry(KEY)
    assert read is not None and read.token.access_token == "at-a"
    assert (read.client_id, read.generation, read.seed) == ("svc", 5, "seed-fp")
    assert abs(read.token.expires_at - (time.time() + 60)) < 1  # type: ignore[operator]
    store.write_entry(KEY, _entry("older", 4))
    assert store.read_entry(KEY).token.access_token == "at-a"  # type: ignore[union-attr]
    # The entry outlives its access token by far: its refresh token may still be good.
    ttl = redis_server.client().pttl(f"h2oauth-lite:token:{KEY}")
    assert ttl > 29 * 24 * 3600 * 1000
    assert store.remove(KEY) and store.read_entry(KEY) is None and not store.remove(KEY)


def test_an_expiry_is_read_on_redis_clock_so_skewed_hosts_agree(redis_server: RedisServer) -> None:
    writer = RedisTokenStore(redis_server.url, clock=lambda: time.time() - 40)
    reader = RedisTokenStore(redis_server.url, clock=lambda: time.time() + 40)
    token = Token("at", expires_at=time.time() - 40 + 30, refresh_token="rt")  # 30 s left
    writer.write_entry(KEY, StoredEntry(token, "svc", 1))
    read = reader.read_entry(KEY)
    assert read is not None
    assert 29 < read.token.expires_at - (time.time() + 40) <= 30  # type: ignore[operator]


def test_the_lock_excludes_other_stores_and_only_its_owner_releases_it(
    redis_server: RedisServer,
) -> None:
    first = RedisTokenStore(redis_server.url, lock_lease=0.3, lock_timeout=5)
    second = RedisTokenStore(redis_server.url, lock_lease=5, lock_timeout=10)
    taken = threading.Event()
    waited: list[float] = []

    def take_over() -> None:
        start = time.monotonic()
        with second.lock(KEY):
            waited.append(time.monotonic() - start)
            taken.set()
            time.sleep(0.5)

    with first.lock(KEY):
        thread = threading.Thread(target=take_over)
        thread.start()
        # The first holder outlives its lease (a slow refresh): the second takes over.
        assert taken.wait(5)
    assert 0.2 < waited[0] < 2
    # The first holder's release did not delete the second holder's lock.
    assert redis_server.client().get(f"h2oauth-lite:lock:{KEY}") is not None
    thread.join()
    assert redis_server.client().get(f"h2oauth-lite:lock:{KEY}") is None


def test_a_dead_holders_lock_ends_with_its_lease_and_a_wait_is_bounded(
    redis_server: RedisServer,
) -> None:
    code = f"""
        import os, signal, time
        from h2oauth_lite import RedisTokenStore
        with RedisTokenStore({redis_server.url!r}, lock_lease=1.5, lock_timeout=5).lock({KEY!r}):
            print("held", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lock
        """
    holder = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert holder.stdout.strip() == "held" and holder.returncode == -9
    start = time.monotonic()
    with RedisTokenStore(redis_server.url, lock_lease=5, lock_timeout=10).lock(KEY):
        recovered = time.monotonic() - start
    assert recovered < 1.5 + 0.5
    impatient = RedisTokenStore(redis_server.url, lock_lease=0.1, lock_timeout=0.3)
    redis_server.client().set(f"h2oauth-lite:lock:{KEY}", "someone", px=60_000)
    with pytest.raises(TokenStoreError, match=r"timed out after 0\.3 s"), impatient.lock(KEY):
        pass


def _secret_free(text: str) -> None:
    assert PASSWORD not in text and "wrong-pw-Zx81" not in text and "acl-pw-Kq55" not in text


def test_misconfiguration_at_first_contact_is_an_error_naming_the_url_without_password(
    redis_server: RedisServer, loopback: Loopback
) -> None:
    port = redis_server.port
    client = redis_server.client()
    client.execute_command("ACL", "SETUSER", "limited", "on", ">acl-pw-Kq55", "~*", "-@all",
                           "+auth", "+hello", "+ping")  # fmt: skip
    http = loopback({"not": "redis"})
    cases = {
        f"redis://:wrong-pw-Zx81@127.0.0.1:{port}/0": "authentication failed",
        f"redis://limited:acl-pw-Kq55@127.0.0.1:{port}/0": "permission denied by an ACL",
        f"redis://:{PASSWORD}@127.0.0.1:{http.port}/0": "does not answer as Redis does",
    }
    for url, reason in cases.items():
        store = RedisTokenStore(url)
        with pytest.raises(TokenStoreError, match=reason) as caught:
            store.read_entry(KEY)
        assert not isinstance(caught.value, TokenStoreUnavailableError)
        assert "127.0.0.1" in str(caught.value)
        _secret_free(str(caught.value) + repr(caught.value) + repr(store) + store.describe())
    for url in (f"redis://:{PASSWORD}@127.0.0.1:99999/0", "https://redis.test", "redis://:x@/0",
                f"redis://:{PASSWORD}@127.0.0.1:{port}/zero"):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            RedisTokenStore(url)
        _secret_free(str(caught.value))


def test_a_corrupt_or_foreign_entry_is_moved_aside_with_a_warning(
    redis_server: RedisServer,
) -> None:
    store = RedisTokenStore(redis_server.url)
    client = redis_server.client()
    for value in ("not an entry", '7 1 {"token": {"access_token": 5}}'):
        client.set(f"h2oauth-lite:token:{KEY}", value)
        with pytest.warns(TokenStoreWarning, match="moved it to"):
            assert store.read_entry(KEY) is None
    client.hset(f"h2oauth-lite:token:{KEY}", "field", "a hash, not ours")
    with pytest.warns(TokenStoreWarning, match=r"a hash"):
        assert store.read_entry(KEY) is None
    store.write_entry(KEY, _entry("fresh", 1))
    assert store.read_entry(KEY).token.access_token == "at-fresh"  # type: ignore[union-attr]
    assert len(client.keys("h2oauth-lite:token:*.corrupt-*")) >= 1


def _cc_env(idp_url: str, store: str) -> dict[str, str]:
    return {"H2O_AUTHN_URI": idp_url + "/token", "H2O_AUTHN_CLIENT_ID": "svc",
            "H2O_AUTHN_CLIENT_SECRET": "s", "H2O_AUTHN_TOKEN_STORE": store}  # fmt: skip


def test_the_cached_path_sends_no_command_and_a_refresh_a_handful(
    redis_server: RedisServer, loopback: Loopback
) -> None:
    idp = FleetIdP(ttl=3600)
    cache = from_env(_cc_env(loopback(idp).url, redis_server.url))
    cache.get_token()
    commands = Commands(redis_server)
    before = commands()
    for _ in range(10_000):
        cache.get_token()
    assert commands() == before
    scripts = commands.scripts()
    cache.invalidate()
    cache.get_token()
    # One refresh is four round trips: SET NX (the lock), then the read, write and
    # release scripts; the commands inside them (TYPE, GET, TIME, SET, DEL) add 9.
    assert commands.scripts() - scripts == 3
    assert commands() - before == 1 + 3 + 9


def test_hosts_with_clocks_40_s_apart_refresh_once_per_expiry(
    redis_server: RedisServer, loopback: Loopback
) -> None:
    idp = FleetIdP(ttl=2)
    url = loopback(idp).url
    caches = []
    for skew in (-20.0, 20.0):
        def clock(skew: float = skew) -> float:
            return time.time() + skew

        store = RedisTokenStore(redis_server.url, clock=clock)
        cache_options = {"store": store, "key": StoreKey(url, "svc"), "clock": clock}
        caches.append(from_env(_cc_env(url, "none"), cache_options=cache_options, clock=clock))
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        for cache in caches:
            cache.get_token()
        time.sleep(0.01)
    # 2 s tokens refreshed at half their life: about 6 generations, not a loop.
    assert idp.token_requests <= 8


def test_redis_down_then_back_one_warning_no_spent_token_and_the_token_written_back(
    redis_server: RedisServer, loopback: Loopback, caplog: pytest.LogCaptureFixture
) -> None:
    idp = FleetIdP(ttl=1)
    env = {"H2O_AUTHN_URI": loopback(idp).url + "/token", "H2O_AUTHN_CLIENT_ID": "svc",
           "H2O_AUTHN_REFRESH_TOKEN": SEED, "H2O_AUTHN_TOKEN_STORE": redis_server.url}  # fmt: skip
    cache = from_env(env)
    cache.get_token()
    redis_server.kill()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            time.sleep(0.6)
            cache.get_token()  # refreshes on its own: Redis is gone
    assert [w.category for w in caught] == [TokenStoreWarning]
    assert "does not answer" in str(caught[0].message)
    _secret_free(str(caught[0].message))
    spent_during_outage = idp.token_requests
    assert spent_during_outage >= 2
    redis_server.start()  # empty: it kept nothing on disk
    with caplog.at_level(logging.WARNING, logger="h2oauth_lite"):
        time.sleep(0.6)
        cache.get_token()
    assert "answers again" in caplog.text
    # A new process with the same seed continues the family from Redis.
    other = from_env(env)
    time.sleep(0.6)
    other.get_token()
    assert idp.invalid_grant == 0 and not idp.family_revoked


@pytest.mark.slow
def test_sequential_cli_runs_share_a_redis_store(
    redis_server: RedisServer, loopback: Loopback
) -> None:
    from tests.support.cli_runs import cli_env, sequential_cli_runs

    idp = FleetIdP(ttl=0.1)
    env = cli_env(loopback(idp).url, redis_server.url)
    assert sequential_cli_runs(idp, env) == [0] * 8
    assert idp.token_requests >= 4 and idp.invalid_grant == 0


@pytest.mark.interop
@pytest.mark.slow
def test_cli_runs_with_redis_against_the_real_oidc_provider(
    redis_server: RedisServer, oidc_factory: Any
) -> None:
    from tests.support.cli_runs import run_token

    oidc = oidc_factory(access_token_ttl=2)
    client = oidc.client("app-basic")
    tokens = oidc.login_code_flow(client="app-basic")
    env = {"H2O_AUTHN_URI": oidc.token_endpoint, "H2O_AUTHN_CLIENT_ID": client["client_id"],
           "H2O_AUTHN_CLIENT_SECRET": client["client_secret"],
           "H2O_AUTHN_REFRESH_TOKEN": tokens["refresh_token"],
           "H2O_AUTHN_TOKEN_STORE": redis_server.url}  # fmt: skip
    printed = []
    for _ in range(3):
        result = run_token(env)
        assert result.returncode == 0, result.stderr
        printed.append(result.stdout.strip())
        time.sleep(2.1)  # the access token expires: the next run refreshes
    assert len(set(printed)) == 3
    # The seed itself was spent by the first run: the chain lives on in Redis only.
    assert tokens["refresh_token"] not in str(redis_server.client().keys("*"))


def _fleet(tmp_path: Path, redis_server: RedisServer, grant: str, store: str, **kw: Any) -> Any:
    from tests.bench.fleet import run_fleet

    redis_server.client().flushall()
    idp = FleetIdP(ttl=2)
    with LoopbackServer(idp) as server:
        return run_fleet(idp, server.url, grant=grant, store=store, workdir=str(tmp_path), **kw)


@pytest.mark.slow
def test_fleet_client_credentials_one_request_per_generation(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    shared = _fleet(tmp_path, redis_server, "client_credentials", redis_server.url)
    assert shared.exit_codes == [0] * 9 and shared.caller_errors == 0
    assert shared.generations >= 10  # 15 s of 2 s tokens
    assert shared.per_generation <= 1.1
    alone = _fleet(tmp_path, redis_server, "client_credentials", "none", seconds=5.0)
    assert alone.per_generation >= 7  # nine processes, nine tokens per expiry


@pytest.mark.slow
def test_fleet_rotating_refresh_tokens_never_invalid_grant(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    figures = _fleet(tmp_path, redis_server, "refresh_token", redis_server.url)
    assert figures.exit_codes == [0] * 9
    assert figures.invalid_grant == 0 and figures.caller_errors == 0
    assert figures.generations >= 10 and figures.per_generation <= 1.1


@pytest.mark.slow
def test_fleet_redis_killed_mid_run_keeps_serving_and_sharing_resumes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from tests.bench.fleet import redis_killed_mid_run

    idp = FleetIdP(ttl=2)
    with LoopbackServer(idp) as server:
        figures = redis_killed_mid_run(redis_server, idp, server.url, str(tmp_path))
    assert figures.exit_codes == [0] * 9 and figures.caller_errors == 0
    assert figures.store_warnings == [1] * 9  # one TokenStoreWarning per process
    rates = figures.phases
    assert rates["redis down"] >= 5  # every process on its own: about 9 per second
    assert rates["shared"] <= 1.5 and rates["redis back"] <= 1.5  # one per expiry


@pytest.mark.slow
def test_fleet_recovers_within_one_lease_when_the_lock_holder_is_killed(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    from tests.bench.fleet import lock_holder_killed

    idp = FleetIdP(ttl=2)
    with LoopbackServer(idp) as server:
        figures, recovery = lock_holder_killed(redis_server, idp, server.url, str(tmp_path))
    assert sorted(figures.exit_codes) == [-9] + [0] * 8  # the holder, killed
    assert recovery <= 3.0 + 1.0  # one lease, and the refresh itself
    assert not idp.family_revoked and idp.invalid_grant == 0
    assert figures.caller_errors == 0


def test_a_frozen_redis_is_slow_not_fatal_and_sharing_resumes_when_it_thaws(
    redis_server: RedisServer, loopback: Loopback
) -> None:
    import os
    import signal

    idp = FleetIdP(ttl=60)
    url = loopback(idp).url
    caches = []
    for _ in range(2):
        store = RedisTokenStore(redis_server.url, socket_timeout=0.3, connect_timeout=0.3)
        options = {"store": store, "key": StoreKey(url, "svc")}
        caches.append(from_env(_cc_env(url, "none"), cache_options=options))
    first, second = caches
    shared = first.get_token().access_token
    assert second.get_token().access_token == shared and idp.token_requests == 1
    assert redis_server.process is not None
    os.kill(redis_server.process.pid, signal.SIGSTOP)  # accepts, never answers
    try:
        with pytest.warns(TokenStoreWarning, match="does not answer"):
            first.invalidate()
            start = time.monotonic()
            assert first.get_token().access_token != shared  # on its own, within the timeout
            assert time.monotonic() - start < 3
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    first.invalidate()
    start = time.monotonic()
    fresh = first.get_token().access_token  # Redis answers again: written there
    # The lock request that timed out during the freeze was applied when Redis
    # thawed; its owner releases it rather than leave the fleet waiting a lease.
    assert time.monotonic() - start < 5
    second.invalidate()
    assert second.get_token().access_token == fresh  # ...and shared
    assert idp.token_requests == 3


def test_a_redis_url_is_refused_where_logins_need_a_file(tmp_path: Path) -> None:
    from tests.support.cli_runs import run_token

    result = run_token({}, "--host", "https://app.test", "--store", f"redis://:{PASSWORD}@h/0")
    assert result.returncode == 1 and "environment mode only" in result.stderr
    assert PASSWORD not in result.stderr


def test_a_store_on_a_client_you_built_uses_it_and_leaves_it_open(
    redis_server: RedisServer,
) -> None:
    client = redis_server.client()
    store = RedisTokenStore(client, prefix="mine:")
    store.write_entry(KEY, _entry("own", 1))
    assert client.exists(f"mine:token:{KEY}")
    assert repr(store) == f"RedisTokenStore('redis://127.0.0.1:{redis_server.port}/0')"
    store.close()
    assert client.ping()  # the caller's client: not ours to close
    with pytest.raises(TypeError, match=r"redis\.Redis"):
        RedisTokenStore(object())
