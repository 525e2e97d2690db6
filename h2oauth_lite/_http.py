"""The wire: the one place that sends token-endpoint requests.

Every grant calls :func:`post_form`; discovery documents come through
:func:`get_json`. Both share the rules that keep credentials safe: ``https``
unless the host is loopback (or the caller opted out), a timeout on every
request, redirects never followed, a bounded response body, and the HTTP
status judged before the body is parsed.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, Union
from urllib.parse import urljoin, urlsplit

from ._log import logger
from .errors import ConfigError, InvalidTokenResponseError, TokenEndpointError, TransportError
from .retry import RetryPolicy

if TYPE_CHECKING:
    import ssl

    import requests
    import requests.adapters

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_BODY_BYTES",
    "check_url",
    "error_from_response",
    "get_json",
    "get_redirect",
    "new_session",
    "post_form",
    "safe_url",
]

DEFAULT_TIMEOUT = 10.0
# A token response is a few kilobytes; a megabyte is a misbehaving server or a proxy.
MAX_BODY_BYTES = 1024 * 1024
_SNIPPET_CHARS = 200


def new_session(
    *,
    ssl_context: Optional[ssl.SSLContext] = None,
    verify: Union[bool, str, None] = None,
    retry: Optional[RetryPolicy] = None,
) -> requests.Session:
    """A session that trusts the environment (proxies, ``REQUESTS_CA_BUNDLE``).

    ``ssl_context`` replaces the TLS settings of every https connection;
    ``verify`` is requests' own (False, or a CA bundle path); ``retry`` is
    applied by the adapters of both schemes (urllib3 ``Retry``).
    """
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.headers["Accept"] = "application/json"
    max_retries: Any = 0
    if retry is not None:
        from ._urllib3_retry import urllib3_retry

        max_retries = urllib3_retry(retry)
    session.mount("http://", HTTPAdapter(max_retries=max_retries))
    if ssl_context is not None:
        session.mount("https://", _ssl_context_adapter(ssl_context, max_retries))
    else:
        session.mount("https://", HTTPAdapter(max_retries=max_retries))
    if verify is not None:
        session.verify = verify
    return session


def _ssl_context_adapter(
    context: ssl.SSLContext, max_retries: Any
) -> requests.adapters.HTTPAdapter:
    from requests.adapters import HTTPAdapter

    class SSLContextAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["ssl_context"] = context
            # older types-requests leave this untyped
            super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["ssl_context"] = context
            return super().proxy_manager_for(*args, **kwargs)  # type: ignore[no-untyped-call,unused-ignore]

    return SSLContextAdapter(max_retries=max_retries)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_insecure_http: bool = False, what: str = "token endpoint") -> str:
    """Refuse URLs that would send credentials in the clear or nowhere sensible."""
    if not isinstance(url, str) or not url:
        raise ConfigError(f"the {what} URL is missing")
    try:
        parts = urlsplit(url)
        _ = parts.port  # parsed lazily: a bad port would otherwise raise at the first request
    except ValueError:
        # Not quoted: the parser's message may repeat parts of the URL (user info).
        raise ConfigError(
            f"the {what} URL cannot be parsed (a bad port, or an unclosed '[' around an "
            "IPv6 address?)"
        ) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"the {what} URL must be an absolute http(s) URL, got {safe_url(url)!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send credentials to {safe_url(url)} over plain http; use https, "
            "or pass allow_insecure_http=True if this network is trusted"
        )
    return url


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment: fit for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _pieces(response: requests.Response, timeout: float) -> Iterator[bytes]:
    """The body in pieces as they arrive, cut once ``timeout`` has passed.

    The socket timeout bounds each read only: a server that trickles a byte
    at a time would hold the caller for as long as it likes. Reading whatever
    has arrived (``read1``: at most one socket read) lets the clock be looked
    at between pieces.
    """
    import urllib3.exceptions as u3
    from requests import exceptions as rq

    raw = response.raw
    read = _read1_of(raw)
    if read is None:  # not a urllib3 response (a custom adapter): no deadline to keep
        yield from response.iter_content(chunk_size=65536)
        return
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            response.close()
            where = safe_url(response.url or "")
            raise TransportError(
                f"no complete answer from {where} within {timeout:g} s", url=where
            )
        # The mapping requests' iter_content applies, so errors read as before.
        try:
            piece = read(65536)
        except (u3.ReadTimeoutError, socket.timeout) as exc:
            raise rq.ReadTimeout(exc) from exc
        except (u3.ProtocolError, http.client.HTTPException) as exc:
            raise rq.ChunkedEncodingError(exc) from exc
        except u3.DecodeError as exc:
            raise rq.ContentDecodingError(exc) from exc
        except u3.SSLError as exc:
            raise rq.SSLError(exc) from exc
        except OSError as exc:
            raise rq.ConnectionError(exc) from exc
        if not piece:
            return
        yield piece


def _read1_of(raw: Any) -> Optional[Callable[[int], bytes]]:
    """A read of at most one socket read, decoded, for urllib3 1.26 and 2.x."""
    if hasattr(raw, "read1") and hasattr(raw, "_fp"):  # urllib3 >= 2.1
        return lambda size: bytes(raw.read1(size, decode_content=True))
    fp: Any = getattr(raw, "_fp", None)
    if not hasattr(fp, "read1") or not hasattr(raw, "_decode"):
        return None
    # urllib3 1.26 and 2.0: read from http.client's response (which undoes the
    # chunked framing) and decode through urllib3's own decoder, as its read() does.
    raw._init_decoder()

    def read(size: int) -> bytes:
        while True:  # b"" only at the end: a gzip header alone decodes to nothing
            data = fp.read1(size)
            decoded: bytes = raw._decode(data, True, not data)
            if not data:
                # http.client's read1 does not mark a Content-Length body done when
                # it ends exactly; closing it (not the socket) lets the connection
                # serve the next request, as urllib3's own read() would.
                fp.close()
                raw.release_conn()
            if decoded or not data:
                return decoded

    return read


def _read_body(response: requests.Response, timeout: float) -> bytes:
    """The body, refused once it passes MAX_BODY_BYTES rather than read whole."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        response.close()
        raise TokenEndpointError(
            response.status_code, detail=f"response body of {declared} bytes refused (limit 1 MiB)"
        )
    chunks = []
    size = 0
    for chunk in _pieces(response, timeout):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise TokenEndpointError(
                response.status_code, detail="response body larger than 1 MiB refused"
            )
        chunks.append(chunk)
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared.isdigit() and size < int(declared) and not encoded:
        # urllib3 2 raises on a short body itself; urllib3 1.26 hands over what came.
        where = safe_url(response.url or "")
        raise TransportError(
            f"the connection to {where} closed before the whole answer arrived", url=where
        )
    return b"".join(chunks)


