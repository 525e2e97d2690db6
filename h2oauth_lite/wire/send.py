"""The wire: the one place that sends token-endpoint requests.

Every grant calls :func:`post_form`; discovery documents come through
:func:`get_json`. Both share the rules that keep credentials safe: ``https``
unless the host is loopback (or the caller opted out), a timeout on every
request, redirects never followed, a bounded response body, and the HTTP
status judged before the body is parsed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union
from urllib.parse import urljoin

from .._log import logger
from .._redact import PUBLIC_FIELDS, sent_values
from ..errors import InvalidTokenResponseError, TokenEndpointError
from .answers import (
    NOT_JSON,
    decode_json,
    error_from_response,
    located,
    snippet,
    transport_error,
)
from .body import read_body
from .retry import RetryPolicy
from .urls import check_url, safe_url

if TYPE_CHECKING:
    import ssl

    import requests
    import requests.adapters

__all__ = [
    "DEFAULT_TIMEOUT",
    "AnswerHook",
    "FormValue",
    "get_json",
    "get_redirect",
    "new_session",
    "post_form",
]

DEFAULT_TIMEOUT = 10.0

# Sees the response headers of every answer (success or error) of one request.
AnswerHook = Callable[[Mapping[str, str]], None]
# A form field's value; a list repeats the field (RFC 8707 ``resource``).
FormValue = Union[str, Sequence[str]]


def new_session(
    *,
    ssl_context: Optional[ssl.SSLContext] = None,
    verify: Union[bool, str, None] = None,
    retry: Optional[RetryPolicy] = None,
    cert: Union[str, tuple[str, str], None] = None,
) -> requests.Session:
    """A session that trusts the environment (proxies, ``REQUESTS_CA_BUNDLE``).

    ``ssl_context`` replaces the TLS settings of every https connection;
    ``verify`` is requests' own (False, or a CA bundle path); ``retry`` is
    applied by the adapters of both schemes (urllib3 ``Retry``); ``cert`` is
    the TLS client certificate (requests' ``session.cert``: one PEM file, or
    certificate and key files).
    """
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.headers["Accept"] = "application/json"
    max_retries: Any = 0
    if retry is not None:
        from .urllib3_retry import urllib3_retry

        max_retries = urllib3_retry(retry)
    session.mount("http://", HTTPAdapter(max_retries=max_retries))
    if ssl_context is not None:
        session.mount("https://", _ssl_context_adapter(ssl_context, max_retries))
    else:
        session.mount("https://", HTTPAdapter(max_retries=max_retries))
    if verify is not None:
        session.verify = verify
    if cert is not None:
        session.cert = cert
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


def _secrets_of(
    data: Optional[Mapping[str, FormValue]],
    headers: Optional[Mapping[str, str]],
    params: Optional[Mapping[str, str]],
) -> list[str]:
    """The values a request carries that no error, log or ``repr`` may show."""
    fields = [
        value
        for source in (data, params)
        for name, values in (source or {}).items()
        if name not in PUBLIC_FIELDS
        for value in ([values] if isinstance(values, str) else values)
    ]
    fields += [value for name, value in (headers or {}).items() if name.lower() != "accept"]
    return sent_values(fields)


def _send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    allow_insecure_http: bool,
    redirect_expected: bool = False,
    data: Optional[Mapping[str, FormValue]] = None,
    headers: Optional[Mapping[str, str]] = None,
    params: Optional[Mapping[str, str]] = None,
    on_answer: Optional[AnswerHook] = None,
) -> tuple[requests.Response, bytes, Callable[[], list[str]]]:
    """A 2xx answer (a 3xx with a Location, when expected), its whole body, and what
    tells the values the request carried; TokenEndpointError for any other status. Every
    error says ``what`` was asked of which URL; ``on_answer`` sees the headers of
    every answer, an error's too (a DPoP nonce comes with either)."""
    with located(what, url):
        return _exchange(
            session,
            method,
            url,
            what=what,
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            redirect_expected=redirect_expected,
            data=data,
            headers=headers,
            params=params,
            on_answer=on_answer,
        )


