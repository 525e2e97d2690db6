"""TokenProvider: h2o-authn 3.1.0's behaviour, and the fixes, against real HTTP servers."""

from __future__ import annotations

import itertools
import pickle
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import requests

import h2oauth_lite
from h2oauth_lite import AccessToken, ArgumentError, ConfigError, TokenEndpointError, TokenProvider
from h2oauth_lite.errors import InvalidTokenResponseError
from h2oauth_lite.h2o import token_provider as token_provider_module
from h2oauth_lite.h2o.discovery import Client, Credentials, Discovery, Environment
from tests.support.answers import token_body
from tests.support.clock import Clock
from tests.support.discovery_server import CloudServer
from tests.support.loopback import Request, Response
from tests.support.threads import run_together


@pytest.fixture
def clock() -> Clock:
    return Clock(0.0)


@pytest.fixture(autouse=True)
def _no_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("H2O_CLOUD_TOKEN_ENDPOINT_URL", raising=False)


def make(cloud: CloudServer, clock: Clock, **options: Any) -> TokenProvider:
    options.setdefault("token_endpoint_url", cloud.token_url)
    options.setdefault("refresh_token", "rt-0")
    options.setdefault("client_id", "test-client-id")
    return TokenProvider(clock=clock.time, monotonic=clock.monotonic, **options)


# -- construction -------------------------------------------------------------


def test_issuer_and_token_endpoint_together_are_mutually_exclusive() -> None:
    with pytest.raises(ValueError, match="mutually exclusive") as caught:
        TokenProvider(
            refresh_token="rt",
            client_id="c",
            issuer_url="http://127.0.0.1:1/",
            token_endpoint_url="http://127.0.0.1:1/token",
        )
    assert isinstance(caught.value, ArgumentError)
    assert isinstance(caught.value, h2oauth_lite.ConfigError)


def test_an_endpoint_or_issuer_argument_is_required() -> None:
    with pytest.raises(ValueError, match="argument is required") as caught:
        TokenProvider(refresh_token="rt", client_id="c")
    assert "H2O_CLOUD_TOKEN_ENDPOINT_URL" in str(caught.value)