_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _snippet(body: bytes) -> str:
    """A short, printable excerpt of a non-JSON body (an HTML error page, say)."""
    text = body[: _SNIPPET_CHARS * 8].decode("utf-8", "replace")
    text = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:_SNIPPET_CHARS] + ("..." if len(text) > _SNIPPET_CHARS else "")


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    # RecursionError: "[[[[..." nested past the parser's depth, well inside the body limit.
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NOT_JSON


_NOT_JSON = object()


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
    data = _decode_json(body)
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
    return TokenEndpointError(status_code, detail=f"response: {_snippet(body)}")


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


def _transport_error(exc: Exception, url: str, timeout: float) -> TransportError:
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


def _send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    allow_insecure_http: bool,
    redirect_expected: bool = False,
    **kwargs: Any,
) -> tuple[requests.Response, bytes]:
    """A 2xx answer (a 3xx with a Location, when expected) and its whole body;
    TokenEndpointError for any other status."""
    import requests

    check_url(url, allow_insecure_http=allow_insecure_http)
    answered_with: list[int] = []
    try:
        # verify is passed per request because requests lets REQUESTS_CA_BUNDLE
        # override a session's own verify (a CA path, or False) otherwise.
        response = session.request(
            method,
            url,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            verify=session.verify,
            # A request's hook list replaces the session's, so the session's go first in it.
            hooks={"response": [*session.hooks.get("response", []), _recorder(answered_with)]},
            **kwargs,
        )
        body = _read_body(response, timeout)
    except requests.exceptions.RequestException as exc:
        raise _transport_error(exc, url, timeout) from exc
    except ValueError:
        # Even without following, requests parses a redirect's Location, and an
        # unreadable one (an unclosed IPv6 bracket) raises ValueError there.
        if not answered_with:
            raise
        raise TokenEndpointError(
            answered_with[-1],
            detail="the server redirected to an unreadable address; redirects are not followed",
        ) from None
    logger.debug("%s %s -> %s", method, safe_url(url), response.status_code)
    location = response.headers.get("Location")
    if redirect_expected:
        answered = response.is_redirect and bool(location)
    else:
        answered = 200 <= response.status_code < 300
    if not answered:
        raise error_from_response(response.status_code, body, location)
    return response, body


def _recorder(statuses: list[int]) -> Callable[..., None]:
    def record(response: requests.Response, **_: Any) -> None:
        statuses.append(response.status_code)

    return record


def post_form(
    session: requests.Session,
    url: str,
    data: Mapping[str, str],
    *,
    headers: Optional[Mapping[str, str]] = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    ignore_body: bool = False,
) -> Any:
    """POST a form to a token-style endpoint; the decoded JSON of a 2xx answer.

    Raises TokenEndpointError for every non-2xx answer (status first, body
    second), InvalidTokenResponseError for a 2xx answer that is not JSON, and
    TransportError when no answer came. With ``ignore_body`` a 2xx answer's
    body is not parsed and None is returned: for endpoints whose status says
    everything (RFC 7009 revocation answers an empty 200).
    """
    response, body = _send(
        session,
        "POST",
        url,
        data=dict(data),
        headers=dict(headers or {}),
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
    )
    if ignore_body:
        return None
    decoded = _decode_json(body)
    if decoded is _NOT_JSON:
        kind = response.headers.get("Content-Type", "no content type")
        raise InvalidTokenResponseError(
            response.status_code, detail=f"the answer is not JSON ({kind}): {_snippet(body)}"
        )
    return decoded


def get_json(
    session: requests.Session,
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    params: Optional[Mapping[str, str]] = None,
    headers: Optional[Mapping[str, str]] = None,
) -> Any:
    """GET a JSON document (discovery metadata) under the same rules as post_form."""
    response, body = _send(
        session,
        "GET",
        url,
        params=dict(params or {}),
        headers=dict(headers or {}),
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
    )
    decoded = _decode_json(body)
    if decoded is _NOT_JSON:
        raise InvalidTokenResponseError(
            response.status_code, detail=f"{safe_url(url)} did not answer JSON: {_snippet(body)}"
        )
    return decoded


def get_redirect(
    session: requests.Session,
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    params: Optional[Mapping[str, str]] = None,
) -> str:
    """GET a login route that answers with a redirect; the absolute target, not followed."""
    response, _ = _send(
        session,
        "GET",
        url,
        params=dict(params or {}),
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
        redirect_expected=True,
    )
    return urljoin(url, response.headers["Location"])  # readable: _send checked it
