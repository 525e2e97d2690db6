"""Host names as store keys: pure, no I/O.

A token store keys its entries by the server they came from, written one
way only, so ``HTTPS://Example.COM:443/api`` and ``example.com`` find the
same entry (the layout py-oidc-auth-client uses, so its files read as they are).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import ConfigError

__all__ = ["normalise_host"]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def normalise_host(host: str) -> str:
    """``scheme://host[:port]``: lower case, default port dropped, path dropped, https if none.

    ConfigError for an empty value, a scheme other than http(s), or a bad port.
    """
    if not isinstance(host, str) or not host.strip():
        raise ConfigError("a host is required (e.g. https://auth.example.com)")
    text = host.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" around an IPv6 address
        raise ConfigError("the host cannot be parsed as a URL or a host name") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"host must be an http(s) URL or a host name, got scheme {scheme!r}")
    name = (parts.hostname or "").lower()
    if not name:
        raise ConfigError("the host has no host name")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("the host has an invalid port number") from None
    if ":" in name:
        name = f"[{name}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{name}:{port}"
    return f"{scheme}://{name}"
