"""H2O Cloud discovery, sync: which issuer, clients and services an environment has.

``discover()`` finds the discovery service, reads it, and adds the refresh
tokens found locally (environment variables, the H2O CLI config), so that
``TokenProvider.from_discovery(discover())`` is all a script needs.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from ... import settings
from ...durations import Duration, to_seconds
from ...errors import ArgumentError, DiscoveryLookupError
from ...wire.send import new_session
from ...wire.urls import check_url
from ..defaults import DEFAULT_HTTP_TIMEOUT
from .cli_config import CliConfig, PathLike, cli_config_path, load_cli_config
from .model import Client, Component, Credentials, Discovery, Environment, Link, Service
from .service import fetch_discovery

if TYPE_CHECKING:
    import ssl

__all__ = [
    "WELL_KNOWN_PATH",
    "CliConfig",
    "Client",
    "Component",
    "Credentials",
    "Discovery",
    "Environment",
    "Link",
    "Service",
    "discover",
    "discovery_address",
    "load_credentials",
]

WELL_KNOWN_PATH = ".ai.h2o.cloud.discovery"


def _from_environment(environment: str) -> str:
    return environment.rstrip("/") + "/" + WELL_KNOWN_PATH


def discovery_address(
    environment: Optional[str] = None,
    discovery_address: Optional[str] = None,
    cli_config: Optional[CliConfig] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> str:
    """Where the discovery service is, from the arguments, the environment or the CLI config.

    In this order: ``discovery_address``; ``environment`` + ``/.ai.h2o.cloud.discovery``;
    ``H2O_CLOUD_DISCOVERY``; ``H2O_CLOUD_ENVIRONMENT``; the CLI config's ``Endpoint``.
    """
    if discovery_address is not None and environment is not None:
        raise ArgumentError("give either environment or discovery_address, not both")
    if discovery_address is not None:
        return discovery_address.rstrip("/")
    if environment is not None:
        return _from_environment(environment)
    found = settings.cloud_environment(environ)
    if found.discovery is not None:
        return found.discovery.rstrip("/")
    if found.environment is not None:
        return _from_environment(found.environment)
    if cli_config is not None and cli_config.endpoint is not None:
        return _from_environment(cli_config.endpoint)
    raise DiscoveryLookupError(
        "cannot tell where the H2O Cloud discovery service is: pass environment= or "
        f"discovery_address=, set {settings.CLOUD_ENVIRONMENT} or {settings.CLOUD_DISCOVERY}, "
        f"or log in with the H2O CLI (its config file, or the one {settings.H2O_CLI_CONFIG} names)"
    )


def load_credentials(
    discovery: Discovery,
    cli_config: CliConfig,
    environ: Optional[Mapping[str, str]] = None,
) -> Mapping[str, Credentials]:
    """The refresh token of each discovered client that has one.

    ``H2O_CLOUD_CLIENT_<KEY>_TOKEN`` first; else the CLI config's token for the
    client's OAuth 2.0 id, used only when the config's ``Endpoint`` is the
    discovered environment (a token for another environment would be sent to
    the wrong issuer).
    """
    here = discovery.environment.h2o_cloud_environment.rstrip("/")
    config_matches = cli_config.endpoint is not None and cli_config.endpoint.rstrip("/") == here
    tokens = cli_config.tokens if config_matches else {}
    found: dict[str, Credentials] = {}
    for key, client in discovery.clients.items():
        token = settings.cloud_client_token(key, environ) or tokens.get(client.oauth2_client_id)
        if token:
            found[key] = Credentials(client=key, refresh_token=token)
    return types.MappingProxyType(found)


def discover(
    environment: Optional[str] = None,
    discovery_address: Optional[str] = None,
    config_path: Optional[PathLike] = None,
    *,
    http_timeout: Optional[Duration] = DEFAULT_HTTP_TIMEOUT,
    ssl_context: Optional[ssl.SSLContext] = None,
    allow_insecure_http: bool = False,
) -> Discovery:
    """Read the discovery service of an H2O Cloud environment, with local credentials.

    See :func:`discovery_address` for where it looks. The CLI config is
    ``config_path``, else ``H2OCONFIG``, else ``~/.h2oai/h2o-cli-config.toml``
    when it exists. ``ssl_context`` defaults to the system trust store.
    """
    # The address is checked first: a conflict of arguments needs no file read.
    if discovery_address is not None and environment is not None:
        raise ArgumentError("give either environment or discovery_address, not both")
    cli_config = load_cli_config(cli_config_path(config_path))
    address = _address(environment, discovery_address, cli_config)
    check_url(address, allow_insecure_http=allow_insecure_http, what="discovery service")
    timeout = to_seconds(
        DEFAULT_HTTP_TIMEOUT if http_timeout is None else http_timeout, "http_timeout"
    )
    if timeout == 0:
        raise ArgumentError("http_timeout must be positive")
    if ssl_context is None:
        import ssl as ssl_module

        ssl_context = ssl_module.create_default_context()
    with new_session(ssl_context=ssl_context) as session:
        found = fetch_discovery(
            session, address, timeout=timeout, allow_insecure_http=allow_insecure_http
        )
    return dataclasses.replace(found, credentials=load_credentials(found, cli_config))


# discover()'s parameter shadows the function of the same name inside it.
_address = discovery_address
