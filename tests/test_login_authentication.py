"""authenticate(): stored token, refresh, interactive login, or a clear NotInteractiveError."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import pytest
import requests

from h2oauth_lite import Config, Token, TokenStore, authenticate
from h2oauth_lite.errors import ConfigError, NotInteractiveError
from h2oauth_lite.login.interactive import not_interactive_reason
from tests.support.idp import DeviceUser, OIDCServer

SCOPE = "openid offline_access api:read"
# Nothing listens here: a test that must not touch the network fails loudly if it does.
DEAD_ISSUER = "http://127.0.0.1:9"


def _config(oidc: OIDCServer) -> Config:
    return Config(issuer=oidc.issuer, client_id="app-public", scope=SCOPE)


def test_valid_stored_token_is_returned_without_network(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    stored = Token("at", expires_at=time.time() + 600, refresh_token="rt")
    store.put(DEAD_ISSUER, stored)
    config = Config(issuer=DEAD_ISSUER, client_id="c")
    assert authenticate(config, store=store, interactive=False) == stored


def test_another_clients_stored_token_is_neither_used_nor_replaced(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    theirs = Token("theirs", expires_at=time.time() + 600, refresh_token="their-rt")
    store.put(DEAD_ISSUER, theirs, client_id="other")
    with pytest.raises(ConfigError, match="belongs to client_id 'other'"):
        authenticate(Config(issuer=DEAD_ISSUER, client_id="c"), store=store, interactive=True)
    assert store.entry(DEAD_ISSUER) == (theirs, "other")  # their login survives
    mine = Token("mine", expires_at=time.time() + 600)
    store.put(DEAD_ISSUER, mine, client_id="c")
    assert authenticate(Config(issuer=DEAD_ISSUER, client_id="c"), store=store) == mine


def test_each_call_uses_its_own_arguments(tmp_path: Path) -> None:
    first, second = TokenStore(tmp_path / "a.json"), TokenStore(tmp_path / "b.json")
    first.put(DEAD_ISSUER, Token("at-a", expires_at=time.time() + 600))
    second.put(DEAD_ISSUER, Token("at-b", expires_at=time.time() + 600))
    config = Config(issuer=DEAD_ISSUER, client_id="c")
    assert authenticate(config, store=first, interactive=False).access_token == "at-a"
    assert authenticate(config, store=second, interactive=False).access_token == "at-b"
    with pytest.raises(NotInteractiveError):
        authenticate(config, store=TokenStore(tmp_path / "c.json"), interactive=False)


def test_not_interactive_message_says_how(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    with pytest.raises(NotInteractiveError) as caught:
        authenticate(DEAD_ISSUER, client_id="c", store=store, environ={"SLURM_JOB_ID": "7"})
    message = str(caught.value)
    assert "SLURM_JOB_ID" in message
    assert "H2O_AUTHN_REFRESH_TOKEN" in message
    assert store.path in message
    assert "H2O_AUTHN_CLIENT_SECRET" in message


def test_interactivity_guess() -> None:
    assert "AIRFLOW_CTX_DAG_ID" in str(not_interactive_reason({"AIRFLOW_CTX_DAG_ID": "d"}))
    assert "KUBERNETES_SERVICE_HOST" in str(
        not_interactive_reason({"KUBERNETES_SERVICE_HOST": "10.0.0.1"})
    )
    # Under pytest stdin is captured: not a terminal.
    assert not_interactive_reason({}) is not None


def test_force_skips_the_stored_token(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    store.put(DEAD_ISSUER, Token("at", expires_at=time.time() + 600))
    with pytest.raises(NotInteractiveError):
        authenticate(DEAD_ISSUER, client_id="c", store=store, force=True, interactive=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"flow": "magic"}, "flow must be"),
        ({"client_secret": "s"}, "needs client_id"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        authenticate("https://h.example", store=TokenStore(tmp_path / "s.json"), **kwargs)


@pytest.mark.interop
def test_login_then_refresh_then_revoked_refresh_token(oidc: OIDCServer, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "s.json")
    config = _config(oidc)
    user = DeviceUser(oidc)
    # 1. nothing stored: an interactive device login, written to the store
    first = authenticate(config, store=store, interactive=True, **user.options())
    assert user.logins == 1
    assert store.entry(config.key) == (first, "app-public") and first.refresh_token
    # 2. the access token expired: the refresh grant, no login
    store.put(config.key, _expired(first))
    second = authenticate(config, store=store, interactive=False)
    assert second.access_token != first.access_token
    assert store.get(config.key) == second  # the rotated refresh token is kept
    # 3. the refresh token is revoked on the server
    _revoke(oidc, second.refresh_token)
    store.put(config.key, _expired(second))
    with pytest.raises(NotInteractiveError):
        authenticate(config, store=store, interactive=False)
    again = DeviceUser(oidc)
    third = authenticate(config, store=store, interactive=True, **again.options())
    assert again.logins == 1 and third.access_token not in (first.access_token, second.access_token)


@pytest.mark.interop
def test_code_flow_when_asked(oidc: OIDCServer, tmp_path: Path) -> None:
    import threading

    store = TokenStore(tmp_path / "s.json")
    visits: list[str] = []

    def browser(url: str) -> None:
        def visit() -> None:
            requests.get(oidc.complete_authorization(url), timeout=10)

        visits.append(url)
        threading.Thread(target=visit, daemon=True).start()

    token = authenticate(
        _config(oidc),
        store=store,
        interactive=True,
        flow="code",
        browser=browser,
        output=lambda _m: None,
        timeout=30,
    )
    assert visits and store.get(_config(oidc).key) == token


def _expired(token: Token) -> Token:
    from dataclasses import replace

    return replace(token, expires_at=time.time() - 10)


def _revoke(oidc: OIDCServer, refresh_token: Optional[str]) -> None:
    assert refresh_token
    answer = requests.post(
        oidc.revocation_endpoint,
        data={
            "token": refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": "app-public",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
