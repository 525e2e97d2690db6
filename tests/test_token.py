"""The token model and token-response parsing: pure functions, plain data."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import jwt
import pytest

from h2oauth_lite import AccessToken, InvalidTokenResponseError, Token, parse_token_response
from h2oauth_lite.token import MAX_LIFETIME, jwt_expiry
from tests.support.answers import token_body

NOW = 1_700_000_000.0


def make_jwt(**claims: object) -> str:
    return jwt.encode(
        dict(claims), "a-signing-key-that-is-long-enough-for-hs256", algorithm="HS256"
    )


def test_minimal_response_defaults_to_bearer_and_expires_in() -> None:
    token = parse_token_response({"access_token": "opaque-1", "expires_in": 3600}, NOW)
    assert token.access_token == "opaque-1"
    assert token.token_type == "Bearer"
    assert token.expires_at == NOW + 3600
    assert token.expiry_source == "expires_in"
    assert token.refresh_token is None and token.scope is None and token.id_token is None


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", "Bearer", None])
def test_token_type_is_case_insensitive(token_type: object) -> None:
    data = {"access_token": "a", "token_type": token_type}
    assert parse_token_response(data, NOW).token_type == "Bearer"


def test_other_token_types_are_kept() -> None:
    assert (
        parse_token_response({"access_token": "a", "token_type": "DPoP"}, NOW).token_type == "DPoP"
    )


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [
        ("3600", 3600),
        (" 60 ", 60),
        (12.5, 12.5),
        (0, 0),
        (-30, 0),
        ("0", 0),
        (10**12, MAX_LIFETIME),
        # One rule for every number: clamped, however large (beyond any float included).
        (10**400, MAX_LIFETIME),
        (float("inf"), MAX_LIFETIME),
        ("1e400", MAX_LIFETIME),
        ("inf", MAX_LIFETIME),
        (-(10**400), 0),
        (float("-inf"), 0),
    ],
)
def test_expires_in_variants(expires_in: object, lifetime: float) -> None:
    token = parse_token_response({"access_token": "a", "expires_in": expires_in}, NOW)
    assert token.expires_at == NOW + lifetime
    assert token.expiry_source == "expires_in"


def test_missing_expires_in_falls_back() -> None:
    token = parse_token_response(
        {"access_token": "a", "expires_in": None}, NOW, expires_in_fallback=42
    )
    assert token.expires_at == NOW + 42
    assert token.expiry_source == "fallback"
    assert token.as_access_token().exp is None  # a guess is not reported as a fact


@pytest.mark.parametrize("expires_in", ["soon", True, [], {}, float("nan"), "nan", "", "1 h"])
def test_expires_in_that_is_not_a_number_is_refused(expires_in: object) -> None:
    with pytest.raises(InvalidTokenResponseError) as caught:
        parse_token_response({"access_token": "a", "expires_in": expires_in}, NOW)
    assert str(caught.value) == (
        "Authentication request failed (status: 200 OK): "
        "token response member 'expires_in' is not a number of seconds"
    )


def test_default_fallback_is_30_seconds() -> None:
    assert parse_token_response({"access_token": "a"}, NOW).expires_at == NOW + 30


def test_jwt_exp_wins_over_expires_in() -> None:
    access = make_jwt(sub="svc", exp=int(NOW) + 120)
    token = parse_token_response(token_body(access, 3600), NOW)
    assert token.expires_at == NOW + 120
    assert token.expiry_source == "jwt"


def test_jwt_without_exp_uses_expires_in() -> None:
    token = parse_token_response(token_body(make_jwt(sub="x"), 60), NOW)
    assert token.expires_at == NOW + 60


def test_jwt_exp_in_the_past_with_expires_in_is_clock_skew() -> None:
    access = make_jwt(exp=int(NOW) - 600)
    token = parse_token_response(token_body(access, 300), NOW)
    assert token.expires_at == NOW + 300


def test_jwt_exp_in_the_past_alone_means_expired() -> None:
    access = make_jwt(exp=int(NOW) - 600)
    token = parse_token_response({"access_token": access}, NOW)
    assert token.expires_at == NOW - 600
    assert token.is_expired(NOW)
    assert token.seconds_left(NOW) == 0.0


@pytest.mark.parametrize(
    "value",
    [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",  # payload is not JSON
        "x.y",
        "....",
        "",
    ],
)
def test_jwt_expiry_of_non_jwts_is_none(value: str) -> None:
    assert jwt_expiry(value) is None


def test_jwt_expiry_ignores_non_numeric_exp() -> None:
    assert jwt_expiry(make_jwt(exp=10**400)) is None  # beyond any float
    assert jwt_expiry(make_jwt(exp="tomorrow")) is None
    assert jwt_expiry(make_jwt(exp=True)) is None
    assert jwt_expiry(make_jwt(exp=1234)) == 1234.0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "JSON array"),
        ("token", "JSON string"),
        (None, "JSON null"),
        ({}, "no 'access_token'"),
        ({"token": "a"}, "no 'access_token'"),
        ({"access_token": 12}, "'access_token' is not a string"),
        ({"access_token": ["a"]}, "'access_token' is not a string"),
        ({"access_token": ""}, "empty"),
        ({"access_token": " a"}, "white space"),
        ({"access_token": "a", "token_type": 1}, "'token_type'"),
        ({"access_token": "a", "refresh_token": 5}, "'refresh_token'"),
        ({"access_token": "a", "scope": {"a": 1}}, "'scope'"),
    ],
)
def test_invalid_responses_raise_library_errors(data: object, reason: str) -> None:
    with pytest.raises(InvalidTokenResponseError) as caught:
        parse_token_response(data, NOW)
    assert reason in str(caught.value)
    assert caught.value.status_code == 200


def test_scope_array_is_joined_and_extra_fields_kept() -> None:
    token = parse_token_response(
        {"access_token": "a", "scope": ["api:read", "openid"], "issued_token_type": "x"}, NOW
    )
    assert token.scope == "api:read openid"
    assert token["issued_token_type"] == "x"


def test_repr_and_str_never_show_tokens() -> None:
    token = Token("access-secret-value", refresh_token="refresh-secret-value", id_token="id-val")
    for text in (repr(token), str(token), repr(token.as_access_token())):
        assert "access-secret-value" not in text
        assert "refresh-secret-value" not in text
        assert "id-val" not in text
    assert "redacted" in repr(token)


def test_headers_item_access_and_expiry() -> None:
    token = Token("abc", token_type="Bearer", expires_at=NOW + 10, scope="s")
    assert token.headers == {"Authorization": "Bearer abc"}
    assert token["headers"] == token.headers
    assert token["access_token"] == "abc"
    assert token.get("nope", 7) == 7
    with pytest.raises(KeyError):
        token["nope"]
    assert token.seconds_left(NOW) == 10
    assert token.exp == datetime.fromtimestamp(NOW + 10, tz=timezone.utc)
    assert Token("x", expires_at=0).expires_in == 0  # never negative
    assert Token("x").expires_in is None


def test_access_token_is_a_str_with_exp_and_scope() -> None:
    token = Token("abc", expires_at=NOW, scope="api:read", expiry_source="jwt")
    access = token.as_access_token()
    assert isinstance(access, str) and access == "abc" and str(access) == "abc"
    assert access.exp == datetime.fromtimestamp(NOW, tz=timezone.utc)
    assert access.exp.tzinfo is not None
    assert access.scope == "api:read"
    copy = pickle.loads(pickle.dumps(access))
    assert isinstance(copy, AccessToken) and copy == "abc" and copy.exp == access.exp


def test_to_dict_round_trips_through_parsing() -> None:
    token = Token("abc", expires_at=NOW + 5, refresh_token="r", scope="s")
    data = token.to_dict()
    assert data == {
        "access_token": "abc",
        "token_type": "Bearer",
        "expires_at": NOW + 5,
        "refresh_token": "r",
        "scope": "s",
    }
    assert pickle.loads(pickle.dumps(token)) == token


@pytest.mark.parametrize(
    "expires_at", [float("inf"), float("-inf"), float("nan"), 1e20, 10**400, -1e20]
)
def test_from_dict_refuses_expiries_no_clock_reaches(expires_at: object) -> None:
    with pytest.raises(ValueError, match="expiry"):
        Token.from_dict({"access_token": "a", "expires_at": expires_at})
    with pytest.raises(ValueError, match="expiry"):
        Token.from_dict({"access_token": "a", "expires": expires_at})


def test_from_dict_keeps_ordinary_expiries() -> None:
    assert Token.from_dict({"access_token": "a", "expires_at": 0}).expires_at == 0.0
    assert Token.from_dict({"access_token": "a", "expires": 1_700_000_000}).expires_at == 1.7e9


@pytest.mark.parametrize("expires_at", [float("inf"), 1e20, -1e20])
def test_exp_never_raises(expires_at: float) -> None:
    token = Token("a", expires_at=expires_at)
    exp = token.exp
    assert exp is not None and exp.tzinfo is not None
    assert exp == (datetime.max if expires_at > 0 else datetime.min).replace(tzinfo=timezone.utc)
    assert token.as_access_token().exp == exp
    assert isinstance(token.expires_in, int)  # and no OverflowError either
    assert Token("a", expires_at=float("nan")).exp is None
