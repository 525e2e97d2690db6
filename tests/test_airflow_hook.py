"""The Airflow integration's parts that need no Airflow: reading a Connection, the
token store rule, the provider info, and the caches it builds (against a real
loopback token server). The hook inside real Airflow: tests/interop/test_airflow.py.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from h2oauth_lite import ConfigError, TokenStore
from h2oauth_lite.integrations import airflow_provider
from h2oauth_lite.integrations.airflow_connection import (
    EXTRA_FIELDS,
    ConnectionSettings,
    build_cache,
    read_connection,
    store_for,
    store_key,
    token_store_setting,
)
from tests.interop.airflow_idp import IdP, start_idp
from tests.support.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeConnection:
    """The attributes of Airflow's Connection that the integration reads."""

    conn_id: str = "h2oauth_default"
    host: Optional[str] = "https://auth.example.com/oauth2/token"
    login: Optional[str] = "my-client"
    password: Optional[str] = "client-secret-value"
    port: Optional[int] = None
    schema: Optional[str] = None
    extra_dejson: dict[str, Any] = field(default_factory=dict)


def settings_for(**changes: Any) -> ConnectionSettings:
    return read_connection(FakeConnection(**changes))


# -- reading a connection -------------------------------------------------------


def test_json_form_fields_map_onto_settings() -> None:
    settings = settings_for(
        extra_dejson={
            "scope": "openid api",
            "audience": "https://api.example.com",
            "client_auth": "CLIENT_SECRET_POST",
            "timeout": 7,
            "token_store": "none",
        }
    )
    assert settings.url == "https://auth.example.com/oauth2/token"
    assert settings.client_id == "my-client"
    assert settings.client_secret == "client-secret-value"
    assert settings.issuer is False
    assert settings.scope == "openid api"
    assert settings.audience == "https://api.example.com"
    assert settings.client_auth == "client_secret_post"
    assert settings.timeout == 7.0
    assert settings.token_store == "none"


def test_uri_form_host_port_and_schema_join_back_into_the_url() -> None:
    # What Airflow makes of h2oauth://http://id:secret@127.0.0.1:8080/realms/x/token?scope=a
    settings = settings_for(host="http://127.0.0.1", port=8080, schema="realms/x/token")
    assert settings.url == "http://127.0.0.1:8080/realms/x/token"
    assert settings_for(host="auth.example.com", schema="token").url == (
        "https://auth.example.com/token"
    )


def test_uri_form_extra_values_are_strings_and_are_converted() -> None:
    settings = settings_for(extra_dejson={"issuer": "true", "timeout": "2.5"})
    assert settings.issuer is True
    assert settings.timeout == 2.5
    assert settings_for(extra_dejson={"issuer": "False"}).issuer is False


def test_form_leftovers_and_prefixed_keys_are_understood() -> None:
    settings = settings_for(
        extra_dejson={
            "extra__h2oauth__scope": ["openid", "email"],
            "audience": "",
            "private_key_id": None,
        }
    )
    assert settings.scope == "openid email"
    assert settings.audience is None
    assert settings.private_key_id is None


def test_unknown_extra_keys_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for(extra_dejson={"scopes": "openid", "Timeout": 3, "scope": "x"})
    message = str(caught.value)
    assert "'h2oauth_default'" in message
    assert "unknown extra fields Timeout, scopes" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"timeout": "abc"}, "timeout must be positive seconds, got 'abc'"),
        ({"timeout": -1}, "timeout must be positive seconds, got -1"),
        ({"timeout": True}, "timeout must be positive seconds, got True"),
        ({"issuer": "maybe"}, "issuer must be true or false, got 'maybe'"),
        ({"scope": 3}, "scope must be a string, not int"),
        ({"audience": {"a": 1}}, "audience must be a string, not dict"),
    ],
)
def test_wrong_types_in_extra_are_config_errors(extra: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match="'h2oauth_default'") as caught:
        settings_for(extra_dejson=extra)
    assert expected in str(caught.value)


