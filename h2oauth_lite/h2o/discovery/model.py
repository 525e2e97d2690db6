"""The records of the H2O Cloud discovery service, immutable, and how JSON becomes them.

Pure: no I/O. The service answers camelCase JSON and names every record
``<collection>/<key>`` (``clients/platform``); the maps of :class:`Discovery`
are keyed by the short ``<key>``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from ..._redact import mask
from ...errors import DiscoveryError

__all__ = [
    "Client",
    "Component",
    "Credentials",
    "Discovery",
    "Environment",
    "Link",
    "Service",
    "record_map",
]


def _text(data: Mapping[str, Any], name: str, what: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise DiscoveryError(f"the discovery service sent a {what} without a string '{name}'")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> Optional[str]:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Environment:
    """The H2O Cloud environment: its address, OpenID issuer and platform scope."""

    h2o_cloud_environment: str
    issuer_url: str
    h2o_cloud_platform_oauth2_scope: str
    h2o_cloud_version: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Environment:
        return cls(
            h2o_cloud_environment=_text(data, "h2oCloudEnvironment", "environment"),
            issuer_url=_text(data, "issuerUrl", "environment"),
            h2o_cloud_platform_oauth2_scope=_text(
                data, "h2oCloudPlatformOauth2Scope", "environment"
            ),
            h2o_cloud_version=_optional_text(data, "h2oCloudVersion"),
        )


@dataclass(frozen=True)
class Service:
    """A registered service: where it listens and the scope its tokens need."""

    name: str
    display_name: str
    uri: str
    version: Optional[str] = None
    oauth2_scope: Optional[str] = None
    python_client: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Service:
        return cls(
            name=_text(data, "name", "service"),
            display_name=_text(data, "displayName", "service"),
            uri=_text(data, "uri", "service"),
            version=_optional_text(data, "version"),
            oauth2_scope=_optional_text(data, "oauth2Scope"),
            python_client=_optional_text(data, "pythonClient"),
        )


@dataclass(frozen=True)
class Client:
    """A registered OAuth 2.0 client (public: it has an id and no secret)."""

    name: str
    display_name: str
    oauth2_client_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Client:
        return cls(
            name=_text(data, "name", "client"),
            display_name=_text(data, "displayName", "client"),
            oauth2_client_id=_text(data, "oauth2ClientId", "client"),
        )


@dataclass(frozen=True)
class Link:
    """A navigation link of the environment."""

    name: str
    uri: str
    text: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Link:
        return cls(
            name=_text(data, "name", "link"),
            uri=_text(data, "uri", "link"),
            text=_optional_text(data, "text"),
        )


@dataclass(frozen=True)
class Component:
    """A component installed in the environment."""

    name: str
    display_name: str
    version: str
    description: Optional[str] = None
    documentation_uri: Optional[str] = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Component:
        return cls(
            name=_text(data, "name", "component"),
            display_name=_text(data, "displayName", "component"),
            version=_text(data, "version", "component"),
            description=_optional_text(data, "description"),
            documentation_uri=_optional_text(data, "documentationUri"),
        )


@dataclass(frozen=True)
class Credentials:
    """The refresh token found locally for one client (never sent by the service)."""

    client: str
    refresh_token: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(client={self.client!r}, refresh_token={mask(self.refresh_token)})"


def _empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class Discovery:
    """Everything discovered about one environment; maps are read-only, keyed by short name."""

    environment: Environment
    services: Mapping[str, Service] = field(default_factory=_empty)
    clients: Mapping[str, Client] = field(default_factory=_empty)
    links: Mapping[str, Link] = field(default_factory=_empty)
    components: Mapping[str, Component] = field(default_factory=_empty)
    credentials: Mapping[str, Credentials] = field(default_factory=_empty)


R = TypeVar("R", Service, Client, Link, Component)


def record_map(
    items: list[Any], collection: str, build: Callable[[Mapping[str, Any]], R]
) -> Mapping[str, R]:
    """``{"<key>": record}`` from JSON records named ``<collection>/<key>``."""
    prefix = collection + "/"
    out: dict[str, R] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise DiscoveryError(f"the discovery service sent a {collection} entry, not an object")
        record = build(item)
        name = record.name
        if not name.startswith(prefix) or len(name) == len(prefix):
            raise DiscoveryError(
                f"the discovery service sent a {collection} record named {name!r}, "
                f"not '{prefix}<name>'"
            )
        out[name[len(prefix) :]] = record
    return types.MappingProxyType(out)
