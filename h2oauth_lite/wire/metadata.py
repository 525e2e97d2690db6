"""Authorization server metadata, fetched once per issuer.

Two documents describe an issuer: OpenID Connect Discovery 1.0
(``<issuer>/.well-known/openid-configuration``) and RFC 8414 OAuth 2.0
Authorization Server Metadata (``/.well-known/oauth-authorization-server``
inserted before the issuer's path). Servers publish either or both, and not
always the same endpoints in each (an OpenID document without a revocation
endpoint that the RFC 8414 one lists), so an endpoint is looked up in the
OpenID document first and, when it is missing there, in the RFC 8414 one.
Each document is fetched at most once after it succeeded; a 404 counts as
"not published", any other failure is raised and tried again next time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, TokenEndpointError
from .send import DEFAULT_TIMEOUT, get_json
from .urls import check_url

if TYPE_CHECKING:
    import requests

__all__ = ["IssuerMetadata", "discovery_url", "metadata_urls"]

_OPENID = "/.well-known/openid-configuration"
_OAUTH = "/.well-known/oauth-authorization-server"


def discovery_url(issuer_url: str) -> str:
    """Where an issuer publishes its OpenID Connect discovery document."""
    return issuer_url.rstrip("/") + _OPENID


def metadata_urls(issuer_url: str) -> list[str]:
    """The metadata documents of an issuer, in the order they are consulted.

    The OpenID form appends to the issuer; RFC 8414 section 3 inserts the
    well-known path between the host and the issuer's path. For an issuer
    with a path, the OpenID document is also looked for in the inserted form
    (RFC 8414 section 5 notes servers that publish it there).
    """
    parts = urlsplit(issuer_url)
    path = parts.path.rstrip("/")

    def inserted(well_known: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, well_known + path, "", ""))

    urls = [discovery_url(issuer_url)]
    if path:
        urls.append(inserted(_OPENID))
    urls.append(inserted(_OAUTH))
    return urls


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class IssuerMetadata:
    """An issuer's metadata documents, each fetched on first need and kept once fetched."""

    def __init__(
        self,
        issuer_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        allow_insecure_http: bool = False,
    ) -> None:
        self.issuer_url = check_url(
            issuer_url, allow_insecure_http=allow_insecure_http, what="issuer"
        )
        self._timeout = timeout
        self._allow_insecure_http = allow_insecure_http
        self._urls = metadata_urls(self.issuer_url)
        # url -> document; an empty mapping for one the server does not publish
        self._documents: dict[str, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def _fetch(self, session: requests.Session, url: str) -> Mapping[str, Any]:
        """The document at ``url``, fetched once; TokenEndpointError for a 404 too."""
        known = self._documents.get(url)
        if known is not None:
            return known
        with self._lock:
            if url not in self._documents:
                fetched = get_json(
                    session,
                    url,
                    timeout=self._timeout,
                    allow_insecure_http=self._allow_insecure_http,
                    what="discovery document",
                )
                if not isinstance(fetched, Mapping):
                    raise ConfigError(f"the discovery document {url} is not a JSON object")
                self._documents[url] = fetched
            return self._documents[url]

    def _published(self, session: requests.Session, url: str) -> Mapping[str, Any]:
        """The document at ``url``, or an empty one (remembered) when it is not published."""
        try:
            return self._fetch(session, url)
        except TokenEndpointError as exc:
            if exc.status_code != 404:
                raise
            with self._lock:
                self._documents[url] = {}
            return {}

    def document(self, session: requests.Session) -> Mapping[str, Any]:
        """The first metadata document the issuer publishes (OpenID, else RFC 8414).

        When it publishes none, the error is the OpenID document's own (its 404),
        and nothing is remembered: the next call asks again.
        """
        first_error: Optional[TokenEndpointError] = None
        for url in self._urls:
            try:
                document = self._fetch(session, url)
            except TokenEndpointError as exc:
                if exc.status_code != 404:
                    raise
                first_error = first_error or exc
                continue
            if document:
                for earlier in self._urls[: self._urls.index(url)]:
                    self._documents.setdefault(earlier, {})  # known now: not published
                return document
        if first_error is not None:
            raise first_error
        raise ConfigError(f"the metadata documents of the issuer {self.issuer_url} are empty")

    def endpoint(self, session: requests.Session, name: str) -> str:
        """An endpoint URL by its metadata name (``token_endpoint``, ...); ConfigError if no
        document lists it."""
        self.document(session)  # the issuer publishes something, or this raises
        for url in self._urls:
            value = self._published(session, url).get(name)
            if isinstance(value, str) and value:
                return check_url(value, allow_insecure_http=self._allow_insecure_http, what=name)
        raise ConfigError(
            f"the issuer {self.issuer_url} does not advertise {_article(name)} {name} "
            f"(pass it explicitly: {name.replace('_endpoint', '_url')}=...)"
        )

    def reset_lock(self) -> None:
        """A new lock, for a forked child (the parent's may have been held)."""
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

