"""Redis URLs: checked before redis-py sees them, and shown without their password. Pure.

Forms: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``
(TLS) and ``unix://[[user]:password@]/path/to/socket[?db=N]``. The store's
own options may ride in the query (``?prefix=etl:&lock_lease=60``), so one
environment variable configures it; they are taken out before redis-py
reads the URL.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ConfigError

__all__ = [
    "REDIS_SCHEMES",
    "STORE_OPTIONS",
    "check_redis_url",
    "is_redis_url",
    "safe_redis_url",
    "split_store_options",
]

REDIS_SCHEMES = ("redis", "rediss", "unix")
STORE_OPTIONS = ("prefix", "lock_lease", "lock_timeout", "entry_ttl")


def is_redis_url(text: str) -> bool:
    """True for a ``redis://``, ``rediss://`` or ``unix://`` URL (anything else: a file path)."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in REDIS_SCHEMES


def safe_redis_url(url: str) -> str:
    """``url`` without user, password or query: fit for messages, logs and reprs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a bad port: show the host as written, without user info
        return f"{url.partition('://')[0]}://{url.partition('://')[2].split('/')[0].rpartition('@')[2]}"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_redis_url(url: str) -> str:
    """``url`` when redis-py can use it; ConfigError (without the password) when not."""
    if not isinstance(url, str) or not is_redis_url(url.strip()):
        raise ConfigError(
            "a Redis token store needs a redis://, rediss:// or unix:// URL, got "
            f"{safe_redis_url(url) if isinstance(url, str) else type(url).__name__!r}"
        )
    url = url.strip()
    shown = safe_redis_url(url)
    try:
        parts = urlsplit(url)
        _ = parts.port  # parsed lazily: a bad port would otherwise fail at first contact
    except ValueError:
        raise ConfigError(f"the Redis URL {shown} has a bad port or host") from None
    if parts.scheme.lower() == "unix":
        if not parts.path:
            raise ConfigError(f"the Redis URL {shown} names no socket path")
        db = dict(parse_qsl(parts.query)).get("db", "0")
    else:
        if not parts.hostname:
            raise ConfigError(f"the Redis URL {shown} names no host")
        db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ConfigError(f"the Redis URL {shown} names database {db!r}; expected a number")
    return url


def split_store_options(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without the store's own query options, and those options."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {name: value for name, value in query if name in STORE_OPTIONS}
    rest = [(name, value) for name, value in query if name not in STORE_OPTIONS]
    return urlunsplit(parts._replace(query=urlencode(rest))), options
