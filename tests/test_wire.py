"""The wire and the error types: real HTTP on loopback, plus the pure error mapping."""

from __future__ import annotations

import base64
import pickle
import socket
import time
from typing import Callable
from urllib.parse import unquote_plus

import pytest

from h2oauth_lite import (
    AuthError,
    ClientCredentialsTokenProvider,
    ConfigError,
    InvalidTokenResponseError,
    RefreshTokenProvider,
    TokenEndpointError,
    TransportError,
)
from h2oauth_lite.errors import AccessDeniedError
from h2oauth_lite.wire.answers import error_from_response
from h2oauth_lite.wire.urls import safe_url
from tests.support.answers import token_body
from tests.support.loopback import NEVER_ANSWER, LoopbackServer, Request, Response, drip

SECRET = "s3cr3t:with%odd chars/é"
Loopback = Callable[..., LoopbackServer]


def token_answer(request: Request) -> Response:
    return Response(body=token_body(f"token-{request.path}", 60))


def provider_for(server: LoopbackServer, **options: object) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(
        server.url + "/token", "svc:id", SECRET, timeout=options.pop("timeout", 2), **options
    )


# -- the pure error mapping ---------------------------------------------------------


def test_error_members_are_read() -> None:
    body = b'{"error": "invalid_client", "error_description": "bad secret", "error_uri": "u"}'
    error = error_from_response(401, body)
    assert (error.status_code, error.error, error.error_description, error.error_uri) == (
        401,
        "invalid_client",
        "bad secret",
        "u",
    )
    assert str(error).startswith("Authentication request failed (status: 401 Unauthorized)")
    assert "invalid_client" in str(error) and "bad secret" in str(error)


def test_html_error_page_becomes_a_short_snippet() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 5000 + b"</body>"
    error = error_from_response(502, page)
    assert error.status_code == 502 and error.error is None
    assert "502 Bad Gateway" in str(error)
    assert "<" not in str(error) and len(str(error)) < 400


def test_detail_bodies_are_understood() -> None:
    error = error_from_response(400, b'{"detail": "Device flow failed: access_denied"}')
    assert error.error == "access_denied"
    assert "access_denied" in (error.error_description or "")


def test_empty_and_wrongly_typed_bodies() -> None:
    assert "empty response body" in str(error_from_response(500, b""))
    error = error_from_response(400, b'{"error": 5, "error_description": ["x"]}')
    assert error.error is None and error.error_description is None
    assert error_from_response(418, b"[1, 2]").status_code == 418


def test_unknown_status_code_formats() -> None:
    assert "status: 599)" in str(error_from_response(599, b""))


def test_safe_url_drops_credentials_query_and_fragment() -> None:
    assert safe_url("https://user:pw@idp.example.com:8443/t?code=x#f") == (
        "https://idp.example.com:8443/t"
    )


@pytest.mark.parametrize(
    "error",
    [
        TokenEndpointError(400, "invalid_grant", "gone", "https://e", detail="d"),
        InvalidTokenResponseError(200, detail="no access_token"),
        AccessDeniedError(400, "access_denied"),
        TransportError("could not reach x", url="https://x/t"),
        ConfigError("Missing environment variable: X"),
        AuthError("plain"),
    ],
)
def test_errors_pickle_with_their_attributes(error: AuthError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_config_error_is_a_runtime_error() -> None:
    assert issubclass(ConfigError, RuntimeError) and issubclass(ConfigError, AuthError)


# -- over HTTP -----------------------------------------------------------------------


def test_basic_auth_form_encodes_before_base64(loopback: Loopback) -> None:
    server = loopback(token_answer)
    provider_for(server, scope="api:read").get_token()
    request = server.requests[0]
    assert request.method == "POST"
    assert request.form == {"grant_type": "client_credentials", "scope": "api:read"}
    header = request.header("Authorization") or ""
    scheme, _, encoded = header.partition(" ")
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    assert scheme == "Basic"
    assert (unquote_plus(user), unquote_plus(password)) == ("svc:id", SECRET)
    assert ":" not in user  # the colon of the id was encoded, so the split is unambiguous


def test_client_secret_post_and_public_clients(loopback: Loopback) -> None:
    server = loopback(token_answer)
    provider_for(server, client_auth="client_secret_post", audience="api").get_token()
    assert server.requests[0].form == {
        "grant_type": "client_credentials",
        "client_id": "svc:id",
        "client_secret": SECRET,
        "audience": "api",
    }
    assert server.requests[0].header("Authorization") is None
    RefreshTokenProvider(server.url + "/token", "public-app", "r-1").get_token()
    assert server.requests[1].form == {
        "grant_type": "refresh_token",
        "refresh_token": "r-1",
        "client_id": "public-app",
    }


def test_extra_params_are_sent_and_cannot_override_the_grant(loopback: Loopback) -> None:
    server = loopback(token_answer)
    provider_for(server, extra_params={"resource": "urn:x", "grant_type": "password"}).get_token()
    assert server.requests[0].form["resource"] == "urn:x"
    assert server.requests[0].form["grant_type"] == "client_credentials"


def test_html_502_is_a_token_endpoint_error(loopback: Loopback) -> None:
    server = loopback(Response(502, "<html><body><h1>Bad Gateway</h1></body></html>"))
    with pytest.raises(TokenEndpointError) as caught:
        provider_for(server).get_token()
    assert caught.value.status_code == 502
    assert str(caught.value).startswith("Authentication request failed (status: 502 Bad Gateway)")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Response(200, b""), "not JSON"),
        (Response(200, "<html>ok</html>", {"Content-Type": "text/html"}), "not JSON (text/html)"),
        (Response(200, {"token": "x"}), "no 'access_token'"),
        (Response(200, {"access_token": 7}), "not a string"),
        (Response(200, [1]), "JSON array"),
    ],
)
def test_2xx_answers_that_are_not_token_responses(
    loopback: Loopback, answer: Response, reason: str
) -> None:
    server = loopback(answer)
    with pytest.raises(InvalidTokenResponseError) as caught:
        provider_for(server).get_token()
    assert reason in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("status", [200, 502])
