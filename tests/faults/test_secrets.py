"""No secret ever leaves: scenarios with known secret values, and every trace they leave scanned.

Each scenario runs against a loopback endpoint; afterwards every log record
captured at DEBUG (all loggers, urllib3's included), every exception's
message and repr (with its causes), every repr of the objects involved, every
warning and the CLI's output are searched for the secrets, in clear and in
the encodings they travel in (Basic credentials, the signed assertions the
server received).
"""

from __future__ import annotations

import base64
import logging
import pickle
import threading
import warnings
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from h2oauth_lite import (
    AuthCache,
    BearerAuth,
    ClientCredentialsTokenProvider,
    DPoPKey,
    RefreshTokenProvider,
)
from h2oauth_lite.cli import main as cli_main
from h2oauth_lite.client_auth.assertion import ClientSecretJWT, PrivateKeyJWT
from h2oauth_lite.grants.jwt_bearer import JWTBearerTokenProvider
from h2oauth_lite.settings import read_settings
from h2oauth_lite.wire.retry import RetryPolicy
from tests.support.answers import Script, closed_port, token_body
from tests.support.loopback import NEVER_ANSWER, RESET, Request, Response

CLIENT_SECRET = "cs-Q7vZ9kL2mW4xR8tYe1"
REFRESH_TOKEN = "rt-H3jK5nP7qS9uV1wXa2"
ROTATED_REFRESH_TOKEN = "rt-rotated-M4bC6dE8fG0hI2"
ACCESS_TOKEN = "at-B2dF4gJ6lN8pR0sTc3"
SECOND_ACCESS_TOKEN = "at-second-K8jH6gF4dS2aQ0"
ID_TOKEN = "it-Z9yX7wV5uT3sR1qPd4"
_KEY = ec.generate_private_key(ec.SECP256R1())
PRIVATE_KEY_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode("ascii")
_DPOP_KEY = ec.generate_private_key(ec.SECP256R1())
DPOP_KEY_PEM = _DPOP_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode("ascii")
NO_WAIT = RetryPolicy(retries=2, backoff_factor=0.0, sleep=lambda _seconds: None)


def _fragments(secret: str) -> list[str]:
    """The secret itself and the parts of it that would betray it."""
    if "PRIVATE KEY" in secret:
        lines = [line for line in secret.splitlines() if line and "-----" not in line]
        return [secret, *lines]  # each base64 line of the key is 64 secret characters
    return [secret]


class Endpoint:
    """Token endpoint whose answer each scenario sets; records what clients sent."""

    def __init__(self) -> None:
        self.script = Script(self.ok())
        self.sent: list[Request] = []
        self.lock = threading.Lock()

    @staticmethod
    def ok(**extra: Any) -> Response:
        body = token_body(ACCESS_TOKEN, 300, refresh_token=ROTATED_REFRESH_TOKEN, id_token=ID_TOKEN)
        body.update(extra)  # a scenario may replace any member, the access token too
        return Response(200, body)

    def __call__(self, request: Request) -> Any:
        with self.lock:
            self.sent.append(request)
        return self.script(request)


