"""Every exception this library raises on purpose.

All of them derive from :class:`AuthError`, carry only non-secret data and
survive a pickle round trip with their attributes, because Airflow and
``multiprocessing`` ship exceptions between processes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Optional

__all__ = [
    "AccessDeniedError",
    "ArgumentError",
    "AuthError",
    "ConfigError",
    "DeviceCodeExpiredError",
    "DiscoveryError",
    "DiscoveryLookupError",
    "FlowTimeoutError",
    "InvalidTokenResponseError",
    "NotInteractiveError",
    "TokenEndpointError",
    "TokenStoreError",
    "TokenStoreUnavailableError",
    "TransportError",
]


class AuthError(Exception):
    """Base class of every error raised by h2oauth-lite."""


class ConfigError(AuthError, RuntimeError):
    """The configuration is missing or wrong (environment, arguments, key files)."""


class TokenStoreError(ConfigError):
    """The token store file cannot be written, or its lock cannot be taken in time."""


class TokenStoreUnavailableError(TokenStoreError):
    """A shared token store that answered before does not answer now (down, slow, restarted).

    A cache then serves from its own single flight until the store answers again.
    """


class TransportError(AuthError):
    """The request never got an HTTP answer: refused, reset, timed out, TLS failure.

    ``url`` is where it went (without user info or query) and ``request`` what
    it was ("token request (client_credentials grant)", "discovery document").
    The original ``requests`` exception is the ``__cause__``.
    """

    def __init__(
        self, message: str, *, url: Optional[str] = None, request: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.url = url
        self.request = request

    def locate(self, request: str) -> None:
        """Say which request got no answer, unless the error already says so."""
        if self.request is None:
            self.request = request
            self.args = (f"{self.args[0]} ({request})",)

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args, {"url": self.url, "request": self.request}))


def _status_text(status_code: int) -> str:
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)


class TokenEndpointError(AuthError):
    """The token endpoint answered, but not with a token.

    ``error``, ``error_description`` and ``error_uri`` are the RFC 6749
    section 5.2 members of the answer, when it had them, scrubbed of anything
    that looks like a credential; ``request`` says what was asked ("token
    request (refresh_token grant)", "discovery document", ...) and ``url``
    where (without user info or query).
    """

    def __init__(
        self,
        status_code: int,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        error_uri: Optional[str] = None,
        *,
        detail: Optional[str] = None,
        request: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.error_uri = error_uri
        self.detail = detail
        self.request = request
        self.url = url
        super().__init__(self._format())

    def locate(self, request: str, url: str) -> None:
        """Say which request failed, where, unless the error already says so."""
        if self.request is None and self.url is None:
            self.request, self.url = request, url
            self.args = (self._format(),)

    def _format(self) -> str:
        message = f"Authentication request failed (status: {_status_text(self.status_code)})"
        parts = []
        where = " at ".join(part for part in (self.request, self.url) if part)
        if where:
            parts.append(where)
        if self.error:
            parts.append(f"error: {self.error}")
        if self.error_description:
            parts.append(f"description: {self.error_description}")
        if self.error_uri:
            parts.append(f"see: {self.error_uri}")
        if self.detail:
            parts.append(self.detail)
        return message + (": " + "; ".join(parts) if parts else "")

    def __reduce__(self) -> Any:
        return (
            _rebuild,
            (
                type(self),
                (self.status_code, self.error, self.error_description, self.error_uri),
                {"detail": self.detail, "request": self.request, "url": self.url},
            ),
        )


class InvalidTokenResponseError(TokenEndpointError):
    """A 2xx answer that is not a valid RFC 6749 section 5.1 token response."""


class AccessDeniedError(TokenEndpointError):
    """The user (or the server's policy) refused the interactive login."""


class DeviceCodeExpiredError(TokenEndpointError):
    """The device code ran out before the user finished the login."""


class FlowTimeoutError(AuthError):
    """An interactive login did not finish within the caller's timeout."""


class NotInteractiveError(AuthError):
    """A login is needed but nobody is there to answer it."""


class ArgumentError(ConfigError, ValueError):
    """An argument has a wrong value; also a ``ValueError``, as callers of h2o-authn expect."""


class DiscoveryError(AuthError):
    """The H2O Cloud discovery service is missing or answered something unusable."""


class DiscoveryLookupError(DiscoveryError, LookupError):
    """Nowhere to look for the H2O Cloud discovery service (no argument, variable or config)."""


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)