def test_deeply_nested_json_is_not_json(loopback: Loopback, status: int) -> None:
    nested = b"[" * 200_000  # well under the body limit, far past the parser's recursion limit
    server = loopback(Response(status, nested, {"Content-Type": "application/json"}))
    with pytest.raises(TokenEndpointError) as caught:
        provider_for(server, retries=0).get_token()
    assert caught.value.status_code == status
    if status == 200:
        assert isinstance(caught.value, InvalidTokenResponseError)
        assert "not JSON" in str(caught.value)
    assert len(str(caught.value)) < 400


def test_redirect_is_never_followed(loopback: Loopback) -> None:
    elsewhere = loopback(token_answer)
    server = loopback(Response(302, b"", {"Location": elsewhere.url + "/steal?x=1"}))
    with pytest.raises(TokenEndpointError) as caught:
        provider_for(server).get_token()
    assert caught.value.status_code == 302
    assert "redirects are not followed" in str(caught.value)
    assert "x=1" not in str(caught.value)
    assert elsewhere.requests == []


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="over plain http"):
        ClientCredentialsTokenProvider("http://idp.example.com/token", "svc", "secret")
    # An explicit opt-in is honoured, and loopback needs none.
    ClientCredentialsTokenProvider(
        "http://idp.example.com/token", "svc", "secret", allow_insecure_http=True
    )
    for host in ("127.0.0.1", "localhost", "[::1]", "127.8.9.10"):
        ClientCredentialsTokenProvider(f"http://{host}:1/token", "svc", "secret")


@pytest.mark.parametrize(
    "url",
    ["", "idp.example.com/token", "ftp://idp.example.com/t", "https://", "https://[::1/token"],
)
def test_malformed_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        ClientCredentialsTokenProvider(url, "svc", "secret")


def test_server_that_never_answers_times_out(loopback: Loopback) -> None:
    server = loopback(lambda request: NEVER_ANSWER)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        provider_for(server, timeout=0.5).get_token()
    elapsed = time.monotonic() - started
    assert "no answer" in str(caught.value) and "0.5 s" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)  # chained from requests
    assert elapsed < 5  # bounded by the timeout, not by the server


def test_a_trickled_answer_is_cut_at_the_timeout(loopback: Loopback) -> None:
    # Each byte comes well within the timeout, the whole answer would take 60 s:
    # the timeout bounds the whole answer, not each socket read.
    body = b'{"access_token": "late", "expires_in": 60}' + b" " * 258
    server = loopback(lambda request: drip(body, interval=0.2))
    with pytest.raises(TransportError) as caught:
        provider_for(server, timeout=0.5, retries=0).get_token()
    assert str(caught.value) == (
        f"no complete answer from {server.url}/token within 0.5 s "
        "(token request (client_credentials grant))"
    )


