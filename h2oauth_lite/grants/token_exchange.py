"""The token-exchange grant (RFC 8693): a token for one audience traded for another.

A service that received a user's token (the *subject*) asks its
authorization server for a token to call the next service with, for that
user; an optional *actor* token says who acts on the subject's behalf.
Both come from a string, a callable, or any provider or cache: an
:class:`~h2oauth_lite.AuthCache` hands out its current token, refreshing it
first when it has expired, so the exchange always presents a live subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable, Optional, Union

from ..errors import ConfigError
from ..protocols import SupportsGetToken
from ..token import Token
from .base import TokenGrant
from .endpoint import TokenEndpoint, one_or_more

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import ClientOptions

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "ID_TOKEN_TYPE",
    "JWT_TOKEN_TYPE",
    "REFRESH_TOKEN_TYPE",
    "TOKEN_EXCHANGE_GRANT",
    "TokenExchangeProvider",
    "TokenSource",
]

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"

# Where a subject or actor token comes from: the token itself, a function that
# returns it, or a provider or cache (its get_token(), so a cache refreshes first).
TokenSource = Union[str, SupportsGetToken, Callable[[], str]]
# One value or several: RFC 8693 section 2.1 allows audience and resource to repeat.
OneOrMore = Union[str, Sequence[str], None]


class TokenExchangeProvider(TokenGrant):
    """Exchanges a subject token (and an optional actor token) for a new token.

    ``subject_token`` / ``actor_token``: a string, a callable returning one,
    or a provider or cache (read anew for every exchange).
    ``subject_token_type`` / ``actor_token_type`` default to the access-token
    type URI. ``audience`` and the shared ``resource`` option (RFC 8707) are
    one value or a list; ``scope`` is the shared option too; ``requested_token_type`` asks for a
    kind of token. Every call is one token request: put it under an
    :class:`~h2oauth_lite.AuthCache` to cache and refresh the result like
    any other grant's.
    """

    grant_type = TOKEN_EXCHANGE_GRANT

    def __init__(
        self,
        auth_url: Optional[str] = None,
        client_id: str = "",
        client_secret: Optional[str] = None,
        *,
        subject_token: TokenSource,
        subject_token_type: str = ACCESS_TOKEN_TYPE,
        actor_token: Optional[TokenSource] = None,
        actor_token_type: Optional[str] = None,
        audience: OneOrMore = None,
        requested_token_type: Optional[str] = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            TokenEndpoint(
                auth_url,
                client_id=client_id,
                client_secret=client_secret,
                owner=type(self).__name__,
                **options,
            )
        )
        self._subject = _check_source(subject_token, "subject_token")
        self.subject_token_type = _check_uri(subject_token_type, "subject_token_type")
        self._actor = None if actor_token is None else _check_source(actor_token, "actor_token")
        if self._actor is not None:
            actor_token_type = actor_token_type or ACCESS_TOKEN_TYPE
        elif actor_token_type is not None:
            raise ConfigError("actor_token_type was given without an actor_token")
        self.actor_token_type = (
            None if actor_token_type is None else _check_uri(actor_token_type, "actor_token_type")
        )
        self.audience = one_or_more(audience, "audience")
        self.requested_token_type = (
            None
            if requested_token_type is None
            else _check_uri(requested_token_type, "requested_token_type")
        )

    def _obtain(self) -> Token:
        form: dict[str, Union[str, list[str]]] = {
            "grant_type": self.grant_type,
            "subject_token": _read(self._subject, "subject_token"),
            "subject_token_type": self.subject_token_type,
        }
        if self._actor is not None and self.actor_token_type is not None:
            form["actor_token"] = _read(self._actor, "actor_token")
            form["actor_token_type"] = self.actor_token_type
        if self.audience:
            form["audience"] = self.audience
        if self.requested_token_type:
            form["requested_token_type"] = self.requested_token_type
        return self.endpoint.request_token(form)


def _check_source(source: object, name: str) -> TokenSource:
    if isinstance(source, str):
        if not source.strip():
            raise ConfigError(f"{name} is empty")
        return source
    if isinstance(source, SupportsGetToken) or callable(source):
        return source
    raise ConfigError(
        f"{name} must be a token string, a callable or a provider, not {type(source).__name__}"
    )


def _read(source: TokenSource, name: str) -> str:
    """The token now: a provider's or cache's current access token, a callable's answer."""
    if isinstance(source, str):
        return source
    if isinstance(source, SupportsGetToken):
        return source.get_token().access_token
    value = source()
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"the {name} callable returned no token")
    return value


def _check_uri(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a token type URI")
    return value
