"""URLs that may carry credentials: which are acceptable, and how they show. Pure.

Credentials go over ``https`` unless the host is loopback (or the caller
opted out); a URL in a message or a log line shows no user info, query or
fragment.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..settings import ALLOW_INSECURE_HTTP

__all__ = ["check_url", "is_loopback", "safe_url"]


def is_loopback(host: str) -> bool:
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
        shown = safe_url(url)
        if not parts.scheme or not parts.netloc:
            # "idp.example.com/token" parses as a bare path: show it as typed.
            return _missing_scheme(url, what)
        raise ConfigError(f"the {what} URL must be an absolute http(s) URL, got {shown!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing to send credentials to {safe_url(url)} over plain http; use https, "
            "or, if this network is trusted, pass allow_insecure_http=True (environment: "
            f"{ALLOW_INSECURE_HTTP}=1; command line: --allow-insecure-http)"
        )
    return url


def _missing_scheme(url: str, what: str) -> str:
    typed = url.split("?", 1)[0].split("#", 1)[0]
    typed = typed.rsplit("@", 1)[-1]  # user info may hold a password
    raise ConfigError(
        f"the {what} URL {typed!r} has no scheme; did you mean 'https://{typed.lstrip('/')}'?"
    )


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
