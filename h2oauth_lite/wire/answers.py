"""What an answer that is not a token means: error mapping, pure and tested without HTTP.

A non-2xx answer becomes a :class:`~h2oauth_lite.errors.TokenEndpointError`
(RFC 6749 section 5.2 members when the body has them, else a short
sanitised excerpt), and a ``requests`` exception a
:class:`~h2oauth_lite.errors.TransportError` that names the host and the
reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Optional

from ..errors import TokenEndpointError, TransportError
from .urls import safe_url

__all__ = ["NOT_JSON", "decode_json", "error_from_response", "snippet", "transport_error"]

_SNIPPET_CHARS = 200

_TAGS = re.compile(r"<[^>]*>")


_SPACE = re.compile(r"\s+")


def snippet(body: bytes) -> str:
    """A short, printable excerpt of a non-JSON body (an HTML error page, say)."""
    text = body[: _SNIPPET_CHARS * 8].decode("utf-8", "replace")
    text = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else "")


def decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    # RecursionError: "[[[[..." nested past the parser's depth, well inside the body limit.
    except (UnicodeDecodeError, ValueError, RecursionError):
        return NOT_JSON


NOT_JSON = object()


def _string_member(data: Mapping[str, Any], name: str) -> Optional[str]:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def error_from_response(
    status_code: int, body: bytes, location: Optional[str] = None
) -> TokenEndpointError:
    """The error for a non-2xx answer: pure, so every shape is tested without HTTP.

    RFC 6749 section 5.2 bodies give ``error``/``error_description``/``error_uri``;
    FastAPI-style servers answer ``{"detail": "..."}``; anything else is quoted
    as a short sanitised snippet.
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
        error = _string_member(data, "error")
        description = _string_member(data, "error_description")
        detail = data.get("detail")
        if error is None and isinstance(detail, str):
            error = _error_code_in(detail)
            description = detail
        return TokenEndpointError(
            status_code, error, description, _string_member(data, "error_uri")
        )
    if not body.strip():
        return TokenEndpointError(status_code, detail="empty response body")
    return TokenEndpointError(status_code, detail=f"response: {snippet(body)}")


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


def transport_error(exc: Exception, url: str, timeout: float) -> TransportError:
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
    return TransportError(message, url=where)