def test_environment_variable_supplies_the_endpoint(
    cloud: CloudServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_CLOUD_TOKEN_ENDPOINT_URL", cloud.token_url)
    provider = TokenProvider(
        refresh_token="rt-0", client_id="c", clock=clock.time, monotonic=clock.monotonic
    )
    assert provider() == "at-1"


def test_environment_variable_wins_over_issuer_discovery(
    cloud: CloudServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_CLOUD_TOKEN_ENDPOINT_URL", cloud.token_url)
    provider = make(cloud, clock, token_endpoint_url=None, issuer_url="http://127.0.0.1:9/")
    assert provider() == "at-1"
    assert cloud.requests_to("/.well-known/openid-configuration") == []


def test_explicit_endpoint_wins_over_environment_variable(
    cloud: CloudServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_CLOUD_TOKEN_ENDPOINT_URL", "http://127.0.0.1:9/never")
    assert make(cloud, clock)() == "at-1"
    assert len(cloud.token_requests()) == 1


def test_issuer_discovery_is_fetched_once(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock, token_endpoint_url=None, issuer_url=cloud.url + "/")
    provider.token()
    clock.advance(4000)
    provider.token()
    assert len(cloud.token_requests()) == 2
    assert len(cloud.requests_to("/.well-known/openid-configuration")) == 1


@pytest.mark.parametrize(("argument", "value"), [("refresh_token", ""), ("refresh_token", "  "),
                                                 ("client_id", "")])
def test_empty_arguments_are_argument_errors(
    cloud: CloudServer, clock: Clock, argument: str, value: str
) -> None:
    # One type for every argument error of the drop-in: ArgumentError, a ValueError
    # as h2o-authn raises, and a ConfigError as the rest of this library raises.
    with pytest.raises(ArgumentError, match=f"the '{argument}' argument is required") as caught:
        make(cloud, clock, **{argument: value})
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ConfigError)


# -- the refresh request --------------------------------------------------------


def test_refresh_form_of_a_public_client(cloud: CloudServer, clock: Clock) -> None:
    make(cloud, clock).token()
    (sent,) = cloud.token_requests()
    assert sent.form == {
        "grant_type": "refresh_token",
        "client_id": "test-client-id",
        "refresh_token": "rt-0",
    }
    assert sent.header("Authorization") is None


def test_secret_and_scope_go_in_the_form_body(cloud: CloudServer, clock: Clock) -> None:
    make(cloud, clock, client_secret="s3cr3t", scope="input scope").token()
    (sent,) = cloud.token_requests()
    assert sent.form == {
        "grant_type": "refresh_token",
        "client_id": "test-client-id",
        "refresh_token": "rt-0",
        "client_secret": "s3cr3t",
        "scope": "input scope",
    }
    assert sent.header("Authorization") is None


def test_call_returns_a_plain_str_and_token_an_access_token(
    cloud: CloudServer, clock: Clock
) -> None:
    cloud.state.expires_in = 3600
    provider = make(cloud, clock, scope="new scope")
    value = provider()
    assert type(value) is str and value == "at-1"
    token = provider.token()
    assert isinstance(token, AccessToken) and isinstance(token, str)
    assert token == "at-1" and str(token) == "at-1"
    assert token.scope == "new scope"
    assert token.exp == datetime.fromtimestamp(3600, tz=timezone.utc)
    assert token.exp.tzinfo is not None
    assert len(cloud.token_requests()) == 1  # the second call came from memory


# -- when to refresh ------------------------------------------------------------


def test_refreshes_once_the_expiry_is_within_the_threshold(
    cloud: CloudServer, clock: Clock
) -> None:
    provider = make(cloud, clock)  # expires_in 3600, threshold 5 s
    provider.token()
    clock.advance(3594.9)
    assert provider.token() == "at-1"
    clock.advance(0.1)
    assert provider.token() == "at-2"
    assert len(cloud.token_requests()) == 2


def test_a_long_threshold_refreshes_early(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock, expiry_threshold=timedelta(seconds=2000))
    provider.token()
    clock.advance(1800)
    assert provider.token() == "at-2"


def test_without_expires_in_the_fallback_lifetime_applies(cloud: CloudServer, clock: Clock) -> None:
    cloud.state.expires_in = None
    provider = make(cloud, clock, expiry_threshold=0, expires_in_fallback=timedelta(hours=1))
    token = provider.token()
    assert token.exp is None
    clock.advance(3599)
    assert provider.token() == "at-1"
    clock.advance(1)
    assert provider.token() == "at-2"


def test_default_fallback_is_thirty_seconds_less_the_threshold(
    cloud: CloudServer, clock: Clock
) -> None:
    cloud.state.expires_in = None
    provider = make(cloud, clock)
    provider.token()
    clock.advance(24.9)
    assert provider.token() == "at-1"
    clock.advance(0.1)
    assert provider.token() == "at-2"


def test_minimal_refresh_period_caps_the_lifetime(cloud: CloudServer, clock: Clock) -> None:
    provider = make(
        cloud, clock, expiry_threshold=0, minimal_refresh_period=timedelta(seconds=1800)
    )
    first = provider.token()
    assert first.exp == datetime.fromtimestamp(3600, tz=timezone.utc)  # the real expiry
    clock.advance(900)
    assert provider.token() == "at-1"
    clock.advance(900)
    assert provider.token() == "at-2"


def test_a_failed_refresh_within_the_capped_period_keeps_the_valid_token(
    cloud: CloudServer, clock: Clock
) -> None:
    provider = make(cloud, clock, minimal_refresh_period=60)
    provider.token()
    cloud.state.token_answer = lambda _request: Response(503, "down")
    clock.advance(60)
    assert provider.token() == "at-1"  # still valid for an hour: served while refresh fails


def test_rotated_refresh_token_replaces_the_old_one(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    provider.token()
    clock.advance(4000)
    provider.token()
    clock.advance(4000)
    assert provider.token() == "at-3"
    sent = [r.form["refresh_token"] for r in cloud.token_requests()]
    assert sent == ["rt-0", "rt-1", "rt-2"]


def test_a_kept_refresh_token_keeps_working(cloud: CloudServer, clock: Clock) -> None:
    cloud.state.rotate = False
    provider = make(cloud, clock)
    provider.token()
    clock.advance(4000)
    assert provider.token() == "at-2"
    assert [r.form["refresh_token"] for r in cloud.token_requests()] == ["rt-0", "rt-0"]


# -- with_scope -----------------------------------------------------------------


def test_with_scope_keeps_settings_and_the_newest_refresh_token(
    cloud: CloudServer, clock: Clock
) -> None:
    context = ssl.create_default_context()
    provider = make(
        cloud,
        clock,
        client_secret="s3cr3t",
        scope="input scope",
        http_timeout=timedelta(seconds=7),
        http_ssl_context=context,
    )
    provider.token()  # rotates rt-0 to rt-1
    scoped = provider.with_scope("new scope")
    assert isinstance(scoped, TokenProvider)
    assert scoped.scope == "new scope" and provider.scope == "input scope"
    assert scoped.provider.timeout == 7.0
    assert scoped.provider.endpoint._ssl_context is context
    scoped.token()
    sent = cloud.token_requests()[-1].form
    assert sent["refresh_token"] == "rt-1"
    assert sent["scope"] == "new scope"
    assert sent["client_secret"] == "s3cr3t"


def test_with_scope_shares_the_rotating_chain(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    provider.token()
    scoped = provider.with_scope("other")
    scoped.token()  # spends rt-1; the original must go on from rt-2
    clock.advance(4000)
    assert provider.token() == "at-3"
    assert scoped.token() == "at-4"
    sent = [r.form["refresh_token"] for r in cloud.token_requests()]
    assert sent == ["rt-0", "rt-1", "rt-2", "rt-3"]
    provider.provider.use_refresh_token("rt-4")  # as from a store: the copy learns it too
    assert scoped.provider._current_refresh_token == "rt-4"


def test_threads_on_a_provider_and_its_scoped_copy(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    scoped = provider.with_scope("other")
    cloud.state.token_delay = 0.05
    picks = itertools.cycle([provider, scoped])
    lock = threading.Lock()

    def call() -> str:
        with lock:
            chosen = next(picks)
        return chosen()

    results, errors = run_together(32, call)
    assert errors == []  # one chain, so no refresh token was ever sent twice
    assert len(cloud.token_requests()) == 2  # one per provider, each scope its own token
    assert sorted(set(results)) == ["at-1", "at-2"] and len(results) == 32


def test_fork_hooks_leave_the_family_on_one_lock(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    scoped = provider.with_scope("other")
    # What a forked child runs, in an order where members reset before the family.
    provider.provider._after_fork()
    scoped.provider._after_fork()
    provider.provider._family._after_fork()
    assert provider.provider._chain_lock() is scoped.provider._chain_lock()
    cloud.state.token_delay = 0.05
    picks = itertools.cycle([provider, scoped])
    lock = threading.Lock()

    def call() -> str:
        with lock:
            chosen = next(picks)
        return chosen()

    _results, errors = run_together(8, call)
    assert errors == []  # the rotated refresh token was never sent twice
    assert [r.form["refresh_token"] for r in cloud.token_requests()] == ["rt-0", "rt-1"]


# -- errors ---------------------------------------------------------------------


def test_error_response_becomes_token_endpoint_error(cloud: CloudServer, clock: Clock) -> None:
    cloud.state.token_answer = lambda _request: Response(
        400,
        {
            "error": "test-error",
            "error_description": "test error description",
            "error_uri": "test error URI",
        },
    )
    with pytest.raises(token_provider_module.TokenEndpointError) as caught:
        make(cloud, clock)()
    error = caught.value
    assert token_provider_module.TokenEndpointError is h2oauth_lite.TokenEndpointError
    assert (error.error, error.error_description, error.error_uri) == (
        "test-error",
        "test error description",
        "test error URI",
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is TokenEndpointError
    assert (copy.status_code, copy.error, copy.error_description, copy.error_uri) == (
        400,
        "test-error",
        "test error description",
        "test error URI",
    )
    assert str(copy) == str(error)


def test_status_is_judged_before_the_body(cloud: CloudServer, clock: Clock) -> None:
    # h2o-authn parses first and fails with a JSON error on an HTML error page.
    cloud.state.token_answer = lambda _request: Response(
        502, "<html><body>Bad gateway</body></html>", {"Content-Type": "text/html"}
    )
    with pytest.raises(TokenEndpointError) as caught:
        make(cloud, clock).token()
    assert caught.value.status_code == 502
    assert "Bad gateway" in str(caught.value)


def test_a_success_that_is_not_json_is_an_invalid_response(
    cloud: CloudServer, clock: Clock
) -> None:
    cloud.state.token_answer = lambda _request: Response(200, "<html>login</html>")
    with pytest.raises(InvalidTokenResponseError, match="not JSON"):
        make(cloud, clock).token()


def test_expires_in_as_a_string(cloud: CloudServer, clock: Clock) -> None:
    cloud.state.expires_in = "3600"
    token = make(cloud, clock).token()
    assert token.exp == datetime.fromtimestamp(3600, tz=timezone.utc)


def test_expires_in_zero_means_expired_not_fallback(cloud: CloudServer, clock: Clock) -> None:
    cloud.state.expires_in = 0
    provider = make(cloud, clock)
    assert provider.token() == "at-1"  # the answer is handed out once, never cached
    assert provider.token() == "at-2"
    assert len(cloud.token_requests()) == 2


def test_an_invalid_grant_names_the_error(cloud: CloudServer, clock: Clock) -> None:
    with pytest.raises(TokenEndpointError) as caught:
        make(cloud, clock, refresh_token="revoked").token()
    assert caught.value.error == "invalid_grant"
    assert "revoked" not in str(caught.value)


# -- transport ------------------------------------------------------------------


def test_sequential_refreshes_share_one_connection(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    for _ in range(10):
        provider.token()
        clock.advance(4000)
    assert len(cloud.token_requests()) == 10
    assert cloud.server.connections == 1


def test_default_tls_context_is_the_system_trust_store(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    adapter = provider.provider.session.get_adapter("https://issuer.example/token")
    context = adapter.poolmanager.connection_pool_kw["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert (
        context.cert_store_stats()["x509_ca"]
        == ssl.create_default_context().cert_store_stats()["x509_ca"]
    )


def test_given_tls_context_is_used_for_https(cloud: CloudServer, clock: Clock) -> None:
    context = ssl.create_default_context()
    provider = make(cloud, clock, http_ssl_context=context)
    adapter = provider.provider.session.get_adapter("https://issuer.example/token")
    assert adapter.poolmanager.connection_pool_kw["ssl_context"] is context


def test_an_untrusted_certificate_fails_as_a_transport_error(
    tls_server: Callable[[], str], clock: Clock
) -> None:
    url = tls_server()
    with pytest.raises(h2oauth_lite.TransportError, match="TLS"):
        TokenProvider(
            refresh_token="rt-0", client_id="c", token_endpoint_url=url, clock=clock.time
        ).token()


def test_a_context_that_trusts_the_certificate_succeeds(
    tls_server: Callable[[], str], tls_context: ssl.SSLContext, clock: Clock
) -> None:
    url = tls_server()
    provider = TokenProvider(
        refresh_token="rt-0",
        client_id="c",
        token_endpoint_url=url,
        http_ssl_context=tls_context,
        clock=clock.time,
    )
    assert provider() == "tls-token"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "h2oauth-lite test")])
    now = datetime.now(timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_context(tls_files: tuple[str, str]) -> ssl.SSLContext:
    """A client context that trusts the test certificate, as a private CA would be trusted."""
    return ssl.create_default_context(cafile=tls_files[0])


@pytest.fixture
def tls_server(tls_files: tuple[str, str], loopback: Any) -> Callable[[], str]:
    """Start an https token endpoint with the test certificate; returns its URL."""

    def start() -> str:
        server = loopback(Response(200, token_body("tls-token", 60)))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls_files)
        live = server._live()
        live.socket = context.wrap_socket(live.socket, server_side=True)
        return f"https://127.0.0.1:{server.port}/token"

    return start


# -- threads --------------------------------------------------------------------


def test_32_threads_on_an_expired_token_send_one_refresh(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock)
    provider.token()
    clock.advance(4000)
    cloud.state.token_delay = 0.2  # keep the refresh in flight while the others arrive
    results, errors = run_together(32, provider)
    assert errors == []
    assert results == ["at-2"] * 32
    assert len(cloud.token_requests()) == 2


def test_32_threads_with_a_real_rotating_provider(oidc: Any) -> None:
    client = oidc.client("app-post")
    tokens = oidc.login_code_flow(client="app-post")
    shift = [0.0]  # both clocks jump together, so the real expiry passes at once
    provider = TokenProvider(
        refresh_token=tokens["refresh_token"],
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        issuer_url=oidc.issuer,
        clock=lambda: time.time() + shift[0],
        monotonic=lambda: time.monotonic() + shift[0],
    )
    first = provider()
    shift[0] = 3600.0  # every token of the provider is expired now
    results, errors = run_together(32, provider)
    assert errors == []
    assert len(set(results)) == 1 and results[0] != first
    # The provider's own chain is intact: one more refresh works.
    shift[0] = 7200.0
    third = provider()
    assert third not in (first, results[0])
    # Rotation really happened: the refresh token given at the start is spent. (The
    # provider revokes the whole grant on such a reuse, so this check comes last.)
    spent = requests.post(
        oidc.token_endpoint,
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
        timeout=10,
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"


# -- discovery and the rest of the contract ---------------------------------------


def discovery_of(cloud: CloudServer, credentials: dict[str, str]) -> Discovery:
    import types

    return Discovery(
        environment=Environment(
            h2o_cloud_environment=cloud.url,
            issuer_url=cloud.url + "/",
            h2o_cloud_platform_oauth2_scope="input scope",
        ),
        clients=types.MappingProxyType(
            {
                "platform": Client("clients/platform", "Platform", "platform-client-id"),
                "test_client": Client("clients/test_client", "Test", "test-client-id"),
            }
        ),
        credentials=types.MappingProxyType(
            {key: Credentials(key, token) for key, token in credentials.items()}
        ),
    )


def test_from_discovery_uses_the_platform_client_by_default(
    cloud: CloudServer, clock: Clock
) -> None:
    discovery = discovery_of(cloud, {"platform": "rt-0", "test_client": "rt-x"})
    provider = TokenProvider.from_discovery(discovery, clock=clock.time, monotonic=clock.monotonic)
    assert provider() == "at-1"
    sent = cloud.token_requests()[0].form
    assert sent == {
        "grant_type": "refresh_token",
        "client_id": "platform-client-id",
        "refresh_token": "rt-0",
    }
    assert len(cloud.requests_to("/.well-known/openid-configuration")) == 1


def test_from_discovery_with_a_client_and_scope(cloud: CloudServer, clock: Clock) -> None:
    discovery = discovery_of(cloud, {"test_client": "rt-0"})
    provider = TokenProvider.from_discovery(
        discovery, "test_client", scope="explicit scope", clock=clock.time
    )
    provider()
    sent = cloud.token_requests()[0].form
    assert sent["client_id"] == "test-client-id" and sent["scope"] == "explicit scope"


def test_from_discovery_without_credentials_names_the_variable(cloud: CloudServer) -> None:
    discovery = discovery_of(cloud, {})
    with pytest.raises(ConfigError) as caught:
        TokenProvider.from_discovery(discovery, "test_client")
    assert "'test_client'" in str(caught.value)
    assert "H2O_CLOUD_CLIENT_TEST_CLIENT_TOKEN" in str(caught.value)
    with pytest.raises(ConfigError, match="no client 'nope'"):
        TokenProvider.from_discovery(discovery, "nope")


def test_no_refresh_token_attribute_and_no_secret_in_repr(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock, refresh_token="rt-0", client_secret="s3cr3t-value")
    provider.token()
    for name in ("refresh_token", "_refresh_token"):
        assert not hasattr(provider, name)
    shown = repr(provider)
    assert "rt-0" not in shown and "rt-1" not in shown and "s3cr3t-value" not in shown
    assert "test-client-id" in shown


def test_pickled_provider_continues_the_refresh_chain(cloud: CloudServer) -> None:
    provider = TokenProvider(
        refresh_token="rt-0", client_id="c", token_endpoint_url=cloud.token_url
    )
    provider.token()
    copy = pickle.loads(pickle.dumps(provider))
    assert copy.token() == "at-1"  # the cached token travelled
    copy.invalidate()
    assert copy.token() == "at-2"
    assert cloud.token_requests()[-1].form["refresh_token"] == "rt-1"
    adapter = copy.provider.session.get_adapter("https://issuer.example/")
    assert isinstance(adapter.poolmanager.connection_pool_kw["ssl_context"], ssl.SSLContext)


def test_durations_accept_seconds(cloud: CloudServer, clock: Clock) -> None:
    provider = make(cloud, clock, expiry_threshold=10, http_timeout=2.5)
    assert provider.provider.timeout == 2.5
    provider.token()
    clock.advance(3590)
    assert provider.token() == "at-2"


def test_request_record_shape(cloud: CloudServer, clock: Clock) -> None:
    # The loopback records are what the assertions above rely on.
    make(cloud, clock).token()
    request: Request = cloud.token_requests()[0]
    assert request.header("Content-Type", "").startswith("application/x-www-form-urlencoded")


def test_a_callers_tls_context_is_not_pickled_silently(cloud: CloudServer) -> None:
    provider = TokenProvider(
        refresh_token="rt-0",
        client_id="c",
        token_endpoint_url=cloud.token_url,
        http_ssl_context=ssl.create_default_context(),
    )
    with pytest.raises(TypeError, match="SSLContext"):
        pickle.dumps(provider)


def test_a_public_client_against_the_real_provider(oidc: Any) -> None:
    tokens = oidc.login_code_flow(client="app-public")
    provider = TokenProvider(
        refresh_token=tokens["refresh_token"], client_id="app-public", issuer_url=oidc.issuer
    )
    token = provider.token()
    assert token and token != tokens["access_token"]
    assert token.exp is not None and token.exp > datetime.now(timezone.utc)
    assert provider.with_scope("openid api:read")() != token
