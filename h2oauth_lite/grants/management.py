"""Token revocation (RFC 7009) and introspection (RFC 7662).

These functions build the request and judge the answer; the caller hands
them ``post(url, form, ignore_body=...)``, which adds its client
authentication and sends the form through the one HTTP path, so revocation
and introspection authenticate exactly as token requests do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Protocol

from ..errors import ConfigError, InvalidTokenResponseError
from ..token import Token, TokenLike
from ..wire.answers import located

__all__ = ["AuthenticatedPost", "introspect", "revoke", "token_form"]


class AuthenticatedPost(Protocol):
    def __call__(
        self, url: str, form: Mapping[str, str], *, what: str, ignore_body: bool = False
    ) -> Any: ...


def token_form(token: TokenLike, token_type_hint: Optional[str] = None) -> dict[str, str]:
    """The ``token`` and ``token_type_hint`` fields both endpoints take.

    A :class:`Token` stands for its access token (hint ``access_token``
    unless another hint is given).
    """
    if isinstance(token, Token):
        value = token.access_token
        token_type_hint = token_type_hint or "access_token"
    else:
        value = token
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("a token to revoke or introspect is required (got an empty value)")
    form = {"token": value}
    if token_type_hint is not None:
        if not isinstance(token_type_hint, str) or not token_type_hint:
            raise ConfigError(
                "token_type_hint must be a string such as 'access_token' or 'refresh_token'"
            )
        form["token_type_hint"] = token_type_hint
    return form


def revoke(
    post: AuthenticatedPost, url: str, token: TokenLike, token_type_hint: Optional[str] = None
) -> None:
    """Revoke ``token`` at ``url``.

    Any 2xx answer is success whatever its body, and a server answers 200 for
    a token it does not know (RFC 7009 section 2.2): revoking twice is fine.
    Errors such as ``unsupported_token_type`` raise TokenEndpointError.
    """
    post(url, token_form(token, token_type_hint), what="revocation request", ignore_body=True)


def introspect(
    post: AuthenticatedPost, url: str, token: TokenLike, token_type_hint: Optional[str] = None
) -> dict[str, Any]:
    """What the server knows of ``token``: a dict with at least a boolean ``active``.

    An unknown, expired or revoked token gives ``{"active": False}``, not an error.
    """
    what = "introspection request"
    answer = post(url, token_form(token, token_type_hint), what=what)
    with located(what, url):
        return introspection_result(answer)


def introspection_result(answer: Any) -> dict[str, Any]:
    """Check an RFC 7662 section 2.2 answer: a JSON object with a boolean ``active``."""
    if not isinstance(answer, Mapping):
        raise InvalidTokenResponseError(200, detail="the introspection answer is not a JSON object")
    active = answer.get("active")
    if not isinstance(active, bool):
        raise InvalidTokenResponseError(
            200, detail="the introspection answer has no boolean 'active' member"
        )
    return dict(answer)
