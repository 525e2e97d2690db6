"""URLs that may carry credentials: which are acceptable, and how they show. Pure.

Credentials go over ``https`` unless the host is loopback (or the caller
opted out); a URL in a message or a log line shows no user info, query or
fragment.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import ConfigError

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
        raise ConfigError(f"the {what} URL must be an absolute http(s) URL, got {safe_url(url)!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
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
