"""Resource indicators (RFC 8707), PAR (RFC 9126) and the iss check (RFC 9207) of the code flow."""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import pytest
import requests

from h2oauth_lite import (
    ClientCredentialsTokenProvider,
    CodeFlow,
    Config,
    ConfigError,
    InvalidTokenResponseError,
    TokenEndpointError,
)
from tests.support.idp import OIDCServer
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]


class Browser:
    """Logs in at the provider for each URL shown; ``rewrite`` may alter the redirect."""

    def __init__(self, oidc: OIDCServer, rewrite: Optional[Callable[[str], str]] = None) -> None:
        self.oidc = oidc
        self.rewrite = rewrite or (lambda location: location)
        self.urls: list[str] = []
        self.errors: list[BaseException] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        threading.Thread(target=self._visit, args=(url,), daemon=True).start()

    def _visit(self, url: str) -> None:
        try:
            location = self.oidc.complete_authorization(url)
            requests.get(self.rewrite(location), timeout=10)
        except BaseException as exc:
            self.errors.append(exc)


def _flow(oidc: OIDCServer, browser: Browser, **options: Any) -> CodeFlow:
    config = Config(issuer=oidc.issuer, client_id="app-public", scope="openid offline_access")
    return CodeFlow(config, browser=browser, output=lambda _m: None, timeout=30, **options)


@pytest.mark.interop
def test_the_code_flow_pushes_its_request_when_the_server_offers_par(oidc: OIDCServer) -> None:
    assert oidc.metadata["pushed_authorization_request_endpoint"]
    browser = Browser(oidc)
    token = _flow(oidc, browser, resource=oidc.opaque_resource).run()
    assert not browser.errors, browser.errors
    query = parse_qs(urlsplit(browser.urls[0]).query)
    assert set(query) == {"client_id", "request_uri"}  # nothing else crosses the browser
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    assert token.refresh_token and token.id_token
    assert token.access_token.count(".") != 2  # the opaque resource's token: resource was sent


@pytest.mark.interop
def test_par_false_sends_the_request_through_the_browser(oidc: OIDCServer) -> None:
    browser = Browser(oidc)
    _flow(oidc, browser, par=False, resource=oidc.default_resource).run()
    query = parse_qs(urlsplit(browser.urls[0]).query)
    assert query["resource"] == [oidc.default_resource] and "request_uri" not in query


@pytest.mark.interop
def test_an_authorization_response_from_another_issuer_is_refused(oidc: OIDCServer) -> None:
    assert oidc.metadata["authorization_response_iss_parameter_supported"] is True

    def mix_up(location: str) -> str:
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query))
        query["iss"] = "https://attacker.example"
        return urlunsplit(parts._replace(query=urlencode(query)))

    with pytest.raises(InvalidTokenResponseError, match="RFC 9207") as caught:
        _flow(oidc, Browser(oidc, rewrite=mix_up)).run()
    assert "attacker.example" in str(caught.value)


@pytest.mark.interop
def test_a_missing_iss_is_refused_when_the_server_promises_one(oidc: OIDCServer) -> None:
    def drop_iss(location: str) -> str:
        parts = urlsplit(location)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "iss"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    with pytest.raises(InvalidTokenResponseError, match="has no iss"):
        _flow(oidc, Browser(oidc, rewrite=drop_iss)).run()


def test_par_true_without_an_advertised_endpoint_is_a_config_error(loopback: Loopback) -> None:
    def discovery(request: Request) -> Response:
        base = f"http://127.0.0.1:{server.port}"
        document = {
            "issuer": base,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
        }
        return Response(200, document)

    server = loopback(discovery)
    config = Config(issuer=server.url, client_id="app", scope="openid")
    flow = CodeFlow(config, browser=lambda _u: None, output=lambda _m: None, par=True)
    with pytest.raises(ConfigError, match="advertises no pushed_authorization_request_endpoint"):
        flow._prepare("http://127.0.0.1:9/callback")


# -- resource= on the grants ----------------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("resource", ["urn:h2oauth-lite:api", "urn:h2oauth-lite:opaque"])
def test_client_credentials_for_a_resource(oidc: OIDCServer, resource: str) -> None:
    entry = oidc.client("cc-basic")
    token = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry["client_secret"],
        resource=resource,
        scope="api:read",
    ).get_token()
    if resource == oidc.default_resource:
        claims = jwt.decode(token.access_token, options={"verify_signature": False})
        assert claims["aud"] == resource
    else:
        assert token.access_token.count(".") != 2


@pytest.mark.interop
def test_an_unknown_resource_is_the_servers_invalid_target(oidc: OIDCServer) -> None:
    entry = oidc.client("cc-basic")
    provider = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=entry["client_id"],
        client_secret=entry["client_secret"],
        resource="urn:nobody",
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_target"


def test_several_resources_repeat_the_parameter(loopback: Loopback) -> None:
    forms: list[dict[str, list[str]]] = []

    def answer(request: Request) -> Response:
        forms.append(parse_qs(request.body.decode()))
        return Response(200, {"access_token": "a", "token_type": "Bearer"})

    server = loopback(answer)
    ClientCredentialsTokenProvider(
        f"{server.url}/token", "c", "s", resource=["urn:a", "urn:b"]
    ).get_token()
    assert forms[0]["resource"] == ["urn:a", "urn:b"]
    with pytest.raises(ConfigError, match="resource must be"):
        ClientCredentialsTokenProvider(f"{server.url}/token", "c", "s", resource=[])
