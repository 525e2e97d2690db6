"""H2O Cloud discovery: where to look, what the service says, which credentials apply."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from pathlib import Path

import pytest

import h2oauth_lite
from h2oauth_lite import ConfigError, DiscoveryError, DiscoveryLookupError, TokenProvider
from h2oauth_lite.h2o.discovery import (
    CliConfig,
    Discovery,
    discover,
    discovery_address,
    load_credentials,
)
from h2oauth_lite.h2o.discovery.cli_config import (
    cli_config_path,
    load_cli_config,
    parse_cli_config,
    parse_flat_toml,
)
from tests.support.discovery_server import CloudServer
from tests.support.loopback import Response

VARIABLES = (
    "H2O_CLOUD_DISCOVERY",
    "H2O_CLOUD_ENVIRONMENT",
    "H2OCONFIG",
    "H2O_CLOUD_CLIENT_PLATFORM_TOKEN",
    "H2O_CLOUD_CLIENT_CLI_TOKEN",
    "H2O_CLOUD_TOKEN_ENDPOINT_URL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no real ~/.h2oai here


def write_config(path: Path, endpoint: str, **tokens: str) -> Path:
    lines = [f'Endpoint = "{endpoint}"']
    lines += [f'{key} = "{value}"' for key, value in tokens.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by the H2O CLI\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- where to look (pure) ---------------------------------------------------------


def test_address_precedence() -> None:
    env = {
        "H2O_CLOUD_DISCOVERY": "https://d.example/disc/",
        "H2O_CLOUD_ENVIRONMENT": "https://e.example",
    }
    config = CliConfig(endpoint="https://cli.example/")
    assert discovery_address(None, "https://a.example/x/", config, env) == "https://a.example/x"
    assert (
        discovery_address("https://p.example/", None, config, env)
        == "https://p.example/.ai.h2o.cloud.discovery"
    )
    assert discovery_address(None, None, config, env) == "https://d.example/disc"
    del env["H2O_CLOUD_DISCOVERY"]
    assert discovery_address(None, None, config, env) == "https://e.example/.ai.h2o.cloud.discovery"
    assert (
        discovery_address(None, None, config, {}) == "https://cli.example/.ai.h2o.cloud.discovery"
    )


def test_both_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        discovery_address("https://e.example", "https://d.example", None, {})
    with pytest.raises(ValueError, match="not both"):
        discover("https://e.example", "https://d.example")


def test_nowhere_to_look_names_both_variables() -> None:
    with pytest.raises(LookupError) as caught:
        discovery_address(None, None, CliConfig(), {})
    assert isinstance(caught.value, DiscoveryLookupError)
    assert "H2O_CLOUD_ENVIRONMENT" in str(caught.value)
    assert "H2O_CLOUD_DISCOVERY" in str(caught.value)
    with pytest.raises(DiscoveryLookupError):
        discover()


# -- the service ------------------------------------------------------------------


def test_discover_reads_every_collection_across_pages(cloud: CloudServer) -> None:
    found = discover(discovery_address=cloud.discovery_url)
    assert found.environment.issuer_url == cloud.url
    assert found.environment.h2o_cloud_environment == cloud.url
    assert found.environment.h2o_cloud_platform_oauth2_scope == "openid offline_access h2o-platform"
    assert found.environment.h2o_cloud_version == "MC 25.10.0"
    assert sorted(found.services) == ["drive", "h2ogpte", "mlops"]  # 3 records, pages of 2
    assert found.services["h2ogpte"].oauth2_scope == "h2ogpte"
    assert found.services["mlops"].version == "1.2.3"
    assert found.services["drive"].python_client == "h2o-drive==1.0"
    assert found.services["drive"].name == "services/drive"
    assert found.clients["platform"].oauth2_client_id == "platform-client-id"
    assert found.links["docs"].uri == "https://docs"
    assert found.components["authz"].version == "2.0.0"
    assert dict(found.credentials) == {}
    pages = [
        r.query.get("pageToken") for r in cloud.requests_to("/.ai.h2o.cloud.discovery/v1/services")
    ]
    assert pages == [None, "2"]


def test_environment_address_gets_the_well_known_path(cloud: CloudServer) -> None:
    assert discover(cloud.url + "/").clients["cli"].oauth2_client_id == "cli-client-id"


def test_environment_variables_are_used(
    cloud: CloudServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_CLOUD_ENVIRONMENT", cloud.url)
    assert discover().environment.issuer_url == cloud.url
    monkeypatch.setenv("H2O_CLOUD_ENVIRONMENT", "http://127.0.0.1:9")
    monkeypatch.setenv("H2O_CLOUD_DISCOVERY", cloud.discovery_url)
    assert discover().environment.issuer_url == cloud.url


def test_older_services_without_links_or_components(cloud: CloudServer) -> None:
    cloud.state.links = None
    cloud.state.components = None
    found = discover(discovery_address=cloud.discovery_url)
    assert dict(found.links) == {} and dict(found.components) == {}
    assert "platform" in found.clients


def test_a_missing_environment_record_means_no_discovery_service(cloud: CloudServer) -> None:
    with pytest.raises(DiscoveryError, match="not an H2O Cloud discovery service"):
        discover(discovery_address=cloud.url + "/somewhere-else")


def test_a_web_page_means_no_discovery_service(loopback: object) -> None:
    server = loopback(Response(200, "<html><body>Welcome</body></html>"))  # type: ignore[operator]
    with pytest.raises(DiscoveryError, match="not an H2O Cloud discovery service"):
        discover(server.url)


def test_a_server_error_is_reported_with_its_status(loopback: object) -> None:
    server = loopback(Response(503, "maintenance"))  # type: ignore[operator]
    with pytest.raises(DiscoveryError, match="status 503"):
        discover(discovery_address=server.url)


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        discover(discovery_address="http://cloud.example.com/.ai.h2o.cloud.discovery")


def test_discovery_is_immutable(cloud: CloudServer) -> None:
    found = discover(discovery_address=cloud.discovery_url)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.environment = found.environment  # type: ignore[misc]
    with pytest.raises(TypeError):
        found.clients["x"] = found.clients["platform"]  # type: ignore[index]
    assert isinstance(found, h2oauth_lite.Discovery) and h2oauth_lite.discover is discover


# -- credentials ------------------------------------------------------------------


def test_credentials_from_environment_variables(
    cloud: CloudServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2O_CLOUD_CLIENT_PLATFORM_TOKEN", "rt-from-env")
    found = discover(discovery_address=cloud.discovery_url)
    assert found.credentials["platform"].refresh_token == "rt-from-env"
    assert "cli" not in found.credentials
    assert "rt-from-env" not in repr(found)


def test_credentials_from_the_cli_config_of_the_same_environment(
    cloud: CloudServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        tmp_path / "cli.toml",
        cloud.url + "/",
        ClientID="cli-client-id",
        Token="rt-cli",
        PlatformClientID="platform-client-id",
        PlatformToken="rt-platform",
    )
    monkeypatch.setenv("H2O_CLOUD_CLIENT_CLI_TOKEN", "rt-env-wins")
    found = discover(config_path=path)  # the config's Endpoint says where to look, too
    assert found.credentials["platform"].refresh_token == "rt-platform"
    assert found.credentials["cli"].refresh_token == "rt-env-wins"
    shown = repr(found)
    assert "rt-platform" not in shown and "rt-env-wins" not in shown


def test_cli_tokens_of_another_environment_are_ignored(cloud: CloudServer, tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "cli.toml",
        "https://other.example",
        PlatformClientID="platform-client-id",
        PlatformToken="rt-other",
    )
    found = discover(discovery_address=cloud.discovery_url, config_path=path)
    assert dict(found.credentials) == {}


def test_config_file_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = write_config(tmp_path / "home" / ".h2oai" / "h2o-cli-config.toml", "https://d")
    assert cli_config_path() == str(default)
    monkeypatch.setenv("H2OCONFIG", str(tmp_path / "from-env.toml"))
    assert cli_config_path() == str(tmp_path / "from-env.toml")
    assert cli_config_path(tmp_path / "explicit.toml") == str(tmp_path / "explicit.toml")
    default.unlink()
    monkeypatch.delenv("H2OCONFIG")
    assert cli_config_path() is None


def test_a_named_config_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the H2O CLI config"):
        load_cli_config(str(tmp_path / "missing.toml"))


def test_load_credentials_is_pure() -> None:
    found = Discovery(
        environment=h2oauth_lite.h2o.discovery.Environment("https://e.example", "https://i", "s"),
        clients={"platform": h2oauth_lite.h2o.discovery.Client("clients/platform", "P", "pid")},
    )
    config = CliConfig(endpoint="https://e.example/", tokens={"pid": "rt"})
    assert load_credentials(found, config, {})["platform"].refresh_token == "rt"
    env = {"H2O_CLOUD_CLIENT_PLATFORM_TOKEN": "rt-env"}
    assert load_credentials(found, config, env)["platform"].refresh_token == "rt-env"


# -- the CLI config file ------------------------------------------------------------

CLI_TEXT = """\
# H2O CLI configuration
Endpoint = "https://cloud.example"
ClientID = "cli-id"
Token = "rt-\\"quoted\\"-1"   # trailing comment
PlatformClientID = 'platform-id'
PlatformToken = "rt-2"