def test_a_gzip_answer_is_decoded(loopback: Loopback) -> None:
    import gzip
    import json

    body = gzip.compress(json.dumps(token_body("zipped", 60)).encode())
    server = loopback(
        Response(200, body, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    )
    provider = provider_for(server)
    assert provider.get_token().access_token == "zipped"
    assert provider.get_token().access_token == "zipped"
    assert server.connections == 1


def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    provider = ClientCredentialsTokenProvider(f"http://127.0.0.1:{port}/token", "svc", "secret")
    with pytest.raises(TransportError, match="connection refused") as caught:
        provider.get_token()
    assert caught.value.__cause__ is not None
    assert "secret" not in str(caught.value)


def test_fifty_sequential_refreshes_use_one_connection(loopback: Loopback) -> None:
    server = loopback(token_answer)
    provider = provider_for(server)
    for _ in range(50):
        provider.get_token()
    assert len(server.requests) == 50
    assert server.connections == 1


def test_timeout_accepts_timedelta_and_rejects_nonsense(loopback: Loopback) -> None:
    from datetime import timedelta

    server = loopback(token_answer)
    assert provider_for(server, timeout=timedelta(seconds=3)).timeout == 3.0
    with pytest.raises(ValueError):
        provider_for(server, timeout=-1)
    with pytest.raises(ValueError, match="finite"):
        provider_for(server, timeout=float("inf"))  # no socket takes it
    with pytest.raises(TypeError):
        provider_for(server, timeout="10")


def test_issuer_discovery_is_fetched_once(loopback: Loopback) -> None:
    def answer(request: Request) -> Response:
        if request.path == "/.well-known/openid-configuration":
            return Response(body={"issuer": server.url, "token_endpoint": server.url + "/tok"})
        return token_answer(request)

    server = loopback(answer)
    provider = ClientCredentialsTokenProvider(
        client_id="svc", client_secret="secret", issuer_url=server.url + "/"
    )
    for _ in range(3):
        provider.get_token()
    paths = [request.path for request in server.requests]
    assert paths == ["/.well-known/openid-configuration", "/tok", "/tok", "/tok"]


def test_failed_discovery_is_retried_on_the_next_call(loopback: Loopback) -> None:
    answers = iter([Response(500, "down"), Response(body={"token_endpoint": "later"})])

    def answer(request: Request) -> Response:
        if request.path.startswith("/.well-known"):
            return next(answers)
        return token_answer(request)

    server = loopback(answer)
    # retries=0: the 503 would otherwise be retried within the first call.
    provider = ClientCredentialsTokenProvider(
        client_id="svc", client_secret="secret", issuer_url=server.url, retries=0
    )
    with pytest.raises(TokenEndpointError):
        provider.get_token()
    with pytest.raises(ConfigError, match="'later' has no scheme"):
        provider.get_token()  # fetched again; the document's endpoint is then checked


def test_issuer_without_token_endpoint(loopback: Loopback) -> None:
    server = loopback(Response(body={"issuer": "x"}))
    provider = ClientCredentialsTokenProvider(
        client_id="svc", client_secret="secret", issuer_url=server.url
    )
    with pytest.raises(ConfigError, match="does not advertise a token_endpoint"):
        provider.get_token()


def test_exactly_one_of_auth_url_and_issuer_url() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        ClientCredentialsTokenProvider(client_id="svc", client_secret="secret")
    with pytest.raises(ConfigError, match="exactly one"):
        ClientCredentialsTokenProvider("https://a/t", "svc", "secret", issuer_url="https://a")


def test_get_redirect_returns_the_target_unfollowed(loopback: Loopback) -> None:
    import requests

    from h2oauth_lite.wire.send import get_redirect

    target = loopback(token_answer)
    login = loopback(Response(302, b"", {"Location": "/authorize?state=s"}))
    with requests.Session() as session:
        assert get_redirect(session, login.url + "/login") == login.url + "/authorize?state=s"
        assert target.requests == []
        with pytest.raises(TokenEndpointError) as caught:
            get_redirect(session, target.url + "/login")  # a 200 is not the expected redirect
        assert caught.value.status_code == 200
        with pytest.raises(ConfigError, match="over plain http"):
            get_redirect(session, "http://idp.example.com/login")


def test_get_redirect_to_an_unreadable_address(loopback: Loopback) -> None:
    import requests

    from h2oauth_lite.wire.send import get_redirect

    login = loopback(Response(302, b"", {"Location": "http://[::1/authorize"}))
    with requests.Session() as session, pytest.raises(TokenEndpointError, match="unreadable"):
        get_redirect(session, login.url + "/login")


def test_token_endpoint_redirect_to_an_unreadable_address(loopback: Loopback) -> None:
    server = loopback(Response(302, b"", {"Location": "http://[::1/steal"}))
    with pytest.raises(TokenEndpointError, match="unreadable address") as caught:
        provider_for(server).get_token()
    assert caught.value.status_code == 302
