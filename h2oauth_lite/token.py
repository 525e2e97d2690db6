"""The token model and the parsing of token responses: pure, no I/O.

``parse_token_response`` turns the JSON object a token endpoint answered
(RFC 6749 section 5.1) into a :class:`Token`, or raises
:class:`~h2oauth_lite.errors.InvalidTokenResponseError`. Expiry comes from the
access token's own ``exp`` claim when it is a JWT, because that is what the
resource server will check; ``expires_in`` is the next best source, and a
fallback lifetime covers servers that send neither.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional, Union

from ._redact import mask
from .errors import InvalidTokenResponseError

__all__ = [
    "DEFAULT_EXPIRES_IN_FALLBACK",
    "MAX_LIFETIME",
    "AccessToken",
    "Token",
    "TokenLike",
    "jwt_expiry",
    "parse_token_response",
]

DEFAULT_EXPIRES_IN_FALLBACK = 30.0
# Ten years: anything longer is a server bug, and a huge float would overflow datetime.
MAX_LIFETIME = 10 * 365 * 24 * 3600.0
# 9999-12-31T23:59:59Z, the last second a datetime holds: a stored expiry past it
# (or before 1970) is corrupt, not a token that lives for ever.
_LAST_EPOCH_SECOND = 253_402_300_799.0


class AccessToken(str):
    """An access token as a plain ``str``, with its expiry and scope attached.

    This is what h2o-authn's ``TokenProvider.token()`` returns and what the
    h2oGPTe client formats with ``str()``.
    """

    exp: Optional[datetime]
    scope: Optional[str]

    def __new__(
        cls, value: str, exp: Optional[datetime] = None, scope: Optional[str] = None
    ) -> AccessToken:
        self = super().__new__(cls, value)
        self.exp = exp
        self.scope = scope
        return self

    def __repr__(self) -> str:
        return f"AccessToken({mask(str(self))}, exp={self.exp!r}, scope={self.scope!r})"

    def __reduce__(self) -> Any:
        return (AccessToken, (str(self), self.exp, self.scope))


_ITEM_NAMES = (
    "access_token",
    "token_type",
    "expires_at",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
    "headers",
)


@dataclass(frozen=True)
class Token:
    """An access token and what came with it. Immutable, so it can be shared freely.

    ``expires_at`` is in epoch seconds (None: unknown, treated as not expiring
    by itself). Item access (``token["headers"]``) serves code written for
    dictionary-shaped tokens.
    """

    access_token: str
    token_type: str = "Bearer"
    expires_at: Optional[float] = None
    refresh_token: Optional[str] = None
    scope: Optional[str] = None
    id_token: Optional[str] = None
    # "jwt", "expires_in", "fallback" (a guess: AccessToken.exp is then None) or "given".
    expiry_source: str = field(default="given", compare=False)
    # Every other member of the response, for callers that need a vendor field.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return (
            f"Token(access_token={mask(self.access_token)}, token_type={self.token_type!r}, "
            f"expires_at={self.expires_at!r}, refresh_token={mask(self.refresh_token)}, "
            f"scope={self.scope!r}, id_token={mask(self.id_token)})"
        )

    __str__ = __repr__

    def seconds_left(self, now: float) -> Optional[float]:
        """Seconds until expiry at ``now`` (epoch seconds), never negative; None if unknown."""
        if self.expires_at is None:
            return None
        return max(0.0, self.expires_at - now)

    @property
    def expires_in(self) -> Optional[int]:
        """Whole seconds left now, never negative; None when the expiry is unknown."""
        import time

        left = self.seconds_left(time.time())
        if left is None:
            return None
        return int(left) if math.isfinite(left) else int(MAX_LIFETIME)  # int(inf) would raise

    def is_expired(self, now: float, leeway: float = 0.0) -> bool:
        """True when the token has less than ``leeway`` seconds left at ``now``."""
        return self.expires_at is not None and self.expires_at - leeway <= now

    @property
    def headers(self) -> dict[str, str]:
        """The request headers that carry this token."""
        return {"Authorization": f"{self.token_type} {self.access_token}"}

    @property
    def exp(self) -> Optional[datetime]:
        """``expires_at`` as a timezone-aware datetime."""
        if self.expires_at is None or math.isnan(self.expires_at):
            return None
        try:
            return datetime.fromtimestamp(self.expires_at, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            # A Token built by hand may hold any float; past the calendar, clamp to it.
            edge = datetime.max if self.expires_at > 0 else datetime.min
            return edge.replace(tzinfo=timezone.utc)

    def as_access_token(self) -> AccessToken:
        """The ``str`` form h2o-authn callers expect; ``exp`` is None when it was only guessed."""
        exp = None if self.expiry_source == "fallback" else self.exp
        return AccessToken(self.access_token, exp=exp, scope=self.scope)

    def to_dict(self) -> dict[str, Any]:
        """The token as a JSON-ready mapping (secrets included: for storage, never logs)."""
        data: dict[str, Any] = dict(self.extra)
        data.update(access_token=self.access_token, token_type=self.token_type)
        for name in ("expires_at", "refresh_token", "scope", "id_token"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        """The inverse of :meth:`to_dict`; also reads py-oidc-auth-client's stored tokens.

        Those carry the expiry as ``expires`` (epoch seconds) and a ready-made
        ``headers`` member, which is derived and therefore dropped. ValueError
        when ``access_token`` is missing or a member has the wrong type.
        """
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ValueError("stored token has no access_token")
        expires_at = data.get("expires_at", data.get("expires"))
        if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float, type(None))):
            raise ValueError("stored token has a non-numeric expiry")
        if expires_at is not None:
            expires_at = _stored_expiry(expires_at)
        values: dict[str, Any] = {}
        for name in ("token_type", "refresh_token", "scope", "id_token"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"stored token member '{name}' is not a string")
            values[name] = value or None
        derived = {"access_token", "expires_at", "expires", "headers", *values}
        return cls(
            access_token=access_token,
            token_type=values.pop("token_type") or "Bearer",
            expires_at=expires_at,
            extra={key: value for key, value in data.items() if key not in derived},
            **values,
        )

    def __getitem__(self, name: str) -> Any:
        if name not in _ITEM_NAMES:
            if name in self.extra:
                return self.extra[name]
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def keys(self) -> Iterator[str]:
        return iter(_ITEM_NAMES)


# What revocation, introspection and invalidate() take: a Token or an access token.
TokenLike = Union[str, Token]


def _stored_expiry(value: float) -> float:
    """A stored expiry as epoch seconds; ValueError when no clock could ever reach it."""
    try:
        seconds = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise ValueError("stored token has an out-of-range expiry") from None
    if not 0.0 <= seconds <= _LAST_EPOCH_SECOND:  # also False for NaN
        raise ValueError("stored token has an out-of-range expiry")
    return seconds


def jwt_expiry(token: str) -> Optional[float]:
    """The ``exp`` claim of a JWT as epoch seconds, or None when ``token`` is no JWT.

    The signature is not checked: the value only schedules refreshes, and the
    resource server verifies the token anyway. A compact JWS has three
    base64url segments whose first decodes to a JSON header with ``alg``;
    anything else (an opaque token, a JWE, junk) is "not a JWT".
    """
    if token.count(".") != 2:
        return None
    import jwt  # PyJWT, loaded on first use to keep ``import h2oauth_lite`` cheap

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, UnicodeError):
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    try:
        seconds = float(exp)
    except OverflowError:  # an integer beyond any float: no usable expiry
        return None
    return seconds if math.isfinite(seconds) else None


def json_seconds(value: Any) -> Optional[float]:
    """A JSON member meant as seconds (``expires_in``, ``interval``): an int, a float
    or a numeric string, as a float. Numbers beyond any float (``1e400``, a
    400-digit integer) are infinite, to be capped by the caller; None for
    anything that is not a number (``"soon"``, ``true``, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    except OverflowError:  # an int with hundreds of digits (a str would not overflow)
        seconds = math.inf if isinstance(value, int) and value > 0 else -math.inf
    return None if math.isnan(seconds) else seconds


def _lifetime(value: Any, invalid: Callable[[str], InvalidTokenResponseError]) -> Optional[float]:
    """``expires_in`` as seconds between 0 and ten years; None when absent.

    The one rule: any number is clamped into that range (a negative one means
    "already expired", an absurdly large one is a server bug capped at ten
    years); anything else is not an answer to trust, and is refused.
    """
    if value is None:
        return None
    seconds = json_seconds(value)
    if seconds is None:
        raise invalid("token response member 'expires_in' is not a number of seconds")
    return min(max(seconds, 0.0), MAX_LIFETIME)


def _optional_str(data: Mapping[str, Any], name: str) -> Optional[str]:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTokenResponseError(
            200, detail=f"token response member '{name}' is not a string"
        )
    return value or None


_TOKEN_TYPES = {"bearer": "Bearer", "dpop": "DPoP"}


def parse_token_response(
    data: Any,
    now: float,
    *,
    expires_in_fallback: float = DEFAULT_EXPIRES_IN_FALLBACK,
    status_code: int = 200,
) -> Token:
    """Validate an RFC 6749 section 5.1 token response and build a :class:`Token`.

    ``now`` is the epoch time the answer arrived. ``expires_in`` may be an int,
    a float or a numeric string; 0 or a negative value means "already
    expired"; absurd values (``1e400`` included) are capped at ten years; a
    value that is not a number (``"soon"``, ``true``, NaN) is refused.
    """

    def invalid(reason: str) -> InvalidTokenResponseError:
        return InvalidTokenResponseError(status_code, detail=reason)

    if not isinstance(data, Mapping):
        raise invalid(f"token response is a JSON {_json_kind(data)}, not an object")
    access_token = data.get("access_token")
    if not isinstance(access_token, str):
        if access_token is None:
            raise invalid("token response has no 'access_token'")
        raise invalid("token response member 'access_token' is not a string")
    if not access_token or access_token.strip() != access_token or "\n" in access_token:
        raise invalid("token response member 'access_token' is empty or holds white space")

    token_type = data.get("token_type", "Bearer")
    if token_type is None:
        token_type = "Bearer"
    if not isinstance(token_type, str) or not token_type.strip():
        raise invalid("token response member 'token_type' is not a string")
    # RFC 6749 section 5.1: case-insensitive; resource servers expect these spellings.
    token_type = _TOKEN_TYPES.get(token_type.lower(), token_type)

    exp = jwt_expiry(access_token)
    lifetime = _lifetime(data.get("expires_in"), invalid)
    if exp is not None and (exp > now or lifetime is None):
        # Before 1970 is as expired as yesterday, and keeps Token.exp a valid datetime.
        expires_at, source = min(max(exp, 0.0), now + MAX_LIFETIME), "jwt"
    elif lifetime is not None:
        # Also the path for a JWT whose exp is already past while expires_in is
        # not: that is clock skew between us and the server, and expires_in is
        # relative, so it is the figure that survives the skew.
        expires_at, source = now + lifetime, "expires_in"
    else:
        expires_at, source = now + expires_in_fallback, "fallback"

    scope = data.get("scope")
    if isinstance(scope, list) and all(isinstance(item, str) for item in scope):
        scope = " ".join(scope)  # some servers send a JSON array
    elif scope is not None and not isinstance(scope, str):
        raise invalid("token response member 'scope' is not a string")

    known = {"access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"}
    return Token(
        access_token=access_token,
        token_type=token_type,
        expires_at=expires_at,
        refresh_token=_optional_str(data, "refresh_token"),
        scope=scope or None,
        id_token=_optional_str(data, "id_token"),
        expiry_source=source,
        extra={key: value for key, value in data.items() if key not in known},
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__
