"""Servers and proxies that echo the request back: nothing the library sent may show.

Every kind of request (token requests of each grant and client authentication,
the discovery document, revocation, introspection, device authorization, the
device and code-flow token requests) meets an endpoint that answers with the
request it got, in the shapes real servers use: the raw form body, an HTML
error page quoting body and headers, a JSON ``error_description`` quoting the
``Authorization`` header, a JWT and a long base64 blob, a form-encoded token
answer, a FastAPI-style ``detail``. Each error's message, ``repr``, ``args``
and causes, every log record and every warning are scanned for the values
the request carried, and for the credential-shaped values the server made up.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from h2oauth_lite import (
    AuthError,
    ClientCredentialsTokenProvider,
    CodeFlow,
    DeviceFlow,
    JWTBearerTokenProvider,
    LoginServer,
    RefreshTokenProvider,
    TokenEndpointError,
)
from h2oauth_lite.client_auth.assertion import ClientSecretJWT, PrivateKeyJWT
from h2oauth_lite.wire.retry import RetryPolicy
from tests.faults.test_secrets import PRIVATE_KEY_PEM, Traces
from tests.support.loopback import Request, Response

CLIENT_SECRET = "cs-echo-Vb3Nm5Qw7Er9Ty1"
REFRESH_TOKEN = "rt-echo-Lk2Jh4Gf6Ds8Aa0"
REVOKED_TOKEN = "at-echo-Zx1Cv3Bn5Mm7Ll9"
DEVICE_CODE = "dc-echo-Pp2Oo4Ii6Uu8Yy0"
AUTH_CODE = "ac-echo-Qq1Ww3Ee5Rr7Tt9"
# Credential-shaped values only the server knows: it echoes them from elsewhere.
SERVER_JWT = (
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzb21lb25lLWVsc2UiLCJleHAiOjk5OTk5OTk5OTl9."
    "c2lnbmF0dXJlLW9mLWEtdG9rZW4tZnJvbS1lbHNld2hlcmU"
)
SERVER_BLOB = base64.b64encode(b"session-key-0123456789-abcdefghij-klmnop").decode("ascii")
NO_WAIT = RetryPolicy(retries=0)


def _shapes(request: Request) -> list[Response]:
    """The echoes of one request, as servers, gateways and debug pages write them."""
    body = request.body.decode("utf-8", "replace")
    auth = request.header("Authorization") or ""
    headers = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
    return [
        Response(400, f"bad request: {body}"),
        Response(
            400,
            f"<html><head><title>400</title></head><body><h1>400</h1><pre>{headers}\n\n{body}"
            "</pre></body></html>",
            {"Content-Type": "text/html"},
        ),
        Response(
            401,
            {
                "error": "invalid_client",
                "error_description": f"Authorization: {auth} refused for {body}",
            },
        ),
        Response(
            400,
            {
                "error": "invalid_grant",
                "error_description": f"token {SERVER_JWT} and key {SERVER_BLOB} do not match",
                "error_uri": f"https://idp.example/errors?request={body}",
            },
        ),
        Response(200, f"access_token={SERVER_BLOB}&token_type=bearer&echo={body}"),
        Response(422, {"detail": f"invalid_request: {json.dumps(dict(request.form))}"}),
    ]


class EchoServer:
    """Serves a discovery document, then echoes every other request in shape ``shape``."""

    def __init__(self) -> None:
        self.shape = 0
        self.echo_discovery = False
        self.sent: list[Request] = []
        self.url = ""
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.sent.append(request)
        if request.path.startswith("/.well-known/") and not self.echo_discovery:
            return Response(
                200,
                {
                    "issuer": self.url,
                    "token_endpoint": f"{self.url}/token",
                    "revocation_endpoint": f"{self.url}/revoke",
                    "introspection_endpoint": f"{self.url}/introspect",
                    "device_authorization_endpoint": f"{self.url}/device",
                    "authorization_endpoint": f"{self.url}/authorize",
                },
            )
        if request.path == "/device" and self.shape < 0:
            return Response(
                200,
                {"device_code": DEVICE_CODE, "user_code": "ABCD", "verification_uri": "https://v"},
            )
        return _shapes(request)[self.shape]


@pytest.fixture
def echo(loopback: Any) -> Iterator[EchoServer]:
    server = EchoServer()
    server.url = loopback(server).url
    yield server


def _requests(server: EchoServer) -> dict[str, Callable[[], Any]]:
    url, token_url = server.url, f"{server.url}/token"
    common: dict[str, Any] = {"timeout": 2, "retries": NO_WAIT}
    login = LoginServer(issuer=url, client_id="app", client_secret=CLIENT_SECRET)

    def device_poll() -> Any:
        server.shape, shape = -1, server.shape
        flow = DeviceFlow(login, output=lambda _line: None, sleep=lambda _s: None)
        authorization = flow.start()
        server.shape = shape
        return flow.poll(authorization)

    def code_exchange() -> Any:
        def browser(authorize_url: str) -> None:
            # The user's browser, not the library: urllib, so that its request is not in
            # the captured logs (the redirect carries the code in its query, as it must).
            query = dict(parse_qsl(urlsplit(authorize_url).query))
            answer = urlencode({"code": AUTH_CODE, "state": query["state"]})
            target = f"{query['redirect_uri']}?{answer}"
            threading.Thread(target=_visit, args=(target,), daemon=True).start()

        flow = CodeFlow(login, output=lambda _line: None, browser=browser, timeout=10)
        return flow.run()

    def discovery() -> Any:
        server.echo_discovery = True
        try:
            return ClientCredentialsTokenProvider(
                client_id="cc", client_secret=CLIENT_SECRET, issuer_url=url, **common
            ).get_token()
        finally:
            server.echo_discovery = False

    revoker = ClientCredentialsTokenProvider(
        client_id="cc", client_secret=CLIENT_SECRET, issuer_url=url, **common
    )
    return {
        "basic": ClientCredentialsTokenProvider(token_url, "cc", CLIENT_SECRET, **common).get_token,
        "post": ClientCredentialsTokenProvider(
            token_url, "cc", CLIENT_SECRET, client_auth="client_secret_post", **common
        ).get_token,
        "client_secret_jwt": ClientCredentialsTokenProvider(
            token_url, client_auth=ClientSecretJWT("cc", CLIENT_SECRET), **common
        ).get_token,
        "private_key_jwt": ClientCredentialsTokenProvider(
            token_url, client_auth=PrivateKeyJWT("cc", PRIVATE_KEY_PEM, alg="ES256"), **common
        ).get_token,
        "refresh": RefreshTokenProvider(
            token_url, "app", REFRESH_TOKEN, CLIENT_SECRET, **common
        ).get_token,
        "jwt_bearer": JWTBearerTokenProvider(
            token_url, "svc@example", "svc@example", PRIVATE_KEY_PEM, alg="ES256", **common
        ).get_token,
        "discovery document": discovery,
        "revocation": lambda: revoker.revoke(REVOKED_TOKEN, "access_token"),
        "introspection": lambda: revoker.introspect(REVOKED_TOKEN),
        "device authorization": DeviceFlow(login, output=lambda _line: None).start,
        "device token request": device_poll,
        "code-flow token request": code_exchange,
    }


def _visit(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as answer:
        answer.read()


def _sent_secrets(server: EchoServer) -> list[str]:
    """Every secret value that went out, in the forms it travelled in."""
    found = {CLIENT_SECRET, REFRESH_TOKEN, REVOKED_TOKEN, DEVICE_CODE, AUTH_CODE}
    found |= {line for line in PRIVATE_KEY_PEM.splitlines() if line and "-----" not in line}
    for request in server.sent:
        for name in ("assertion", "client_assertion", "code_verifier"):
            if name in request.form:
                found.add(request.form[name])
        auth = request.header("Authorization")
        if auth:
            found.add(auth.partition(" ")[2])
    return sorted(found)


def test_no_echoed_secret_in_any_error_log_or_warning(
    echo: EchoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    traces = Traces()
    failures: list[str] = []
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        shapes = _shapes(Request("POST", "/", {}, {}, b"", {}, ("", 0)))
        for shape, answer in enumerate(shapes):
            echo.shape = shape
            for kind, call in _requests(echo).items():
                try:
                    call()
                except AuthError as exc:
                    traces.add_exception(f"{kind} shape {shape}", exc)
                    if isinstance(exc, TokenEndpointError) and not exc.request:
                        failures.append(f"{kind} shape {shape}: no request kind in {exc!r}")
                else:
                    # Any 2xx answer to a revocation is success (RFC 7009 section 2.2).
                    if not (kind == "revocation" and answer.status == 200):
                        failures.append(f"{kind} shape {shape}: no error")
    for record in caplog.records:
        traces.add(f"log {record.name}", record.getMessage())
    for warning in caught_warnings:
        traces.add("warning", warning.message)

    assert not failures, failures
    assert len(traces.texts) > 200, "the scenarios left traces to scan"
    assert any("code_verifier" in r.form for r in echo.sent), "the code flow exchanged a code"
    assert any(r.form.get("device_code") == DEVICE_CODE for r in echo.sent), "the device polled"
    for secret in [*_sent_secrets(echo), SERVER_JWT, SERVER_BLOB]:
        for where, text in traces.texts:
            assert secret not in text, f"a secret appeared in {where}: {text}"


def test_what_a_person_needs_survives_the_scrubbing(echo: EchoServer) -> None:
    echo.shape = 2  # {"error": "invalid_client", "error_description": "Authorization: ..."}
    provider = ClientCredentialsTokenProvider(
        f"{echo.url}/token", "cc", CLIENT_SECRET, scope="api:read", retries=NO_WAIT
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert str(caught.value) == (
        "Authentication request failed (status: 401 Unauthorized): token request "
        f"(client_credentials grant) at {echo.url}/token; error: invalid_client; "
        "description: Authorization: <redacted> refused for "
        "scope=api%3Aread&grant_type=client_credentials"
    )
    echo.shape = 5  # {"detail": "invalid_request: {form as JSON}"}
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_request"
    assert caught.value.error_description == (
        'invalid_request: {"scope": "api:read", "grant_type": "client_credentials"}'
    )
