"""CodeFlow (authorization code + PKCE) against the real oidc-provider."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests

from h2oauth_lite import Config, Token
from h2oauth_lite.errors import (
    AccessDeniedError,
    ConfigError,
    FlowTimeoutError,
    InvalidTokenResponseError,
)
from h2oauth_lite.login.code import CodeFlow, _Login
from tests.support.idp import OIDCServer

pytestmark = pytest.mark.interop
SCOPE = "openid offline_access api:read"


class Browser:
    """Plays the user's browser in a thread: log in at the provider, follow the redirect."""

    def __init__(
        self,
        oidc: OIDCServer,
        approve: bool = True,
        before: Optional[Callable[[str, dict[str, str]], None]] = None,
        deliver: bool = True,
    ) -> None:
        self.oidc = oidc
        self.approve = approve
        self.before = before
        self.deliver = deliver
        self.urls: list[str] = []
        self.answers: list[requests.Response] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        self.threads.append(thread)
        thread.start()

    def _visit(self, url: str) -> None:
        try:
            params = dict(parse_qsl(urlsplit(url).query))
            if self.before is not None:
                self.before(params["redirect_uri"], params)
            location = self.oidc.complete_authorization(url, approve=self.approve)
            if self.deliver:
                self.answers.append(requests.get(location, timeout=10))
        except BaseException as exc:
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)
        assert not self.errors, self.errors


def _flow(
    oidc: OIDCServer, browser: Browser, client: str = "app-public", **options: Any
) -> CodeFlow:
    entry = oidc.client(client)
    config = Config(
        issuer=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry.get("client_secret"),
        scope=SCOPE,
    )
    options.setdefault("output", lambda _m: None)
    # These tests read the request in the browser's URL; PAR has tests of its own.
    options.setdefault("par", False)
    return CodeFlow(config, browser=browser, **options)


@pytest.mark.parametrize("client", ["app-public", "app-basic"])
def test_login_with_pkce_state_and_nonce(oidc: OIDCServer, client: str) -> None:
    shown: list[str] = []
    browser = Browser(oidc)
    token = _flow(oidc, browser, client, output=shown.append).run()
    browser.join()
    assert token.access_token and token.refresh_token and token.id_token
    params = dict(parse_qsl(urlsplit(browser.urls[0]).query))
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and params["nonce"]
    assert params["redirect_uri"].startswith("http://127.0.0.1:")
    assert browser.urls[0] in shown[0]  # printed for copying
    assert browser.answers[0].status_code == 200
    assert "Login complete" in browser.answers[0].text
    claims = jwt.decode(token.id_token, options={"verify_signature": False})
    assert claims["nonce"] == params["nonce"]


def test_the_provider_enforces_pkce_for_the_public_client(oidc: OIDCServer) -> None:
    # Why the test client proves PKCE: without the verifier the code is refused.
    codes: list[str] = []
    browser = Browser(oidc, deliver=False)
    flow = _flow(oidc, browser, timeout=30)
    url = flow._prepare("http://127.0.0.1:9/callback").url
    location = oidc.complete_authorization(url)
    codes.append(dict(parse_qsl(urlsplit(location).query))["code"])
    answer = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": codes[0],
            "redirect_uri": "http://127.0.0.1:9/callback",
            "client_id": "app-public",
        },
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] in ("invalid_grant", "invalid_request")


def test_user_denies(oidc: OIDCServer) -> None:
    browser = Browser(oidc, approve=False)
    with pytest.raises(AccessDeniedError) as caught:
        _flow(oidc, browser, timeout=30).run()
    browser.join()
    assert caught.value.error == "access_denied"
    assert "did not succeed" in browser.answers[0].text


def test_wrong_state_is_refused_and_the_flow_keeps_waiting(oidc: OIDCServer) -> None:
    refused: list[requests.Response] = []

    def forge(redirect_uri: str, params: dict[str, str]) -> None:
        refused.append(
            requests.get(
                redirect_uri + "?" + urlencode({"code": "x", "state": "forged"}), timeout=10
            )
        )

    browser = Browser(oidc, before=forge)
    token = _flow(oidc, browser, timeout=30).run()
    browser.join()
    assert refused[0].status_code == 400
    assert token.access_token


def test_only_wrong_state_times_out(oidc: OIDCServer) -> None:
    refused: list[int] = []

    def forge(redirect_uri: str, params: dict[str, str]) -> None:
        answer = requests.get(redirect_uri + "?code=x&state=forged", timeout=10)
        refused.append(answer.status_code)
        raise _Stop

    browser = Browser(oidc, before=forge)
    with pytest.raises(FlowTimeoutError, match=r"within 1\.5 s"):
        _flow(oidc, browser, timeout=1.5).run()
    for thread in browser.threads:
        thread.join(10)
    assert refused == [400]


class _Stop(Exception):
    pass


def test_callback_without_code(oidc: OIDCServer) -> None:
    def no_code(redirect_uri: str, params: dict[str, str]) -> None:
        requests.get(redirect_uri + "?" + urlencode({"state": params["state"]}), timeout=10)
        raise _Stop

    browser = Browser(oidc, before=no_code)
    with pytest.raises(InvalidTokenResponseError, match="neither a code nor an error"):
        _flow(oidc, browser, timeout=30).run()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_all_ports_busy_is_a_clear_error(oidc: OIDCServer, busy_port: int) -> None:
    with pytest.raises(ConfigError, match=f"port\\(s\\) {busy_port} all in use"):
        _flow(oidc, Browser(oidc), redirect_ports=[busy_port]).run()


def test_port_list_uses_the_first_free_one(oidc: OIDCServer, busy_port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    browser = Browser(oidc)
    _flow(oidc, browser, redirect_ports=[busy_port, free], timeout=30).run()
    browser.join()
    assert f"127.0.0.1%3A{free}%2Fcallback" in browser.urls[0]


def test_nonce_mismatch_is_refused() -> None:
    id_token = jwt.encode({"nonce": "other"}, "k" * 32, algorithm="HS256")
    login = _Login("https://x", "state", "verifier", "expected")
    with pytest.raises(InvalidTokenResponseError, match="nonce"):
        CodeFlow._check_nonce(Token("at", id_token=id_token), login)
    CodeFlow._check_nonce(
        Token("at", id_token=jwt.encode({"nonce": "expected"}, "k" * 32, algorithm="HS256")), login
    )
