"""OpenID Provider metadata (OpenID Connect Discovery 1.0), fetched once per issuer."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigError
from .send import DEFAULT_TIMEOUT, get_json
from .urls import check_url

if TYPE_CHECKING:
    import requests

__all__ = ["IssuerMetadata", "discovery_url"]


def discovery_url(issuer_url: str) -> str:
    """Where an issuer publishes its metadata."""
    return issuer_url.rstrip("/") + "/.well-known/openid-configuration"


class IssuerMetadata:
    """An issuer's discovery document, fetched on first use and kept after the first success.

    A failed fetch is not remembered, so the next call tries again.
    """

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
        self._document: Optional[Mapping[str, Any]] = None
        self._lock = threading.Lock()

    def document(self, session: requests.Session) -> Mapping[str, Any]:
        document = self._document
        if document is not None:
            return document
        with self._lock:
            if self._document is None:
                fetched = get_json(
                    session,
                    discovery_url(self.issuer_url),
                    timeout=self._timeout,
                    allow_insecure_http=self._allow_insecure_http,
                )
                if not isinstance(fetched, Mapping):
                    raise ConfigError(
                        f"the discovery document of {self.issuer_url} is not a JSON object"
                    )
                self._document = fetched
            return self._document

    def endpoint(self, session: requests.Session, name: str) -> str:
        """An endpoint URL from the document, e.g. ``token_endpoint``; ConfigError if absent."""
        value = self.document(session).get(name)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"the issuer {self.issuer_url} does not advertise a {name}")
        return check_url(value, allow_insecure_http=self._allow_insecure_http, what=name)

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
