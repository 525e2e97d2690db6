"""What an answer that is not a token means: error mapping, pure and tested without HTTP.

A non-2xx answer becomes a :class:`~h2oauth_lite.errors.TokenEndpointError`
(RFC 6749 section 5.2 members when the body has them, else a short
sanitised excerpt), and a ``requests`` exception a
:class:`~h2oauth_lite.errors.TransportError` that names the host and the
reason. Whatever the server wrote is scrubbed (:func:`~h2oauth_lite._redact.scrub`)
of the values the request carried and of anything credential-shaped before
it is kept: servers and proxies echo requests back.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional

from .._redact import scrub
from ..errors import TokenEndpointError, TransportError
from .urls import safe_url

__all__ = [
    "NOT_JSON",
    "decode_json",
    "error_from_response",
    "located",
    "snippet",
    "transport_error",
]

_SNIPPET_CHARS = 200

_TAGS = re.compile(r"<[^>]*>")
_NOT_SHOWN = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_TITLE = re.compile(r"(?is)<title\b[^>]*>(.*?)</title\s*>")
_SPACE = re.compile(r"\s+")


def snippet(body: bytes, sent: Sequence[str] = ()) -> str:
    """A short, printable, scrubbed excerpt of a non-JSON body (an HTML error page, say).

    Each piece of text shows once: error pages repeat their title as a heading.
    """
    text = body[: _SNIPPET_CHARS * 8].decode("utf-8", "replace")
    title = _TITLE.search(text)
    text = _NOT_SHOWN.sub(" ", text)
    pieces = [title.group(1)] if title else []
    pieces += _TAGS.split(text)
    seen: list[str] = []
    for piece in pieces:
        cleaned = _SPACE.sub(" ", piece).strip()
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    text = "".join(ch for ch in " ".join(seen) if ch.isprintable())
    text = scrub(text, sent)
    return text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else "")


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    # RecursionError: "[[[[..." nested past the parser's depth, well inside the body limit.
    except (UnicodeDecodeError, ValueError, RecursionError):
        return NOT_JSON


NOT_JSON = object()


def _string_member(data: Mapping[str, Any], name: str, sent: Sequence[str]) -> Optional[str]:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        return None
    cleaned = scrub("".join(ch for ch in value if ch.isprintable()), sent)
    return cleaned[:_SNIPPET_CHARS] + ("..." if len(cleaned) > _SNIPPET_CHARS else "")


def _error_code(data: Mapping[str, Any], sent: Sequence[str]) -> Optional[str]:
    """The ``error`` member when it is an error code (RFC 6749 section 5.2: printable
    ASCII, no quote or backslash); else scrubbed text like any other member."""
    value = data.get("error")
    if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
        return scrub(value, sent)
    return _string_member(data, "error", sent)


_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")


def error_from_response(
    status_code: int,
    body: bytes,
    location: Optional[str] = None,
    *,
    sent: Sequence[str] = (),
) -> TokenEndpointError:
    """The error for a non-2xx answer: pure, so every shape is tested without HTTP.

    RFC 6749 section 5.2 bodies give ``error``/``error_description``/``error_uri``;
    FastAPI-style servers answer ``{"detail": "..."}``; anything else is quoted
    as a short sanitised snippet. ``sent`` are the values the request carried
    (see :func:`~h2oauth_lite._redact.sent_values`): none of them shows.
    """
    if 300 <= status_code < 400:
        target = f" to {safe_url(location)}" if location else ""
        return TokenEndpointError(
            status_code,
            detail=f"the server redirected{target}; redirects are not followed, so credentials "
            "are never sent to another address (check the URL)",
        )
    data = decode_json(body)
    if isinstance(data, Mapping):
        error = _error_code(data, sent)
        description = _string_member(data, "error_description", sent)
        detail = _string_member(data, "detail", sent)
        if error is None and detail is not None:
            error = _error_code_in(detail)
            description = detail
        return TokenEndpointError(
            status_code, error, description, _string_member(data, "error_uri", sent)
        )
    if not body.strip():
        return TokenEndpointError(status_code, detail="empty response body")
    return TokenEndpointError(status_code, detail=f"response: {snippet(body, sent)}")


_KNOWN_ERROR_CODES = (
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "invalid_grant",
    "invalid_client",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_grant_type",
)


def _error_code_in(detail: str) -> Optional[str]:
    """An RFC 6749/8628 error code quoted inside a free-text ``detail``."""
    lowered = detail.lower()
    for code in _KNOWN_ERROR_CODES:
        if code in lowered:
            return code
    return None


def transport_error(
    exc: Exception, url: str, timeout: float, request: Optional[str] = None
) -> TransportError:
    """The error for a request that got no answer; the message says what and where."""
    import requests

    where = safe_url(url)
    if isinstance(exc, requests.exceptions.Timeout):
        message = f"no answer from {where} within {timeout:g} s"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
        message = f"the connection to {where} closed before the whole answer arrived"
    elif isinstance(exc, requests.exceptions.SSLError):
        message = f"TLS handshake with {where} failed (certificate not trusted or wrong host?)"
    elif isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            reason = "connection refused"
        elif "reset" in text or "aborted" in text:
            reason = "connection reset"
        elif "name or service" in text or "getaddrinfo" in text or "resolve" in text:
            reason = "host name not found"
        else:
            reason = "connection failed"
        message = f"could not reach {where}: {reason}"
    else:
        message = f"request to {where} failed: {type(exc).__name__}"
    if request:
        message = f"{message} ({request})"
    return TransportError(message, url=where, request=request)


@contextlib.contextmanager
def located(what: str, url: str) -> Iterator[None]:
    """Errors raised inside say which request (``what``) failed, and where (``url``)."""
    try:
        yield
    except TokenEndpointError as exc:
        exc.locate(what, safe_url(url))
        raise
    except TransportError as exc:
        exc.locate(what)
        raise
