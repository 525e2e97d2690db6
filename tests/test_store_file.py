"""TokenStore: layout, host keys, permissions, atomic writes, corrupt files, real processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest

from h2oauth_lite import Token
from h2oauth_lite.errors import ConfigError, TokenStoreError
from h2oauth_lite.settings import user_cache_dir
from h2oauth_lite.store.file import TokenStore, TokenStoreWarning
from h2oauth_lite.store.hosts import normalise_host
from h2oauth_lite.wire.retry import RetryPolicy
from h2oauth_lite.wire.send import DEFAULT_TIMEOUT

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


def _token(name: str = "a", expires_at: float = 2_000_000_000.0) -> Token:
    return Token(
        access_token=f"at-{name}",
        expires_at=expires_at,
        refresh_token=f"rt-{name}",
        scope="openid",
        id_token=None,
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("https://Auth.Example.COM:443/realms/x?y=1", "https://auth.example.com"),
        ("auth.example.com", "https://auth.example.com"),
        ("HTTP://localhost:80/", "http://localhost"),
        ("http://127.0.0.1:8080/path", "http://127.0.0.1:8080"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("  example.com/  ", "https://example.com"),
    ],
)
def test_hosts_are_normalised(raw: str, key: str) -> None:
    assert normalise_host(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "ftp://example.com", "https://", "https://h:99999"])
def test_bad_hosts_are_config_errors(raw: str) -> None:
    with pytest.raises(ConfigError):
        normalise_host(raw)


def test_round_trip_and_layout(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json", clock=lambda: 1234.5)
    store.put("https://Auth.Example.com/some/path", _token())
    assert store.get("auth.example.com") == _token()
    assert store.hosts() == ["https://auth.example.com"]
    assert store.stored_at("auth.example.com") == 1234.5
    raw = json.loads((tmp_path / "s.json").read_text())
    entry = raw["https://auth.example.com"]
    assert entry["stored_at"] == 1234.5
    assert entry["token"]["access_token"] == "at-a"
    # py-oidc-auth-client's fields, so its TokenStore keeps and uses the entry
    assert entry["token"]["expires"] == 2_000_000_000
    assert entry["token"]["headers"] == {"Authorization": "Bearer at-a"}
    assert store.remove("auth.example.com") is True
    assert store.remove("auth.example.com") is False
    assert store.get("auth.example.com") is None


def test_reads_py_oidc_auth_client_file(tmp_path: Path) -> None:
    # The shape py-oidc-auth-client 2603 writes: expires/refresh_expires ints, headers.
    path = tmp_path / "token-store.json"
    path.write_text(
        json.dumps(
            {
                "https://myapp.example.com": {
                    "token": {
                        "access_token": "AT",
                        "token_type": "Bearer",
                        "expires": 1900000000,
                        "refresh_token": "RT",
                        "refresh_expires": 1900003600,
                        "scope": "",
                        "headers": {"Authorization": "Bearer AT"},
                    },
                    "stored_at": 1717027200.0,
                }
            }
        )
    )
    os.chmod(path, 0o600)
    token = TokenStore(path).get("https://MyApp.example.com:443")
    assert token is not None
    assert (token.access_token, token.refresh_token, token.expires_at) == ("AT", "RT", 1.9e9)
    assert token.scope is None
    assert token.extra == {"refresh_expires": 1900003600}


def test_default_path_is_user_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    store = TokenStore(app_name="demo-app")
    assert store.path == os.path.join(user_cache_dir("demo-app"), "token-store.json")
    store.put("h", _token())
    assert store.path.startswith(str(tmp_path / "cache"))


@posix_only
def test_directory_0700_and_file_0600(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "new" / "dir" / "s.json")
    store.put("h", _token())
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "dir").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    leftovers = [p.name for p in (tmp_path / "new" / "dir").iterdir()]
    assert sorted(leftovers) == ["s.json", "s.json.lock"]


@posix_only
def test_wrong_permissions_warn(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    store.put("h", _token())
    os.chmod(store.path, 0o644)
    with pytest.warns(TokenStoreWarning, match="chmod 600"):
        assert store.get("h") == _token()


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b"\xff\xfe\x00", b"[" * 200_000],
    ids=["not-json", "array", "not-utf8", "nested-deeper-than-the-parser"],
)
def test_corrupt_file_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    store = TokenStore(path, clock=lambda: 0.0)
    with pytest.warns(TokenStoreWarning, match="moved it to"):
        assert store.get("h") is None
    aside = tmp_path / "s.json.corrupt-19700101T000000"
    assert aside.read_bytes() == content  # never silently overwritten
    store.put("h", _token())
    assert store.get("h") == _token()


def test_bad_entry_reads_as_absent_and_survives(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"https://a": {"token": {"no": "access token"}}, "https://b": 3}))
    os.chmod(path, 0o600)
    store = TokenStore(path)
    assert store.get("a") is None
    assert store.get("b") is None
    store.put("c", _token())
    assert set(json.loads(path.read_text())) == {"https://a", "https://b", "https://c"}


@posix_only
def test_unwritable_directory_names_the_path(tmp_path: Path) -> None:
    # Root writes anywhere, so as root the store is used by a child that gave root up.
    base = Path(tempfile.mkdtemp(prefix="h2oauth-ro-"))
    locked = base / "ro"
    locked.mkdir()
    os.chmod(locked, 0o555)  # readable and searchable by the unprivileged user, not writable
    os.chmod(base, 0o755)
    try:
        _as_unprivileged_user(_unwritable_directory_check, str(locked))
    finally:
        os.chmod(locked, 0o700)
        shutil.rmtree(base)


def _unwritable_directory_check(locked: str) -> None:
    store = TokenStore(os.path.join(locked, "s.json"))
    assert store.get("h") is None  # reading a missing file needs no write access
    with pytest.raises(TokenStoreError, match=locked):
        store.put("h", _token())


_NOBODY = 65534


def _as_unprivileged_user(check: Callable[[str], None], argument: str) -> None:
    """Run ``check(argument)``: here, or as root in a forked child that switched to nobody."""
    if os.geteuid() != 0:
        check(argument)
        return
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report a failure through the pipe, never return into pytest
        os.close(reader)
        status = 0
        try:
            os.setgroups([])
            os.setgid(_NOBODY)
            os.setuid(_NOBODY)
            assert os.geteuid() == _NOBODY
            check(argument)
        except BaseException:
            os.write(writer, traceback.format_exc().encode())
            status = 1
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, report


def test_clear(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    store.put("a", _token("a"))
    store.put("b", _token("b"))
    store.clear()
    assert store.hosts() == []


def test_lock_wait_is_bounded(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json", lock_timeout=0.2)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    release = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(store.path, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(TokenStoreError, match="held the lock") as raised:
            store.put("h", _token())
        assert "timed out after 0.2 s waiting for the token store lock" in str(raised.value)
        assert "lock_timeout" in str(raised.value)
    finally:
        release.set()
        holder.join(30)
        if holder.is_alive():
            holder.kill()
    store.put("h", _token())  # free again once the other process let go


def _hold_lock(path: str, ready: Any, release: Any) -> None:
    store = TokenStore(path)
    with store.lock():
        ready.set()
        release.wait(30)


def _write_hosts(path: str, prefix: str, count: int) -> None:
    store = TokenStore(path)
    for index in range(count):
        store.put(f"https://{prefix}-{index}.example", _token(f"{prefix}{index}"))


def test_processes_writing_different_hosts_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "s.json")
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_hosts, args=(path, f"p{n}", 25)) for n in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    for worker in workers:
        worker.join(max(0.1, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
        assert worker.exitcode == 0
    hosts = TokenStore(path).hosts()
    assert len(hosts) == 100
    assert TokenStore(path).get("https://p3-24.example") == _token("p324")


def test_store_under_a_file_names_the_path(tmp_path: Path) -> None:
    # Works as root too: a directory cannot be made where a file is.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    store = TokenStore(blocker / "s.json")
    with pytest.raises(TokenStoreError, match=str(blocker)):
        store.put("h", _token())


def test_default_lock_timeout_outlasts_a_refresh_with_default_settings(tmp_path: Path) -> None:
    # Whoever holds the lock may be in one provider refresh: every attempt up to its
    # timeout, plus the waits of the retry budget; a waiter must not give up first.
    policy = RetryPolicy()
    one_refresh = (1 + policy.retries) * DEFAULT_TIMEOUT + policy.max_retry_time
    assert TokenStore(tmp_path / "s.json").lock_timeout > one_refresh
    assert TokenStore(tmp_path / "s.json", lock_timeout=2).lock_timeout == 2.0
