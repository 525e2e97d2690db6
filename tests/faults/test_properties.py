"""Property tests: any JSON value or string in, a valid Token or this library's own error out."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from h2oauth_lite.errors import InvalidTokenResponseError, TokenEndpointError
from h2oauth_lite.token import MAX_LIFETIME, Token, jwt_expiry, parse_token_response
from h2oauth_lite.wire.answers import error_from_response

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8")


headers = st.one_of(
    st.fixed_dictionaries({"alg": st.sampled_from(["none", "HS256", "RS256", "ES256"])}),
    json_values,
)
payloads = st.one_of(st.fixed_dictionaries({"exp": json_values}), json_values)
jwt_like = st.builds(
    lambda header, payload, signature: ".".join(
        (_b64(_json_bytes(header)), _b64(_json_bytes(payload)), signature)
    ),
    headers,
    payloads,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=20),
)
access_tokens = st.one_of(jwt_like, st.text(max_size=40), json_values)
token_fields = st.fixed_dictionaries(
    {},
    optional={
        "access_token": access_tokens,
        "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "DPoP"]), json_values),
        "expires_in": st.one_of(st.integers(-(10**12), 10**12), st.text(max_size=12), json_values),
        "refresh_token": st.one_of(st.text(max_size=20), json_values),
        "scope": st.one_of(st.text(max_size=20), st.lists(st.text(max_size=8)), json_values),
        "id_token": st.one_of(st.text(max_size=20), json_values),
        "extra": json_values,
    },
)
epochs = st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False)


def _check_token(token: Token, now: float) -> None:
    assert isinstance(token.access_token, str) and token.access_token
    assert token.access_token.strip() == token.access_token
    assert isinstance(token.token_type, str) and token.token_type
    assert token.expires_at is not None and math.isfinite(token.expires_at)
    assert token.expires_at <= now + MAX_LIFETIME
    assert token.seconds_left(now) is not None
    for name in ("refresh_token", "scope", "id_token"):
        value = getattr(token, name)
        assert value is None or (isinstance(value, str) and value)
    # Every derived view works on whatever came in.
    assert token.headers["Authorization"].endswith(token.access_token)
    token.as_access_token()
    repr(token)
    token.to_dict()


@settings(max_examples=400, deadline=None)
@given(data=json_values | token_fields, now=epochs)
def test_parse_token_response_any_json(data: Any, now: float) -> None:
    try:
        token = parse_token_response(data, now)
    except InvalidTokenResponseError as exc:
        assert str(exc).startswith("Authentication request failed (status: 200 OK)")
        return
    _check_token(token, now)


@settings(max_examples=300, deadline=None)
@given(fields=token_fields, now=epochs)
def test_parse_token_response_token_shaped(fields: dict[str, Any], now: float) -> None:
    fields.setdefault("access_token", "tok")
    try:
        token = parse_token_response(fields, now)
    except InvalidTokenResponseError:
        return
    _check_token(token, now)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=200) | jwt_like)
def test_jwt_expiry_any_string(text: str) -> None:
    exp = jwt_expiry(text)
    assert exp is None or (isinstance(exp, float) and math.isfinite(exp))


@settings(max_examples=200, deadline=None)
@given(exp=st.one_of(st.integers(-(2**64), 2**64), st.floats(allow_nan=True, allow_infinity=True)))
def test_jwt_expiry_of_any_exp(exp: Any) -> None:
    token = ".".join((_b64(b'{"alg":"HS256","typ":"JWT"}'), _b64(_json_bytes({"exp": exp})), "sig"))
    found = jwt_expiry(token)
    if isinstance(exp, int) or (isinstance(exp, float) and math.isfinite(exp)):
        assert found == float(exp)
    else:
        assert found is None
    # Without expires_in the exp decides, however far in the past or future it lies.
    _check_token(parse_token_response({"access_token": token}, 1.7e9), 1.7e9)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(100, 599), body=st.binary(max_size=300) | json_values.map(_json_bytes))
def test_error_from_response_any_body(status: int, body: bytes) -> None:
    error = error_from_response(status, body)
    assert isinstance(error, TokenEndpointError)
    assert error.status_code == status
    message = str(error)
    assert message.startswith("Authentication request failed")
    assert message.isprintable()
