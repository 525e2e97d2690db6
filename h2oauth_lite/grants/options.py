"""The options of a token-endpoint client, declared once.

Every grant and every interactive flow passes these through to the
:class:`~h2oauth_lite.grants.endpoint.TokenEndpoint` it holds, so each
option has one name, one type and one default (below), and type checkers
see them on every public signature through ``Unpack[ClientOptions]``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Callable, Optional, TypedDict, Union

from ..durations import Duration
from ..token import DEFAULT_EXPIRES_IN_FALLBACK, Token
from ..wire.retry import DEFAULT_RETRIES, RetryPolicy
from ..wire.send import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    import ssl

    import requests

    from ..client_auth.base import ClientAuth
    from ..client_auth.dpop import DPoPKey
    from ..client_auth.tls import ClientCertificate

__all__ = ["DEFAULTS", "ClientOptions", "TokenCallback", "TransportOptions", "check_option_names"]

TokenCallback = Callable[[Token], None]


class TransportOptions(TypedDict, total=False):
    """How requests travel: the options an interactive flow passes to its client.

    ``cert`` is the TLS client certificate (RFC 8705): a PEM file with
    certificate and key, or a (certificate file, key file) pair.
    ``dpop_key`` and ``resource`` are here so that the interactive flows,
    too, can bind their tokens to a key (RFC 9449) and name the resource
    servers they are for (RFC 8707).
    """

    session: Optional[requests.Session]
    allow_insecure_http: bool
    ssl_context: Optional[ssl.SSLContext]
    verify: Union[bool, str, None]
    retries: Union[int, RetryPolicy]
    cert: Optional[ClientCertificate]
    dpop_key: Optional[DPoPKey]
    resource: Union[str, Sequence[str], None]


class ClientOptions(TransportOptions, total=False):
    """Keyword options of every grant (all optional).

    ``issuer_url``: read the token endpoint from this issuer's discovery
    document instead of giving it. ``client_auth``: a method name or a
    :class:`~h2oauth_lite.ClientAuth`. ``scope`` and ``extra_params`` go into
    every token request. ``session`` (yours; then no retries are added),
    ``ssl_context`` / ``verify`` (TLS trust), ``timeout``, ``retries``,
    ``allow_insecure_http``: the transport. ``expires_in_fallback``: the
    lifetime assumed when the server gives none. ``on_token``: called with
    every new token. ``clock``: epoch seconds. ``revocation_url`` /
    ``introspection_url``: those endpoints, when not discovered.
    ``dpop_key``: a :class:`~h2oauth_lite.DPoPKey` to bind tokens to.
    ``resource``: the resource indicator(s) every token request names (RFC 8707).
    """

    issuer_url: Optional[str]
    client_auth: Union[ClientAuth, str, None]
    scope: Optional[str]
    extra_params: Optional[Mapping[str, str]]
    timeout: Duration
    expires_in_fallback: Duration
    on_token: Optional[TokenCallback]
    clock: Callable[[], float]
    revocation_url: Optional[str]
    introspection_url: Optional[str]


# The default of every option; an option missing here defaults to None.
DEFAULTS: Mapping[str, object] = {
    "timeout": DEFAULT_TIMEOUT,
    "allow_insecure_http": False,
    "retries": DEFAULT_RETRIES,
    "expires_in_fallback": DEFAULT_EXPIRES_IN_FALLBACK,
    "clock": time.time,
}


def check_option_names(options: Mapping[str, object], owner: str) -> None:
    """TypeError for a misspelt option, as Python says for a wrong keyword argument."""
    unknown = sorted(set(options) - set(ClientOptions.__annotations__))
    if unknown:
        raise TypeError(f"{owner}() got an unexpected keyword argument {unknown[0]!r}")
