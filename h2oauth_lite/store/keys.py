"""Store keys: the server, and the client its tokens belong to. Pure.

A plain host key (``https://auth.example.com``) is the layout
py-oidc-auth-client writes and :func:`~h2oauth_lite.authenticate` uses: one
entry per host. A :class:`StoreKey` adds the client (and the scope and
audience when set), so several clients of one identity provider keep their
entries side by side in one store::

    https://auth.example.com#client_id=etl&scope=read+write

The host part is written one way only (see :func:`normalise_host`), the
rest in a fixed order, so every process names an entry the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union
from urllib.parse import parse_qsl, urlencode

from ..errors import ConfigError
from .hosts import normalise_host

__all__ = ["StoreKey", "key_text", "normalise_key"]


@dataclass(frozen=True)
class StoreKey:
    """The name of one client's entry in a store.

    ``host`` is the token endpoint (or issuer) URL or host name; ``client_id``
    the OAuth client; ``scope`` and ``audience`` tell apart tokens of one
    client that grant different things. ``seed`` is not part of the name: the
    :func:`~h2oauth_lite.store.base.fingerprint` of the refresh token this
    process was configured with, so an entry from another seed is replaced
    rather than used (see :mod:`h2oauth_lite.store.link`).
    """

    host: str
    client_id: str
    scope: Optional[str] = None
    audience: Optional[str] = None
    seed: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ConfigError("a StoreKey needs the client_id its tokens belong to")

    def __str__(self) -> str:
        parts = [("client_id", self.client_id)]
        if self.scope:
            parts.append(("scope", " ".join(sorted(self.scope.split()))))
        if self.audience:
            parts.append(("audience", self.audience))
        return f"{normalise_host(self.host)}#{urlencode(parts)}"


def key_text(key: Union[str, StoreKey]) -> str:
    """The entry name of ``key``: a normalised host, or a host with its client."""
    return str(key) if isinstance(key, StoreKey) else normalise_key(key)


def normalise_key(key: str) -> str:
    """A host key normalised; a client key (``host#client_id=...``) with its host normalised."""
    host, sep, rest = key.partition("#")
    if not sep:
        return normalise_host(host)
    fields = dict(parse_qsl(rest, keep_blank_values=True))
    if not fields.get("client_id"):
        raise ConfigError("a store key with '#' must name its client_id")
    return str(
        StoreKey(
            host, fields["client_id"], scope=fields.get("scope"), audience=fields.get("audience")
        )
    )
