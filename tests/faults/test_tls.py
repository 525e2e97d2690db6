"""Transport security against a loopback HTTPS server whose CA the test makes."""

from __future__ import annotations

import logging
import ssl
import warnings
from pathlib import Path
from typing import Any

import pytest

from h2oauth_lite import ClientCredentialsTokenProvider, ConfigError, TokenEndpointError
from h2oauth_lite.errors import TransportError
from tests.faults.certs import LocalPKI, make_pki
from tests.support.answers import Script, good
from tests.support.loopback import Response


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def https(loopback: Any, pki: LocalPKI) -> Any:
    return loopback(Script(good("tok-tls")), tls=pki.server_context())


def _provider(url: str, **options: Any) -> ClientCredentialsTokenProvider:
    return ClientCredentialsTokenProvider(f"{url}/token", "cc", "cc-secret", timeout=5, **options)


def test_an_unknown_ca_is_refused_by_default(https: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert https.url.startswith("https://")
    with pytest.raises(TransportError) as caught:
        _provider(https.url).get_token()
    assert "TLS handshake" in str(caught.value)
    assert https.requests == []


def test_verify_with_a_ca_bundle_path(https: Any, pki: LocalPKI) -> None:
    assert _provider(https.url, verify=str(pki.ca_file)).get_token().access_token == "tok-tls"


def test_ssl_context_with_the_ca(https: Any, pki: LocalPKI) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    # A host name: urllib3 1.26 sends no server name for an IP address, which a
    # context that checks host names refuses.
    url = https.url.replace("127.0.0.1", "localhost")
    assert _provider(url, ssl_context=context).get_token().access_token == "tok-tls"


def test_requests_ca_bundle_from_the_environment(
    https: Any, pki: LocalPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_file))
    assert _provider(https.url).get_token().access_token == "tok-tls"


def test_verify_false_works_only_with_a_warning(
    https: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="h2oauth_lite")
    with pytest.warns(UserWarning, match="verification is off"):
        provider = _provider(https.url, verify=False)
    assert any("verification is off" in r.getMessage() for r in caplog.records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # urllib3's own InsecureRequestWarning
        assert provider.get_token().access_token == "tok-tls"


def test_verification_stays_on_without_a_word(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = _provider("https://idp.example")
    assert provider.session.verify is True
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [w for w in recwarn if "verification" in str(w.message)]


def test_plain_http_only_for_loopback_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        _provider("http://idp.example")
    assert _provider("http://idp.example", allow_insecure_http=True).token_endpoint.startswith(
        "http://idp.example"
    )


def test_redirects_are_never_followed(loopback: Any) -> None:
    elsewhere = loopback(Script(good("stolen")))
    script = Script(Response(307, b"", {"Location": f"{elsewhere.url}/token?x=1"}))
    server = loopback(script)
    with pytest.raises(TokenEndpointError) as caught:
        _provider(server.url).get_token()
    assert caught.value.status_code == 307
    assert "redirects are not followed" in str(caught.value)
    assert elsewhere.requests == []


def test_ssl_context_provider_refuses_to_pickle(pki: LocalPKI, tmp_path: Path) -> None:
    import pickle

    context = ssl.create_default_context(cafile=str(pki.ca_file))
    with pytest.raises(TypeError, match=r"verify='/path/ca\.pem'"):
        pickle.dumps(_provider("https://idp.example", ssl_context=context))


def test_an_explicit_verify_beats_requests_ca_bundle(
    https: Any, pki: LocalPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    # requests alone would let the variable replace the session's CA bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    assert _provider(https.url, verify=str(pki.ca_file)).get_token().access_token == "tok-tls"
    with pytest.warns(UserWarning), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        unverified = _provider(https.url, verify=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert unverified.get_token().access_token == "tok-tls"