def test_a_secret_of_the_wrong_type_is_refused_without_its_value() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for(extra_dejson={"refresh_token": ["rt-very-secret-value"]})
    assert "refresh_token must be a string, not list" in str(caught.value)
    assert "rt-very-secret-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"host": None}, "the host (the token endpoint or issuer URL) is missing"),
        ({"host": "  "}, "the host (the token endpoint or issuer URL) is missing"),
        ({"login": None}, "the login (the client id) is missing"),
    ],
)
def test_missing_host_or_login_names_the_connection_and_field(
    changes: dict[str, Any], field_name: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_connection(FakeConnection(conn_id="billing_api", **changes))
    assert str(caught.value) == f"Airflow connection 'billing_api': {field_name}"


def test_private_key_and_method_must_agree() -> None:
    with pytest.raises(ConfigError, match="private_key_jwt needs the extra private_key"):
        settings_for(extra_dejson={"client_auth": "private_key_jwt"})
    with pytest.raises(ConfigError, match="goes with client_auth private_key_jwt"):
        settings_for(extra_dejson={"client_auth": "client_secret_post", "private_key": "k.pem"})


def test_settings_repr_shows_no_secret() -> None:
    settings = settings_for(
        extra_dejson={"refresh_token": "rt-secret-seed", "client_auth": "private_key_jwt",
                      "private_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"}
    )
    shown = repr(settings)
    for secret in ("client-secret-value", "rt-secret-seed", "BEGIN PRIVATE KEY"):
        assert secret not in shown
    assert set(settings.secrets()) == {
        "client-secret-value",
        "rt-secret-seed",
        "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
    }


def test_a_bad_method_name_is_a_config_error_naming_the_connection() -> None:
    with pytest.raises(ConfigError, match=r"'h2oauth_default'.*unknown client authentication"):
        build_cache(settings_for(extra_dejson={"client_auth": "kerberos"}), mask=print)


# -- where tokens are shared ---------------------------------------------------------


def test_token_store_variable_is_read_from_the_given_environ() -> None:
    assert token_store_setting({}) is None
    assert token_store_setting({"H2O_AUTHN_TOKEN_STORE": "  "}) is None
    assert token_store_setting({"H2O_AUTHN_TOKEN_STORE": " /x/y.json "}) == "/x/y.json"


def test_default_store_is_one_file_per_connection_in_the_cache_dir(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    first = store_for(settings_for(conn_id="api_a"), environ)
    second = store_for(settings_for(conn_id="api b/../x"), environ)
    assert isinstance(first, TokenStore) and isinstance(second, TokenStore)
    assert first.path == str(tmp_path / "h2oauth-lite" / "airflow" / "api_a.json")
    assert second.path == str(tmp_path / "h2oauth-lite" / "airflow" / "api_b_.._x.json")


def test_connection_store_wins_over_the_variable_and_none_turns_it_off(tmp_path: Path) -> None:
    environ = {"H2O_AUTHN_TOKEN_STORE": str(tmp_path / "from-env.json")}
    from_env = store_for(settings_for(), environ)
    assert isinstance(from_env, TokenStore) and from_env.path == str(tmp_path / "from-env.json")
    own = store_for(settings_for(extra_dejson={"token_store": str(tmp_path / "own.json")}), environ)
    assert isinstance(own, TokenStore) and own.path == str(tmp_path / "own.json")
    assert store_for(settings_for(extra_dejson={"token_store": "NONE"}), environ) is None
    assert store_for(settings_for(), {"H2O_AUTHN_TOKEN_STORE": "none"}) is None


@pytest.mark.parametrize("url", ["redis://cache:6379/0", "rediss://cache:6380"])
def test_a_redis_url_names_a_redis_store(url: str) -> None:
    from h2oauth_lite.store.redis import RedisTokenStore

    assert isinstance(store_for(settings_for(), {"H2O_AUTHN_TOKEN_STORE": url}), RedisTokenStore)
    own = store_for(settings_for(extra_dejson={"token_store": url}), {})
    assert isinstance(own, RedisTokenStore)


def test_a_malformed_redis_url_names_the_connection() -> None:
    with pytest.raises(ConfigError, match="'h2oauth_default'"):
        store_for(settings_for(extra_dejson={"token_store": "redis://cache:notaport"}), {})


def test_the_store_key_names_endpoint_client_scope_and_the_seed_fingerprint() -> None:
    plain = store_key(settings_for())
    seeded = store_key(settings_for(extra_dejson={"refresh_token": "rt-seed", "scope": "a b"}))
    assert (plain.host, plain.client_id, plain.seed) == (
        "https://auth.example.com/oauth2/token",
        "my-client",
        None,
    )
    assert seeded.scope == "a b"
    assert seeded.seed == hashlib.sha256(b"rt-seed").hexdigest()[:16]
    assert "rt-seed" not in repr(seeded) and "rt-seed" not in str(seeded)


# -- provider info ---------------------------------------------------------------------


def test_provider_info_declares_the_connection_type() -> None:
    info = airflow_provider.get_provider_info()
    assert info["package-name"] == "h2oauth-lite"
    assert info["name"] and info["description"]
    (connection,) = info["connection-types"]
    assert connection["connection-type"] == "h2oauth"
    assert connection["hook-class-name"] == "h2oauth_lite.integrations.airflow.H2OAuthHook"
    module, _, cls = connection["hook-class-name"].rpartition(".")
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    assert f"class {cls}(" in source
    assert set(connection["conn-fields"]) == set(EXTRA_FIELDS)
    behaviour = connection["ui-field-behaviour"]
    assert behaviour["hidden-fields"] == ["schema", "port"]
    assert set(behaviour["relabeling"]) == {"host", "login", "password"}
    # The Airflow 2.10 method returns the same form.
    form_210 = airflow_provider.UI_FIELD_BEHAVIOUR
    assert form_210["hidden_fields"] == behaviour["hidden-fields"]
    assert form_210["relabeling"] == behaviour["relabeling"]
    assert form_210["placeholders"] == behaviour["placeholders"]
    secret_fields = {
        name
        for name, spec in connection["conn-fields"].items()
        if spec["schema"].get("format") == "password"
    }
    assert secret_fields == {"refresh_token", "private_key"}
    json.dumps(info)  # plain data


def test_the_entry_point_is_declared_in_setup_cfg() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = config["options.entry_points"]["apache_airflow_provider"].strip()
    assert declared == (
        "provider_info = h2oauth_lite.integrations.airflow_provider:get_provider_info"
    )


def test_importing_the_package_and_provider_info_never_imports_airflow() -> None:
    probe = (
        "import sys, h2oauth_lite, h2oauth_lite.integrations.airflow_provider as p, "
        "h2oauth_lite.integrations.airflow_connection;"
        "p.get_provider_info();"
        "print([m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_hook_module_without_airflow_is_a_config_error_naming_the_package() -> None:
    probe = (
        "import importlib.util, sys\n"
        "assert importlib.util.find_spec('airflow') is None, 'Airflow is installed here'\n"
        "try:\n"
        "    import h2oauth_lite.integrations.airflow\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "ConfigError h2oauth_lite.integrations.airflow needs Airflow: "
        "install the apache-airflow package"
    )


# -- the caches it builds, against a real token server ---------------------------------


@pytest.fixture
def idp() -> Iterator[tuple[IdP, LoopbackServer]]:
    idp, server = start_idp(lifetime=60.0)
    try:
        yield idp, server
    finally:
        server.stop()


def connection_to(
    server: LoopbackServer, idp: IdP, extra: Optional[Mapping[str, Any]] = None
) -> FakeConnection:
    return FakeConnection(
        host=f"{server.url}/token",
        login=idp.client_id,
        password=idp.client_secret,
        extra_dejson=dict(extra or {}),
    )


def test_tasks_of_one_worker_share_the_token_through_the_connection_file(
    idp: tuple[IdP, LoopbackServer], tmp_path: Path
) -> None:
    state, server = idp
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    masked: list[str] = []
    settings = read_connection(connection_to(server, state))
    first = build_cache(settings, mask=masked.append, environ=environ).get_token()
    # A second task: a new cache, as in a new task process.
    second = build_cache(settings, mask=masked.append, environ=environ).get_token()
    assert second.access_token == first.access_token
    assert state.token_requests == 1
    assert (tmp_path / "h2oauth-lite" / "airflow" / "h2oauth_default.json").is_file()
    # Every secret of the connection and every token handed out was registered.
    assert state.client_secret in masked
    assert masked.count(first.access_token) == 2  # once per cache that handed it out


def test_every_token_is_registered_once_per_cache(idp: tuple[IdP, LoopbackServer]) -> None:
    state, server = idp
    masked: list[str] = []
    cache = build_cache(
        read_connection(connection_to(server, state, {"token_store": "none"})),
        mask=masked.append,
    )
    tokens = {cache.get_token().access_token for _ in range(5)}
    cache.invalidate()
    tokens.add(cache.get_token().access_token)
    assert len(tokens) == 2
    assert sorted(masked) == sorted([state.client_secret, *tokens])


def test_a_rotated_refresh_token_descended_from_the_seed_wins_over_the_seed(
    idp: tuple[IdP, LoopbackServer], tmp_path: Path
) -> None:
    state, server = idp
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    seed = state.seed()
    settings = read_connection(connection_to(server, state, {"refresh_token": seed}))
    first = build_cache(settings, mask=lambda _: None, environ=environ)
    first.get_token()
    # A later task still names the (now spent) seed; the stored descendant is used.
    later = build_cache(settings, mask=lambda _: None, environ=environ)
    later.invalidate()
    later.get_token()
    assert state.reuse_detected == 0
    assert state.failed_token_requests == 0
    assert state.token_requests == 2


def test_a_new_seed_replaces_the_old_chain(
    idp: tuple[IdP, LoopbackServer], tmp_path: Path
) -> None:
    state, server = idp
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    old_seed, new_seed = state.seed(), state.seed()
    old = read_connection(connection_to(server, state, {"refresh_token": old_seed}))
    build_cache(old, mask=lambda _: None, environ=environ).get_token()
    new = read_connection(connection_to(server, state, {"refresh_token": new_seed}))
    token = build_cache(new, mask=lambda _: None, environ=environ).get_token()
    # The pasted seed was used (a request with it), not the old chain's stored token.
    assert state.token_requests == 2
    assert state.refresh_tokens[new_seed][1] is True  # spent: it was sent
    assert token.access_token == state.issued[-1].access_token
    # One entry, now the new chain's: a later task continues from it.
    again = build_cache(new, mask=lambda _: None, environ=environ).get_token()
    assert again.access_token == token.access_token and state.token_requests == 2
    store = store_for(new, environ)
    assert isinstance(store, TokenStore)
    stored = store.read_entry(str(store_key(new)))
    assert stored is not None and stored.token.access_token == token.access_token


def test_the_readme_dag_is_the_dag_file_the_interop_tests_run() -> None:
    # Tagged python3, not python: tests/test_readme.py imports what python blocks
    # import, and the hook module needs Airflow, which this virtualenv lacks. The
    # block is held to the DAG file instead, which tests/interop/test_airflow.py runs.
    readme = (ROOT / "README.rst").read_text()
    section = readme[readme.index("\nAirflow\n~~~~~~~\n") :]
    start = section.index(".. code-block:: python3\n\n") + len(".. code-block:: python3\n\n")
    lines = []
    for line in section[start:].splitlines():
        if line and not line.startswith("   "):
            break
        lines.append(line[3:])
    shown = "\n".join(lines).strip() + "\n"
    dag_file = ROOT / "tests" / "interop" / "airflow" / "dags" / "h2oauth_example.py"
    assert shown == dag_file.read_text()
