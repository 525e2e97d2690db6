"""Config(host=...) against a real py-oidc-auth server in front of the real oidc-provider."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from h2oauth_lite import CodeFlow, Config, DeviceFlow, Token, TokenStore, authenticate
from h2oauth_lite.errors import AccessDeniedError, NotInteractiveError
from tests.interop.py_oidc_auth.fixture import PyOIDCAuthServer, py_oidc_auth, require_server_python
from tests.support.idp import DeviceUser, OIDCServer

pytestmark = pytest.mark.interop
__all__ = ["py_oidc_auth"]


def test_device_flow_refresh_and_store(
    oidc: OIDCServer, py_oidc_auth: PyOIDCAuthServer, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "token-store.json")
    config = Config(host=py_oidc_auth.url)
    user = DeviceUser(oidc)
    token = authenticate(config, store=store, interactive=True, **user.options())
    assert token.access_token.count(".") == 2 and token.refresh_token
    assert token.extra.get("refresh_expires")  # py-oidc-auth's own member, kept
    # The access token expires: refreshed through the server's refresh-token field.
    store.put(config.key, replace(token, expires_at=time.time() - 1))
    refreshed = authenticate(config, store=store, interactive=False)
    assert refreshed.access_token != token.access_token
    assert store.get(config.key) == refreshed


def test_denial_inside_detail_stops_at_once(
    oidc: OIDCServer, py_oidc_auth: PyOIDCAuthServer
) -> None:
    user = DeviceUser(oidc, approve=False)
    flow = DeviceFlow(Config(host=py_oidc_auth.url), **user.options())
    with pytest.raises(AccessDeniedError) as caught:
        flow.run()
    assert caught.value.error == "access_denied"
    assert user.sleeps <= 3  # not polled until the timeout


def test_revoked_refresh_token_needs_a_login(
    oidc: OIDCServer, py_oidc_auth: PyOIDCAuthServer, tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "token-store.json")
    config = Config(host=py_oidc_auth.url)
    token = authenticate(config, store=store, interactive=True, **DeviceUser(oidc).options())
    answer = requests.post(
        oidc.revocation_endpoint,
        data={"token": token.refresh_token, "client_id": "app-public"},
        timeout=10,
    )
    assert answer.status_code == 200
    store.put(config.key, replace(token, expires_at=time.time() - 1))
    with pytest.raises(NotInteractiveError):
        authenticate(config, store=store, interactive=False)


def test_code_flow_through_the_login_route(
    oidc: OIDCServer, py_oidc_auth: PyOIDCAuthServer
) -> None:
    visits: list[str] = []

    def browser(url: str) -> None:
        visits.append(url)

        def visit() -> None:
            requests.get(oidc.complete_authorization(url), timeout=10)

        threading.Thread(target=visit, daemon=True).start()

    flow = CodeFlow(
        Config(host=py_oidc_auth.url), browser=browser, output=lambda _m: None, timeout=30
    )
    token = flow.run()
    assert token.access_token and token.refresh_token
    # The browser went straight to the provider, with the server's PKCE challenge.
    assert visits[0].startswith(oidc.authorization_endpoint)
    assert "code_challenge_method=S256" in visits[0]


def _peer(script: str, *args: str) -> str:
    """Run ``script`` with py-oidc-auth-client's interpreter; its stdout."""
    python = require_server_python()
    result = subprocess.run(
        [str(python), "-c", script, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


_PEER_READ = """
import json, sys
from py_oidc_auth_client.token_store import TokenStore
print(json.dumps(TokenStore(sys.argv[1]).get(sys.argv[2])))
"""

_PEER_WRITE = """
import sys
from py_oidc_auth_client.token_store import TokenStore
TokenStore(sys.argv[1]).put(sys.argv[2], {
    "access_token": "peer-at", "token_type": "Bearer", "expires": 1900000000,
    "refresh_token": "peer-rt", "refresh_expires": 1900003600, "scope": "openid",
    "headers": {"Authorization": "Bearer peer-at"},
})
"""


def test_py_oidc_auth_client_reads_our_store(tmp_path: Path) -> None:
    path = str(tmp_path / "token-store.json")
    TokenStore(path).put(
        "https://MyApp.example.com:443/x",
        Token("our-at", expires_at=time.time() + 600, refresh_token="our-rt"),
    )
    token = json.loads(_peer(_PEER_READ, path, "https://myapp.example.com"))
    assert token["access_token"] == "our-at"
    assert token["refresh_token"] == "our-rt"
    assert token["headers"] == {"Authorization": "Bearer our-at"}


def test_we_read_py_oidc_auth_client_store(tmp_path: Path) -> None:
    path = str(tmp_path / "token-store.json")
    _peer(_PEER_WRITE, path, "https://myapp.example.com")
    token = TokenStore(path).get("myapp.example.com")
    assert token is not None
    assert (token.access_token, token.refresh_token) == ("peer-at", "peer-rt")
    assert token.expires_at == 1_900_000_000
