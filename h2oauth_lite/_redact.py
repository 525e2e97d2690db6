"""Redaction: how a secret shows in a ``repr``, a message or a log line. Pure.

Every class that holds a token, a secret or a key prints it through
:func:`mask`, so there is one look for "a secret was here" across the library.

:func:`scrub` cleans text that came from elsewhere (a server's error page, a
proxy that echoes the request back, a JSON ``error_description``) before any
of it reaches a message, a log line or a ``repr``. Two nets, because neither
is enough alone: every value the library itself sent in that request is
known and removed wherever it shows (raw, form-encoded, inside Basic
credentials); and whatever looks like a credential is removed too: the
values of credential-named fields in form, JSON and header shapes,
``Basic``/``Bearer``/``DPoP`` credentials, JWTs, and long opaque runs of
base64 or hex.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Optional
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = ["PUBLIC_FIELDS", "REDACTED", "mask", "scrub", "sent_values"]

REDACTED = "<redacted>"

# Names whose values are credentials in any shape: form fields, JSON members,
# query parameters. Matched case-insensitively, whole names only.
_CREDENTIAL_NAMES = (
    "client_secret",
    "client_assertion",
    "assertion",
    "refresh_token",
    "access_token",
    "id_token",
    "subject_token",
    "actor_token",
    "device_code",
    "code_verifier",
    "code",
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
)
_NAMES = "|".join(_CREDENTIAL_NAMES)
# name=value in a form body, a query string or a log line (value up to a separator).
_FORM_FIELD = re.compile(rf"(?i)(?<![\w-])({_NAMES})(=)[^&\s\"'<>,;]+")
# "name": "value" in JSON (and its Python-repr cousin 'name': 'value').
_JSON_MEMBER = re.compile(rf"(?i)([\"'])({_NAMES})\1(\s*:\s*)([\"'])(?:\\.|(?!\4).)*\4")
# A header line carrying credentials, echoed by a proxy or a debugging page.
_HEADER = re.compile(
    r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|dpop|x-api-key)"
    r"(\s*[:=]\s*)(?=[^\s<])[^\r\n\"'<>]+"
)
# Credentials with their scheme, wherever they stand.
_SCHEME_CREDENTIAL = re.compile(
    r"(?i)\b(Basic|Bearer|DPoP|Bearer-Token|Bearer-AD)\s+[\w.~+/=-]{6,}"
)
# A compact JWS or JWE: base64url segments starting with an encoded JSON header.
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w.-]*")
# Long runs of base64, base64url or hex: keys, opaque tokens, assertions.
_OPAQUE = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")
_MIN_SENT_LENGTH = 4
# Form fields whose values are protocol words or names, not credentials: an
# error that quotes them ("unsupported_grant_type: password") stays readable.
PUBLIC_FIELDS = frozenset(
    {
        "grant_type",
        "scope",
        "client_id",
        "client_assertion_type",
        "token_type_hint",
        "redirect_uri",
        "response_type",
        "audience",
        "resource",
        "requested_token_type",
        "subject_token_type",
        "actor_token_type",
        "code_challenge_method",
    }
)


def mask(secret: Optional[str]) -> str:
    """Show that a secret is there, and how long it is, without any of its characters."""
    if secret is None:
        return "None"
    return f"'<redacted, {len(secret)} chars>'"


def _forms(value: str) -> set[str]:
    """``value`` as it may show up again: raw, form-encoded, percent-encoded."""
    return {value, quote_plus(value), quote(value, safe="")}


def _basic_parts(value: str) -> list[str]:
    """The id and secret inside ``Basic <base64>`` credentials, as they were encoded."""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return []
    try:
        pair = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return []
    parts = pair.split(":", 1)  # each side form-encoded (RFC 6749 section 2.3.1)
    return [encoded, pair, *parts, *(unquote_plus(part) for part in parts)]


def sent_values(fields: Iterable[Optional[str]]) -> list[str]:
    """What a request carried that must never be shown (its secret form values and
    header values, Basic credentials opened up), in every form it may come back in;
    longest first, so that a value is removed whole."""
    found: set[str] = set()
    for field in fields:
        if not field:
            continue
        for part in (field, field.partition(" ")[2], *_basic_parts(field)):
            if len(part) >= _MIN_SENT_LENGTH:
                found |= _forms(part)
    return sorted(found, key=len, reverse=True)


def _opaque(match: re.Match[str]) -> str:
    run = match.group(0)
    # A long word of letters only is prose or a path; keys and tokens mix in digits.
    return REDACTED if any(ch.isdigit() for ch in run) else run


def scrub(text: str, sent: Iterable[str] = ()) -> str:
    """``text`` with every ``sent`` value and everything credential-shaped removed."""
    for value in sent:
        text = text.replace(value, REDACTED)
    text = _JSON_MEMBER.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[4]}", text)
    text = _FORM_FIELD.sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: f"{m[1]} {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _OPAQUE.sub(_opaque, text)
