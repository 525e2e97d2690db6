"""Mutual TLS (RFC 8705) against oidc-provider behind a loopback TLS terminator."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from h2oauth_lite import (
    AuthCache,
    BearerAuth,
    ClientCredentialsTokenProvider,
    ConfigError,
    TokenEndpointError,
    TransportError,
)
from h2oauth_lite.client_auth.tls import KeyFileWarning, SelfSignedTLSClientAuth, TLSClientAuth
from tests.support.dpop_resource import provider_keys
from tests.support.idp import OIDCServer
from tests.support.mtls_proxy import (
    PKI,
    make_pki,
    self_signed_pair,
    start_bound_resource,
    start_terminator,
    thumbprint,
)

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("mtls"))


@pytest.fixture(scope="module")
def terminator(oidc: OIDCServer, pki: PKI) -> Iterator[str]:
    running = start_terminator(pki, oidc.mtls_port, oidc.port, oidc.proxy_secret)
    try:
        yield running.url
    finally:
        running.stop()


def _provider(oidc: OIDCServer, pki: PKI, client: str, cert: Any, **options: Any) -> Any:
    return ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer,
        client_id=client,
        client_auth=oidc.client(client)["token_endpoint_auth_method"],
        cert=cert,
        verify=str(pki.ca_file),
        resource=oidc.default_resource,
        **options,
    )


def _pki_cert(pki: PKI) -> tuple[str, str]:
    return str(pki.client_cert), str(pki.client_key)


def test_tls_client_auth_through_the_mtls_alias(
    oidc: OIDCServer, pki: PKI, terminator: str
) -> None:
    provider = _provider(oidc, pki, "mtls-pki", _pki_cert(pki))
    assert isinstance(provider.client_auth, TLSClientAuth)
    assert provider.token_endpoint == f"{terminator}/token"  # the alias, not the plain endpoint
    token = provider.get_token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    der = _der(pki.client_cert)
    assert claims["cnf"] == {"x5t#S256": thumbprint(der)}
    assert claims["client_id"] == "mtls-pki"
    # The other aliased endpoints too.
    assert provider.endpoint.endpoint("introspection_endpoint") == (
        f"{terminator}/token/introspection"
    )


def test_self_signed_tls_client_auth(
    oidc: OIDCServer, pki: PKI, terminator: str, tmp_path: Path
) -> None:
    provider = _provider(oidc, pki, "mtls-self-signed", self_signed_pair(tmp_path))
    assert isinstance(provider.client_auth, SelfSignedTLSClientAuth)
    claims = jwt.decode(provider.get_token().access_token, options={"verify_signature": False})
    assert "x5t#S256" in claims["cnf"]


def test_a_certificate_bound_token_through_bearer_auth_on_the_same_session(
    oidc: OIDCServer, pki: PKI, terminator: str
) -> None:
    accepted: list[dict[str, Any]] = []
    resource = start_bound_resource(pki, provider_keys(oidc.jwks_uri), accepted)
    try:
        provider = _provider(oidc, pki, "mtls-pki", _pki_cert(pki))
        auth = BearerAuth(AuthCache(provider))
        # verify= per request: requests lets REQUESTS_CA_BUNDLE override the session's.
        answer = provider.session.get(
            f"{resource.url}/api", auth=auth, verify=str(pki.ca_file), timeout=10
        )
        assert answer.status_code == 200, answer.text
        # Another certificate on the connection: the bound token is refused.
        other = requests.Session()
        other.cert = (str(pki.other_cert), str(pki.other_key))
        refused = other.get(f"{resource.url}/api", auth=auth, verify=str(pki.ca_file), timeout=10)
        assert refused.status_code == 401
    finally:
        resource.stop()
    assert len(accepted) == 1


def test_a_wrong_certificate_is_the_servers_invalid_client(
    oidc: OIDCServer, pki: PKI, terminator: str
) -> None:
    provider = _provider(oidc, pki, "mtls-pki", (str(pki.other_cert), str(pki.other_key)))
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_client"
    assert "BEGIN" not in str(caught.value)


def test_no_certificate_means_no_mtls_alias_and_no_client(
    oidc: OIDCServer, pki: PKI, terminator: str
) -> None:
    provider = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer, client_id="mtls-pki", client_auth="tls_client_auth"
    )
    assert provider.token_endpoint == oidc.token_endpoint
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_client"


def test_proxy_headers_from_a_client_are_not_believed(oidc: OIDCServer, pki: PKI) -> None:
    # Straight to the provider, pretending to be the proxy without its secret.
    pem = pki.client_cert.read_text()
    answer = requests.post(
        oidc.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": "mtls-pki"},
        headers={
            "x-ssl-client-cert": requests.utils.quote(pem, safe=""),
            "x-ssl-client-verify": "SUCCESS",
        },
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_an_untrusted_certificate_fails_the_handshake(
    oidc: OIDCServer, pki: PKI, terminator: str, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path)  # another CA altogether
    cert = (str(stranger.client_cert), str(stranger.client_key))
    provider = _provider(oidc, pki, "mtls-pki", cert)
    with pytest.raises(TransportError):
        provider.get_token()


def test_key_file_permissions_and_bad_paths(pki: PKI, tmp_path: Path) -> None:
    loose = tmp_path / "loose-key.pem"
    loose.write_bytes(pki.client_key.read_bytes())
    os.chmod(loose, 0o644)
    with pytest.warns(KeyFileWarning, match="chmod 600"):
        ClientCredentialsTokenProvider(
            "https://as.example/token",
            "c",
            client_auth="tls_client_auth",
            cert=(str(pki.client_cert), str(loose)),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ClientCredentialsTokenProvider(
            "https://as.example/token", "c", client_auth="tls_client_auth", cert=_pki_cert(pki)
        )
    with pytest.raises(ConfigError, match="cannot read the client certificate"):
        ClientCredentialsTokenProvider(
            "https://as.example/token", "c", cert=str(tmp_path / "missing.pem")
        )
    with pytest.raises(ConfigError, match="cert= or a session"):
        ClientCredentialsTokenProvider(
            "https://as.example/token", "c", cert=_pki_cert(pki), session=requests.Session()
        )


def _der(path: Path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)
