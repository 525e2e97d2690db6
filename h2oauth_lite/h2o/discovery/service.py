"""The HTTP side of discovery: GET the ``v1/*`` collections of one discovery service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from ...errors import DiscoveryError, InvalidTokenResponseError, TokenEndpointError
from ...wire.send import get_json
from ...wire.urls import safe_url
from .model import Client, Component, Discovery, Environment, Link, Service, record_map

if TYPE_CHECKING:
    import requests

__all__ = ["fetch_discovery"]

# A service that pages forever is broken; stop long before memory says so.
_MAX_PAGES = 1000


class _NotFound(Exception):
    pass


def _no_service(address: str) -> DiscoveryError:
    return DiscoveryError(
        f"{safe_url(address)} is not an H2O Cloud discovery service (check the environment "
        "address, and that the environment has its discovery service enabled)"
    )


class _Fetcher:
    def __init__(
        self,
        session: requests.Session,
        address: str,
        timeout: float,
        allow_insecure_http: bool,
    ) -> None:
        self.session = session
        self.address = address.rstrip("/")
        self.timeout = timeout
        self.allow_insecure_http = allow_insecure_http

    def get(self, path: str, page_token: Optional[str] = None) -> Mapping[str, Any]:
        url = f"{self.address}/{path}"
        params = {} if page_token is None else {"pageToken": page_token}
        try:
            data = get_json(
                self.session,
                url,
                timeout=self.timeout,
                allow_insecure_http=self.allow_insecure_http,
                params=params,
                what="H2O Cloud discovery service",
            )
        except InvalidTokenResponseError:
            raise _no_service(self.address) from None  # 2xx, but not JSON: a web page
        except TokenEndpointError as exc:
            if exc.status_code == 404:
                raise _NotFound from None
            raise DiscoveryError(
                f"the discovery service {safe_url(self.address)} answered {path} with "
                f"status {exc.status_code}" + (f": {exc.detail}" if exc.detail else "")
            ) from None
        if not isinstance(data, Mapping):
            raise _no_service(self.address)
        return data

    def collection(self, path: str, key: str) -> list[Any]:
        items: list[Any] = []
        page_token: Optional[str] = None
        for _ in range(_MAX_PAGES):
            page = self.get(path, page_token)
            entries = page.get(key, [])
            if not isinstance(entries, list):
                raise DiscoveryError(f"the discovery service sent '{key}' that is not a list")
            items.extend(entries)
            next_token = page.get("nextPageToken")
            if not next_token:
                return items
            page_token = str(next_token)
        raise DiscoveryError(f"the discovery service sent more than {_MAX_PAGES} pages of {key}")


def fetch_discovery(
    session: requests.Session,
    address: str,
    *,
    timeout: float,
    allow_insecure_http: bool = False,
) -> Discovery:
    """Environment, services, clients, links and components of the service at ``address``.

    A 404 on links or components means the service predates them: none. Any
    other 404, or an answer that is not JSON, means ``address`` is no
    discovery service.
    """
    fetch = _Fetcher(session, address, timeout, allow_insecure_http)
    try:
        environment_doc = fetch.get("v1/environment")
        services = fetch.collection("v1/services", "services")
        clients = fetch.collection("v1/clients", "clients")
    except _NotFound:
        raise _no_service(address) from None
    optional: dict[str, list[Any]] = {}
    for collection in ("links", "components"):
        try:
            optional[collection] = fetch.collection(f"v1/{collection}", collection)
        except _NotFound:
            optional[collection] = []
    environment = environment_doc.get("environment")
    if not isinstance(environment, Mapping):
        raise _no_service(address)
    return Discovery(
        environment=Environment.from_json(environment),
        services=record_map(services, "services", Service.from_json),
        clients=record_map(clients, "clients", Client.from_json),
        links=record_map(optional["links"], "links", Link.from_json),
        components=record_map(optional["components"], "components", Component.from_json),
    )
