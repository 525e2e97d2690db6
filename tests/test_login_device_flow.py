"""DeviceFlow against the real oidc-provider, and against a loopback server for odd answers."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

import pytest

from h2oauth_lite import Config, DeviceFlow
from h2oauth_lite.errors import (
    AccessDeniedError,
    DeviceCodeExpiredError,
    FlowTimeoutError,
    InvalidTokenResponseError,
    TokenEndpointError,
)
from h2oauth_lite.token import MAX_LIFETIME
from tests.support.answers import token_body
from tests.support.clock import Clock
from tests.support.idp import OIDCServer
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]
SCOPE = "openid offline_access api:read"


# -- the real provider ------------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("complete", [True, False], ids=["complete-uri", "user-code"])
def test_device_login_against_oidc_provider(oidc: OIDCServer, complete: bool) -> None:
    shown: list[str] = []
    holder: dict[str, Any] = {}

    def approve() -> None:
        auth = holder["auth"]
        oidc.complete_device(auth.verification_uri_complete if complete else auth.user_code)

    fake = Clock(100.0, on_first_sleep=approve)
    flow = DeviceFlow(
        Config(issuer=oidc.issuer, client_id="app-public", scope=SCOPE),
        output=shown.append,
        sleep=fake.sleep,
        clock=fake.time,
    )
    auth = holder["auth"] = flow.start()
    flow.show(auth)
    token = flow.poll(auth)
    assert token.access_token.count(".") == 2
    assert token.refresh_token
    assert token.expires_at is not None
    assert auth.verification_uri_complete is not None
    assert any(auth.verification_uri_complete in line for line in shown)
    assert any(auth.user_code in line for line in shown)
    assert auth.device_code not in repr(auth)


@pytest.mark.interop
def test_user_denies_on_oidc_provider(oidc: OIDCServer) -> None:
    holder: dict[str, Any] = {}
    fake = Clock(
        100.0,
        on_first_sleep=lambda: oidc.complete_device(holder["auth"].user_code, approve=False),
    )
    flow = DeviceFlow(
        Config(issuer=oidc.issuer, client_id="app-public", scope=SCOPE),
        output=lambda _m: None,
        sleep=fake.sleep,
        clock=fake.time,
    )
    holder["auth"] = flow.start()
    with pytest.raises(AccessDeniedError) as caught:
        flow.poll(holder["auth"])
    assert caught.value.error == "access_denied"
    assert len(fake.sleeps) <= 3  # stops at once, not at the timeout


@pytest.mark.interop
def test_pending_until_the_device_code_expires(oidc: OIDCServer) -> None:
    # Nobody approves: the real server says authorization_pending until the
    # code's lifetime (600 s on the injected clock) is used up.
    fake = Clock(100.0)
    flow = DeviceFlow(
        Config(issuer=oidc.issuer, client_id="app-public", scope=SCOPE),
        output=lambda _m: None,
        sleep=fake.sleep,
        clock=fake.time,
    )
    auth = flow.start()
    assert auth.expires_in == 600
    with pytest.raises(DeviceCodeExpiredError, match="expired after 600 s"):
        flow.poll(auth)
    assert sum(fake.sleeps) == pytest.approx(600)
    assert len(fake.sleeps) == 120  # every 5 s, as the server asked


# -- loopback: answers the real provider does not give on demand -------------------


class DeviceServer:
    """A py-oidc-auth-shaped server: /auth/v2/device and /auth/v2/token."""

    def __init__(self, device: Any, answers: list[Response]) -> None:
        self.device = device
        self.answers = answers
        self.polls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        if request.path.endswith("/device"):
            return Response(200, self.device)
        with self.lock:
            self.polls.append(request.form)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


DEVICE = {
    "device_code": "dc-secret",
    "user_code": "ABCD-EFGH",
    "verification_uri": "http://127.0.0.1/device",
    "expires_in": 300,
    "interval": 2,
}
TOKEN = Response(200, token_body("at", 60, refresh_token="rt"))


def _detail(code: str) -> Response:
    # py-oidc-auth relays the provider's error inside a FastAPI "detail" string.
    upstream = json.dumps({"error": code, "error_description": "upstream said so"})
    return Response(400, {"detail": f"Upstream OIDC error: {upstream}"})


def _flow(server: LoopbackServer, fake: Clock, **options: Any) -> DeviceFlow:
    options.setdefault("output", lambda _m: None)
    return DeviceFlow(Config(host=server.url), sleep=fake.sleep, clock=fake.time, **options)


def test_py_oidc_auth_fields_pending_slow_down_then_token(loopback: Loopback) -> None:
    handler = DeviceServer(DEVICE, [_detail("authorization_pending"), _detail("slow_down"), TOKEN])
    server = loopback(handler)
    fake = Clock(100.0)
    shown: list[str] = []
    token = _flow(server, fake, output=shown.append).run()
    assert token.access_token == "at"
    assert fake.sleeps == [2, 2, 7]  # interval, interval, interval + 5 after slow_down
    assert handler.polls[0] == {"device-code": "dc-secret"}
    assert shown == ["To log in, open http://127.0.0.1/device and enter the code ABCD-EFGH"]


@pytest.mark.parametrize(
    ("code", "error"),
    [("access_denied", AccessDeniedError), ("expired_token", DeviceCodeExpiredError)],
)
def test_detail_errors_end_the_flow_at_once(
    loopback: Loopback, code: str, error: type[Exception]
) -> None:
    server = loopback(DeviceServer(DEVICE, [_detail("authorization_pending"), _detail(code)]))
    fake = Clock(100.0)
    with pytest.raises(error):
        _flow(server, fake).run()
    assert len(fake.sleeps) == 2


def test_caller_timeout(loopback: Loopback) -> None:
    server = loopback(DeviceServer(DEVICE, [_detail("authorization_pending")]))
    fake = Clock(100.0)
    with pytest.raises(FlowTimeoutError, match="within 9 s"):
        _flow(server, fake, timeout=9).run()
    assert sum(fake.sleeps) == pytest.approx(9)


def test_unknown_error_is_raised_as_is(loopback: Loopback) -> None:
    server = loopback(DeviceServer(DEVICE, [Response(400, {"error": "invalid_client"})]))
    with pytest.raises(TokenEndpointError) as caught:
        _flow(server, Clock(100.0)).run()
    assert type(caught.value) is TokenEndpointError
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize("missing", ["device_code", "user_code", "verification_uri"])
def test_device_response_missing_a_field_names_it(loopback: Loopback, missing: str) -> None:
    device = {key: value for key, value in DEVICE.items() if key != missing}
    server = loopback(DeviceServer(device, [TOKEN]))
    with pytest.raises(InvalidTokenResponseError, match=f"has no '{missing}'"):
        _flow(server, Clock(100.0)).run()


def test_complete_uri_is_shown_and_browser_only_on_request(
    loopback: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("h2oauth_lite.login.device.open_in_browser", opened.append)
    device = dict(DEVICE, verification_uri_complete="http://127.0.0.1/device?user_code=ABCD-EFGH")
    server = loopback(DeviceServer(device, [TOKEN]))
    shown: list[str] = []
    _flow(server, Clock(100.0), output=shown.append).run()
    assert opened == []
    assert "http://127.0.0.1/device?user_code=ABCD-EFGH" in shown[0]
    _flow(server, Clock(100.0), open_browser=True).run()
    assert opened == ["http://127.0.0.1/device?user_code=ABCD-EFGH"]


def test_config_rejects_bad_combinations() -> None:
    from h2oauth_lite.errors import ConfigError

    with pytest.raises(ConfigError, match="exactly one"):
        Config()
    with pytest.raises(ConfigError, match="exactly one"):
        Config(issuer="https://a.example", host="https://b.example", client_id="x")
    with pytest.raises(ConfigError, match="client_id"):
        Config(issuer="https://a.example")
    with pytest.raises(ConfigError, match="holds its client"):
        Config(host="https://b.example", client_id="x")
    with pytest.raises(ConfigError, match="plain http"):
        Config(host="http://b.example")
    assert "s3cret" not in repr(
        Config(issuer="https://a.example", client_id="x", client_secret="s3cret")
    )
    assert Config(host="HTTPS://B.example:443/app").key == "https://b.example"


@pytest.mark.parametrize(
    ("interval", "expires_in", "expected"),
    [
        (2, "300", (2.0, 300.0)),
        (10**400, 10**400, (MAX_LIFETIME, MAX_LIFETIME)),  # beyond any float: capped
        (0, -1, (5.0, None)),  # not positive: the defaults
        (None, None, (5.0, None)),
    ],
)
def test_device_response_numbers(interval: Any, expires_in: Any, expected: tuple[Any, Any]) -> None:
    from h2oauth_lite.login.device import parse_device_authorization

    auth = parse_device_authorization({**DEVICE, "interval": interval, "expires_in": expires_in})
    assert (auth.interval, auth.expires_in) == expected


@pytest.mark.parametrize(("member", "value"), [("interval", "soon"), ("expires_in", True)])
def test_device_response_members_that_are_not_numbers(member: str, value: Any) -> None:
    from h2oauth_lite.login.device import parse_device_authorization

    with pytest.raises(InvalidTokenResponseError) as caught:
        parse_device_authorization({**DEVICE, member: value})
    assert str(caught.value).endswith(
        f"device authorization response member '{member}' is not a number of seconds"
    )
