"""The contract of a client authentication method (RFC 6749 section 2.3). Pure.

A method is any object with a ``client_id`` and an ``apply(token_url,
headers, data)`` that adds what it needs to one request's headers and form
body: :class:`ClientAuth`. A method whose credential works only once (a
signed assertion with a ``jti``) is an :class:`AssertionClientAuth`: the
token endpoint then retries its requests only after connect errors, since
a resent request would replay the same assertion, and lets it explain a
refusal of the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..errors import TokenEndpointError

__all__ = ["AssertionClientAuth", "ClientAuth", "require_client_id"]


@runtime_checkable
class ClientAuth(Protocol):
    """What every client authentication method provides."""

    client_id: str

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        """Add this client's credentials to one token-endpoint request."""


@runtime_checkable
class AssertionClientAuth(ClientAuth, Protocol):
    """A method that signs a new single-use assertion for every request."""

    def explain_rejection(self, error: TokenEndpointError, url: str) -> TokenEndpointError:
        """``error`` with the usual causes when the server refused the assertion."""


def require_client_id(client_id: str) -> str:
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError("client_id is required")
    return client_id
