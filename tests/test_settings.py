"""Configuration from the environment, and from_env()."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable

import pytest

import h2oauth_lite
from h2oauth_lite import (
    ClientCredentialsTokenProvider,
    ConfigError,
    RefreshTokenProvider,
    provider_from_env,
)
from h2oauth_lite.settings import read_settings
from tests.support.answers import token_body
from tests.support.loopback import LoopbackServer, Response

Loopback = Callable[..., LoopbackServer]
PACKAGE = Path(h2oauth_lite.__file__).parent


def test_missing_variable_message_names_it() -> None:
    env = {"H2O_AUTHN_URI": "https://idp/t", "H2O_AUTHN_CLIENT_SECRET": "s"}
    with pytest.raises(ConfigError) as caught:
        read_settings(env)
    assert str(caught.value) == "Missing environment variable: H2O_AUTHN_CLIENT_ID"
    assert isinstance(caught.value, RuntimeError)


def test_all_missing_names_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        read_settings({"H2O_AUTHN_CLIENT_ID": "  "})  # blank counts as unset
    assert str(caught.value) == (
        "Missing environment variables: H2O_AUTHN_URI (or H2O_AUTHN_ISSUER), "
        "H2O_AUTHN_CLIENT_ID, H2O_AUTHN_CLIENT_SECRET (or H2O_AUTHN_REFRESH_TOKEN for the "
        "refresh grant, or H2O_AUTHN_PRIVATE_KEY_FILE for private_key_jwt, or "
        "H2O_AUTHN_TLS_CERT_FILE for tls_client_auth)"
    )


def test_token_url_and_issuer_together_are_refused() -> None:
    env = {
        "H2O_AUTHN_URI": "https://idp/token",
        "H2O_AUTHN_ISSUER": "https://idp",
        "H2O_AUTHN_CLIENT_ID": "svc",
        "H2O_AUTHN_CLIENT_SECRET": "s",
    }
    with pytest.raises(ConfigError) as caught:
        read_settings(env)
    assert str(caught.value) == (
        "both H2O_AUTHN_URI (the token endpoint) and H2O_AUTHN_ISSUER (discovery) are set; "
        "set only one of them"
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)]
)
def test_allow_insecure_http_from_the_environment(raw: str, expected: bool) -> None:
    env = {
        "H2O_AUTHN_URI": "http://idp.internal/token",
        "H2O_AUTHN_CLIENT_ID": "svc",
        "H2O_AUTHN_CLIENT_SECRET": "s",
        "H2O_AUTHN_ALLOW_INSECURE_HTTP": raw,
    }
    assert read_settings(env).allow_insecure_http is expected
    if expected:
        provider = provider_from_env(env)
        assert provider.token_endpoint == "http://idp.internal/token"
    else:
        with pytest.raises(ConfigError, match="H2O_AUTHN_ALLOW_INSECURE_HTTP=1"):
            provider_from_env(env)


def test_allow_insecure_http_refuses_nonsense() -> None:
    env = {"H2O_AUTHN_URI": "https://idp/t", "H2O_AUTHN_CLIENT_ID": "svc",
           "H2O_AUTHN_CLIENT_SECRET": "s", "H2O_AUTHN_ALLOW_INSECURE_HTTP": "maybe"}
    with pytest.raises(ConfigError, match="H2O_AUTHN_ALLOW_INSECURE_HTTP must be"):
        read_settings(env)


def test_refresh_token_selects_the_refresh_grant(loopback: Loopback) -> None:
    server = loopback(Response(body=token_body("a", None, refresh_token="r2")))
    env = {
        "H2O_AUTHN_URI": server.url + "/token",
        "H2O_AUTHN_CLIENT_ID": "app",
        "H2O_AUTHN_REFRESH_TOKEN": "r1",
        "H2O_AUTHN_SCOPE": "openid api:read",
    }
    cache = h2oauth_lite.from_env(env)
    assert isinstance(cache.provider, RefreshTokenProvider)
    assert cache.get_token().access_token == "a"
    assert server.requests[0].form == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "scope": "openid api:read",
        "client_id": "app",
    }


def test_client_credentials_from_env(loopback: Loopback) -> None:
    server = loopback(Response(body=token_body("cc", None)))
    env = {
        "H2O_AUTHN_URI": server.url + "/token",
        "H2O_AUTHN_CLIENT_ID": "svc",
        "H2O_AUTHN_CLIENT_SECRET": "secret",
        "H2O_AUTHN_CLIENT_AUTH_METHOD": "client_secret_post",
        "H2O_AUTHN_TIMEOUT": "2.5",
    }
    cache = h2oauth_lite.from_env(env)
    provider = cache.provider
    assert isinstance(provider, ClientCredentialsTokenProvider)
    assert provider.timeout == 2.5
    assert cache().startswith("cc")
    assert server.requests[0].form["client_secret"] == "secret"


@pytest.mark.parametrize("value", ["soon", "-1", "0", "inf", "nan", "1e400", "Infinity"])
def test_bad_timeout_is_a_config_error(value: str) -> None:
    env = {
        "H2O_AUTHN_URI": "https://i/t",
        "H2O_AUTHN_CLIENT_ID": "a",
        "H2O_AUTHN_CLIENT_SECRET": "s",
    }
    with pytest.raises(ConfigError, match="H2O_AUTHN_TIMEOUT"):
        read_settings({**env, "H2O_AUTHN_TIMEOUT": value})


def test_settings_repr_masks_secrets() -> None:
    env = {
        "H2O_AUTHN_URI": "https://i/t",
        "H2O_AUTHN_CLIENT_ID": "a",
        "H2O_AUTHN_CLIENT_SECRET": "very-secret-value",
        "H2O_AUTHN_REFRESH_TOKEN": "refresh-secret-value",
    }
    text = repr(read_settings(env))
    assert "very-secret-value" not in text and "refresh-secret-value" not in text


def test_only_the_settings_module_reads_the_environment() -> None:
    """os.environ / os.getenv appear in settings.py and nowhere else in the package."""
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv", "environb")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                readers.append(path.relative_to(PACKAGE).as_posix())
    assert set(readers) == {"settings.py"}