class Traces:
    """Everything a scenario left behind that a person or a log system could read."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: object) -> None:
        self.texts.append((where, str(text)))

    def add_exception(self, where: str, exc: BaseException) -> None:
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            self.add(f"{where}: str", current)
            self.add(f"{where}: repr", repr(current))
            self.add(f"{where}: args", repr(current.args))
            current = current.__cause__ or current.__context__

    def attempt(self, where: str, call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except Exception as exc:
            self.add_exception(where, exc)
            return None
        self.add(f"{where}: result repr", repr(result))
        return result


@pytest.fixture
def endpoint(loopback: Any) -> Iterator[tuple[Endpoint, str]]:
    handler = Endpoint()
    server = loopback(handler)
    yield handler, f"{server.url}/token"


def _html(status: int) -> Response:
    return Response(status, "<html><h1>Gateway trouble</h1></html>", {"Content-Type": "text/html"})


ERROR_ANSWERS = [
    Response(400, {"error": "invalid_client", "error_description": "client authentication failed"}),
    Response(401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"}),
    Response(400, {"error": "invalid_grant", "error_description": "grant revoked"}),
    _html(503),
    _html(500),
    Response(200, "<html>Please log in</html>", {"Content-Type": "text/html"}),
    Response(200, {"access_token": 5}),
    Response(200, [ACCESS_TOKEN.upper()]),
    Response(302, b"", {"Location": f"https://elsewhere.example/cb?token={ACCESS_TOKEN}#frag"}),
    RESET,
    NEVER_ANSWER,
]


def _providers(url: str) -> dict[str, Any]:
    common: dict[str, Any] = {"timeout": 0.3, "retries": NO_WAIT}
    return {
        "basic": ClientCredentialsTokenProvider(url, "cc", CLIENT_SECRET, **common),
        "post": ClientCredentialsTokenProvider(
            url, "cc", CLIENT_SECRET, client_auth="client_secret_post", **common
        ),
        "client_secret_jwt": ClientCredentialsTokenProvider(
            url, client_auth=ClientSecretJWT("cc", CLIENT_SECRET), **common
        ),
        "private_key_jwt": ClientCredentialsTokenProvider(
            url, client_auth=PrivateKeyJWT("cc", PRIVATE_KEY_PEM, alg="ES256"), **common
        ),
        "refresh": RefreshTokenProvider(url, "app", REFRESH_TOKEN, CLIENT_SECRET, **common),
        "dpop": RefreshTokenProvider(
            url, "app", REFRESH_TOKEN, CLIENT_SECRET, dpop_key=DPoPKey(DPOP_KEY_PEM), **common
        ),
        "jwt_bearer": JWTBearerTokenProvider(
            url, "svc@example", "svc@example", PRIVATE_KEY_PEM, alg="ES256", **common
        ),
    }


def test_no_secret_in_any_trace(
    endpoint: tuple[Endpoint, str],
    loopback: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, url = endpoint
    traces = Traces()
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        providers = _providers(url)
        for name, provider in providers.items():
            handler.script.then(Endpoint.ok())
            traces.attempt(f"{name} success", provider.get_token)
            for number, answer in enumerate(ERROR_ANSWERS):
                handler.script.then(answer)
                traces.attempt(f"{name} error {number}", provider.get_token)
            traces.add(f"{name} repr", repr(provider))
            traces.add(f"{name} client_auth repr", repr(provider.client_auth))
            copy = traces.attempt(
                f"{name} pickle", lambda p=provider: pickle.loads(pickle.dumps(p))
            )
            traces.add(f"{name} copy repr", repr(copy))

        _cache_scenarios(handler, url, loopback, traces)
        handler.script.then(Endpoint.ok())
        _cli_scenarios(url, traces, capsys, monkeypatch)
        unverified = traces.attempt(
            "verify=False",
            lambda: ClientCredentialsTokenProvider(url, "cc", CLIENT_SECRET, verify=False),
        )
        traces.add("unverified repr", repr(unverified))
        refused = ClientCredentialsTokenProvider(
            f"http://127.0.0.1:{closed_port()}/token", "cc", CLIENT_SECRET, retries=NO_WAIT
        )
        traces.attempt("refused", refused.get_token)
    for record in caplog.records:
        traces.add(f"log {record.name}", record.getMessage())
        if record.exc_info:
            traces.add(
                f"log {record.name} exc", logging.Formatter().formatException(record.exc_info)
            )
    for warning in caught_warnings:
        traces.add("warning", warning.message)

    secrets = [CLIENT_SECRET, REFRESH_TOKEN, ROTATED_REFRESH_TOKEN, ACCESS_TOKEN, ID_TOKEN]
    secrets.append(SECOND_ACCESS_TOKEN)
    secrets.append(PRIVATE_KEY_PEM)
    secrets.append(DPOP_KEY_PEM)
    dpop_d = _DPOP_KEY.private_numbers().private_value
    secrets.append(base64.urlsafe_b64encode(dpop_d.to_bytes(32, "big")).rstrip(b"=").decode())
    secrets.append(str(dpop_d))
    secrets.append(base64.b64encode(f"cc:{CLIENT_SECRET}".encode()).decode("ascii"))
    for request in handler.sent:  # the signed assertions, as the server received them
        for field in ("assertion", "client_assertion"):
            if field in request.form:
                secrets.append(request.form[field])
    assertions = [r for r in handler.sent if "assertion" in r.form or "client_assertion" in r.form]
    assert assertions, "the assertion scenarios ran"
    assert len(traces.texts) > 200, "the scenarios left traces to scan"
    assert any(name.startswith("log urllib3") for name, _ in traces.texts), "DEBUG was captured"
    for secret in secrets:
        for fragment in _fragments(secret):
            for where, text in traces.texts:
                assert fragment not in text, f"a secret appeared in {where}"


def _cache_scenarios(handler: Endpoint, url: str, loopback: Any, traces: Traces) -> None:
    clock = [1_000_000.0]
    provider = RefreshTokenProvider(
        url,
        "app",
        REFRESH_TOKEN,
        CLIENT_SECRET,
        timeout=0.3,
        retries=NO_WAIT,
        clock=lambda: clock[0],
    )
    cache = AuthCache(provider, refresh_ahead=0, clock=lambda: clock[0], monotonic=lambda: clock[0])
    handler.script.then(Endpoint.ok())
    token = traces.attempt("cache first", cache.get_token)
    traces.add("token repr", repr(token))
    traces.add("token str", str(token))
    traces.add("access token repr", repr(token.as_access_token()))
    traces.add("cache repr", repr(cache))
    handler.script.then(Response(400, {"error": "invalid_grant"}))
    clock[0] += 298  # stale: the refresh fails, the grace warning is logged
    traces.attempt("cache grace", cache.get_token)
    clock[0] += 10
    traces.attempt("cache expired", cache.get_token)
    resource_calls: list[str] = []

    def resource(request: Request) -> Response:
        resource_calls.append(request.header("Authorization") or "")
        return Response(401 if len(resource_calls) == 1 else 200, {"ok": True})

    api = loopback(resource)
    second = Endpoint.ok(access_token=SECOND_ACCESS_TOKEN)
    handler.script.then(Endpoint.ok(), second)
    auth = BearerAuth(AuthCache(ClientCredentialsTokenProvider(url, "cc", CLIENT_SECRET)))
    traces.add("bearer repr", repr(auth))
    traces.attempt("bearer", lambda: requests.get(f"{api.url}/x", auth=auth, timeout=5).status_code)
    assert len(resource_calls) == 2
    traces.add(
        "settings repr",
        repr(
            read_settings(
                {
                    "H2O_AUTHN_URI": url,
                    "H2O_AUTHN_CLIENT_ID": "app",
                    "H2O_AUTHN_CLIENT_SECRET": CLIENT_SECRET,
                    "H2O_AUTHN_REFRESH_TOKEN": REFRESH_TOKEN,
                }
            )
        ),
    )


def _cli_scenarios(
    url: str, traces: Traces, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_AUTHN_URI", url)
    monkeypatch.setenv("H2O_AUTHN_CLIENT_ID", "cc")
    monkeypatch.setenv("H2O_AUTHN_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.delenv("H2O_AUTHN_REFRESH_TOKEN", raising=False)
    capsys.readouterr()
    # Printing the access token is what `token` is for; nothing else may appear.
    assert cli_main(["token"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{ACCESS_TOKEN}\n"
    traces.add("cli success stderr", err)
    monkeypatch.setenv("H2O_AUTHN_REFRESH_TOKEN", REFRESH_TOKEN)
    monkeypatch.setenv("H2O_AUTHN_URI", f"http://127.0.0.1:{closed_port()}/token")
    assert cli_main(["token"]) == 1
    out, err = capsys.readouterr()
    assert "could not reach" in err
    traces.add("cli failure stdout", out)
    traces.add("cli failure stderr", err)
    monkeypatch.delenv("H2O_AUTHN_CLIENT_ID")
    assert cli_main(["token"]) == 1
    out, err = capsys.readouterr()
    assert "H2O_AUTHN_CLIENT_ID" in err
    traces.add("cli config stdout", out)
    traces.add("cli config stderr", err)