def _exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    allow_insecure_http: bool,
    redirect_expected: bool,
    data: Optional[Mapping[str, FormValue]],
    headers: Optional[Mapping[str, str]],
    params: Optional[Mapping[str, str]],
    on_answer: Optional[AnswerHook],
) -> tuple[requests.Response, bytes, Callable[[], list[str]]]:
    import requests

    check_url(url, allow_insecure_http=allow_insecure_http)
    # Computed only for an error: the values no message may show.
    sent = functools.partial(_secrets_of, data, headers, params)
    answered_with: list[int] = []
    kwargs: dict[str, Any] = {"headers": dict(headers or {})}
    if data is not None:
        kwargs["data"] = dict(data)
    if params is not None:
        kwargs["params"] = dict(params)
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
        body = read_body(response, timeout)
    except requests.exceptions.RequestException as exc:
        raise transport_error(exc, url, timeout, what) from exc
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
    if on_answer is not None:
        on_answer(response.headers)
    location = response.headers.get("Location")
    if redirect_expected:
        answered = response.is_redirect and bool(location)
    else:
        answered = 200 <= response.status_code < 300
    if not answered:
        raise error_from_response(response.status_code, body, location, sent=sent())
    return response, body, sent


def _recorder(statuses: list[int]) -> Callable[..., None]:
    def record(response: requests.Response, **_: Any) -> None:
        statuses.append(response.status_code)

    return record


def post_form(
    session: requests.Session,
    url: str,
    data: Mapping[str, FormValue],
    *,
    headers: Optional[Mapping[str, str]] = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    ignore_body: bool = False,
    what: str = "token request",
    on_answer: Optional[AnswerHook] = None,
) -> Any:
    """POST a form to a token-style endpoint; the decoded JSON of a 2xx answer.

    Raises TokenEndpointError for every non-2xx answer (status first, body
    second), InvalidTokenResponseError for a 2xx answer that is not JSON, and
    TransportError when no answer came. With ``ignore_body`` a 2xx answer's
    body is not parsed and None is returned: for endpoints whose status says
    everything (RFC 7009 revocation answers an empty 200).
    """
    response, body, sent = _send(
        session,
        "POST",
        url,
        what=what,
        data=data,
        headers=headers,
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
        on_answer=on_answer,
    )
    if ignore_body:
        return None
    return _json_answer(response, body, sent, what)


def get_json(
    session: requests.Session,
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    params: Optional[Mapping[str, str]] = None,
    headers: Optional[Mapping[str, str]] = None,
    what: str = "JSON document",
) -> Any:
    """GET a JSON document (discovery metadata) under the same rules as post_form."""
    response, body, sent = _send(
        session,
        "GET",
        url,
        what=what,
        params=params,
        headers=headers,
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
    )
    return _json_answer(response, body, sent, what)


def _json_answer(
    response: requests.Response, body: bytes, sent: Callable[[], list[str]], what: str
) -> Any:
    """The decoded JSON of a 2xx answer; InvalidTokenResponseError for anything else."""
    decoded = decode_json(body)
    if decoded is NOT_JSON:
        kind = snippet(response.headers.get("Content-Type", "no content type").encode())
        raise InvalidTokenResponseError(
            response.status_code,
            detail=f"the answer is not JSON ({kind}): {snippet(body, sent())}",
            request=what,
            url=safe_url(response.url or ""),
        )
    return decoded


def get_redirect(
    session: requests.Session,
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    allow_insecure_http: bool = False,
    params: Optional[Mapping[str, str]] = None,
    what: str = "login route",
) -> str:
    """GET a login route that answers with a redirect; the absolute target, not followed."""
    response, _, _ = _send(
        session,
        "GET",
        url,
        what=what,
        params=params,
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
        redirect_expected=True,
    )
    return urljoin(url, response.headers["Location"])  # readable: _send checked it