Unused = "x"
"""


def test_flat_reader_reads_what_the_cli_writes() -> None:
    values = parse_flat_toml(CLI_TEXT)
    assert values["Endpoint"] == "https://cloud.example"
    assert values["Token"] == 'rt-"quoted"-1'
    assert values["PlatformClientID"] == "platform-id"


@pytest.mark.parametrize(
    "line",
    ["[section]", "Retries = 3", 'Key = "unterminated', 'Key = ["a"]', "just words"],
)
def test_flat_reader_says_what_it_cannot_read(line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_flat_toml(f'Endpoint = "https://e"\n{line}\n', "cli.toml")
    assert "cli.toml, line 2" in str(caught.value)
    assert line not in str(caught.value)


def test_cli_config_pairs_ids_with_tokens() -> None:
    config = parse_cli_config(CLI_TEXT)
    assert config.endpoint == "https://cloud.example"
    assert dict(config.tokens) == {"cli-id": 'rt-"quoted"-1', "platform-id": "rt-2"}
    assert "rt-2" not in repr(config) and "quoted" not in repr(config)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is 3.11+")
def test_full_toml_is_read_where_tomllib_exists() -> None:
    config = parse_cli_config('Endpoint = "https://e"\nRetries = 3\n[extra]\nx = 1\n')
    assert config.endpoint == "https://e"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is 3.11+")
def test_a_non_string_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="Token must be a string"):
        parse_cli_config('Endpoint = "https://e"\nClientID = "x"\nToken = 5\n')


# -- end to end: discover, then a token ------------------------------------------------


def test_discover_then_token_provider(cloud: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2O_CLOUD_CLIENT_PLATFORM_TOKEN", "rt-0")
    found = discover(cloud.url)
    provider = TokenProvider.from_discovery(
        found, scope=found.environment.h2o_cloud_platform_oauth2_scope
    )
    assert provider() == "at-1"
    sent = cloud.token_requests()[0].form
    assert sent["client_id"] == "platform-client-id"
    assert sent["scope"] == "openid offline_access h2o-platform"


def test_discovery_errors_pickle() -> None:
    for error in (DiscoveryError("x"), DiscoveryLookupError("y"), h2oauth_lite.ArgumentError("z")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)


def test_h2o_authn_create_and_timeouts(cloud: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from h2oauth_lite.auth.discovery import create

    monkeypatch.setenv("H2O_CLOUD_CLIENT_CLI_TOKEN", "rt-0")
    found = discover(cloud.url, http_timeout=None)  # None: the default, as h2o-discovery allows
    assert create(found, "cli")() == "at-1"
    assert cloud.token_requests()[0].form["client_id"] == "cli-client-id"
    with pytest.raises(ValueError, match="positive"):
        discover(cloud.url, http_timeout=0)
