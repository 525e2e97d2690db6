"""TokenProvider: h2o-authn's refresh-token provider, rebuilt on AuthCache.

The constructor takes exactly the keyword arguments of h2o-authn 3.1.0's
``TokenProvider``, so existing code switches by changing its import. Below
it, a :class:`~h2oauth_lite.refresh.RefreshTokenProvider` sends the refresh
grant and keeps the rotated refresh token, and :class:`AuthCache` makes sure
that however many threads ask, one refresh request is in flight.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional

from .. import settings
from .._fork import after_fork_in_child
from ..cache import DEFAULT_EXPIRY_THRESHOLD, AuthCache
from ..durations import Duration
from ..errors import ArgumentError, ConfigError, TokenEndpointError
from ..grants.refresh import RefreshTokenProvider, check_refresh_token
from ..token import DEFAULT_EXPIRES_IN_FALLBACK, Token
from .defaults import DEFAULT_DISCOVERY_CLIENT, DEFAULT_HTTP_TIMEOUT

if TYPE_CHECKING:
    import ssl

    from typing_extensions import TypedDict, Unpack

    from .discovery.model import Discovery

    class DiscoveredProviderOptions(TypedDict, total=False):
        """The constructor's options that a provider from discovery still takes
        (discovery gives the endpoint, the client id and the refresh token)."""

        scope: Optional[str]
        client_secret: Optional[str]
        expiry_threshold: Duration
        expires_in_fallback: Duration
        http_timeout: Duration
        minimal_refresh_period: Optional[Duration]
        http_ssl_context: Optional[ssl.SSLContext]
        refresh_ahead: Optional[Duration]
        allow_insecure_http: bool
        clock: Callable[[], float]
        monotonic: Callable[[], float]

__all__ = ["TokenEndpointError", "TokenProvider", "create"]


class _Family:
    """Providers that share one refresh-token chain: the original and its with_scope() copies.

    With rotation, a refresh token works once; so the family refreshes one at a
    time and every member learns each new refresh token at once. The lock is
    the family's alone: members look it up here on every use rather than keep
    a reference, so when a fork replaces it, every member is on the new one.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.members: weakref.WeakSet[_RefreshGrant] = weakref.WeakSet()
        after_fork_in_child(self)

    def _after_fork(self) -> None:
        # A fork copies the lock held, if a parent thread was refreshing, but
        # not that thread: in the child, nobody would ever release it.
        self.lock = threading.Lock()


class _RefreshGrant(RefreshTokenProvider):
    """The refresh grant of a TokenProvider: a member of a family of providers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._join(_Family())

    def _join(self, family: _Family) -> None:
        """Become a member of ``family`` (and leave the family of one it was made with)."""
        self._family = family
        family.members.add(self)

    def _chain_lock(self) -> threading.Lock:
        return self._family.lock  # RefreshTokenProvider refreshes under this lock

    def _obtain(self) -> Token:
        token = super()._obtain()
        for member in list(self._family.members):  # still under the family's lock
            member._current_refresh_token = self._current_refresh_token
        return token

    def use_refresh_token(self, refresh_token: str) -> None:
        checked = check_refresh_token(refresh_token)
        # One acquisition for the whole family: a member's refresh in between
        # would otherwise be overwritten with this older token.
        with self._chain_lock():
            for member in list(self._family.members):  # self among them
                member._current_refresh_token = checked

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["_family"]  # a copy in another process is a chain of its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._join(_Family())


class TokenProvider(AuthCache):
    """Access tokens from a refresh token, refreshed when needed; safe to share between threads.

    ``provider()`` returns the access token as a plain ``str``; ``provider.token()``
    returns it as an :class:`~h2oauth_lite.token.AccessToken` with ``.exp`` and
    ``.scope``. The token endpoint is ``token_endpoint_url``, else the
    ``H2O_CLOUD_TOKEN_ENDPOINT_URL`` environment variable, else the
    ``token_endpoint`` of ``issuer_url``'s discovery document (fetched once).

    A token is refreshed when there is none or it expires within
    ``expiry_threshold``; a response without ``expires_in`` (and no JWT ``exp``)
    lives ``expires_in_fallback``; ``minimal_refresh_period`` makes a token due
    that long after it arrived even when it lives longer. The client secret,
    when given, is sent in the form body, as h2o-authn does.

    Beyond h2o-authn's arguments: ``refresh_ahead`` (default 0: callers wait
    for the refresh, as with h2o-authn; a duration lets one background thread
    refresh that long before the threshold while callers keep the current
    token), ``allow_insecure_http`` (plain http to a host other than loopback),
    and the injectable ``clock``/``monotonic`` clocks.
    """

    def __init__(
        self,
        *,
        refresh_token: str,
        client_id: str,
        issuer_url: Optional[str] = None,
        token_endpoint_url: Optional[str] = None,
        client_secret: Optional[str] = None,
        scope: Optional[str] = None,
        expiry_threshold: Duration = DEFAULT_EXPIRY_THRESHOLD,
        expires_in_fallback: Duration = DEFAULT_EXPIRES_IN_FALLBACK,
        http_timeout: Duration = DEFAULT_HTTP_TIMEOUT,
        minimal_refresh_period: Optional[Duration] = None,
        http_ssl_context: Optional[ssl.SSLContext] = None,
        refresh_ahead: Optional[Duration] = 0,
        allow_insecure_http: bool = False,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Every argument error is an ArgumentError (a ValueError, as h2o-authn raises).
        if not isinstance(refresh_token, str) or not refresh_token.strip():
            raise ArgumentError("the 'refresh_token' argument is required (got an empty value)")
        if not isinstance(client_id, str) or not client_id:
            raise ArgumentError("the 'client_id' argument is required (got an empty value)")
        # h2o-authn treats an empty string as "not given"; so does this check.
        if token_endpoint_url and issuer_url:
            raise ArgumentError(
                "the 'token_endpoint_url' and 'issuer_url' arguments are mutually exclusive; "
                "give only one"
            )
        endpoint = token_endpoint_url or settings.token_endpoint_override()
        if not endpoint and not issuer_url:
            raise ArgumentError(
                "the 'token_endpoint_url' or 'issuer_url' argument is required "
                f"(or set {settings.CLOUD_TOKEN_ENDPOINT_URL})"
            )
        grant = _RefreshGrant(
            endpoint or None,
            client_id=client_id,
            refresh_token=refresh_token,
            client_secret=client_secret or None,
            issuer_url=None if endpoint else issuer_url,
            client_auth="client_secret_post" if client_secret else "none",
            scope=scope or None,
            timeout=http_timeout,
            allow_insecure_http=allow_insecure_http,
            ssl_context=http_ssl_context,
            expires_in_fallback=expires_in_fallback,
            clock=clock,
        )
        if http_ssl_context is None:
            # As h2o-authn does: the system trust store, not requests' CA bundle.
            grant.endpoint.trust_system_store()
        super().__init__(
            grant,
            expiry_threshold=expiry_threshold,
            refresh_ahead=refresh_ahead,
            # h2o-authn ignores a zero period (it tests the value for truth).
            max_token_age=minimal_refresh_period or None,
            clock=clock,
            monotonic=monotonic,
        )
        # Everything with_scope() passes on, except the refresh token, which moves.
        self._settings: dict[str, Any] = dict(
            client_id=client_id,
            issuer_url=None if endpoint else issuer_url,
            token_endpoint_url=endpoint or None,
            client_secret=client_secret,
            expiry_threshold=expiry_threshold,
            expires_in_fallback=expires_in_fallback,
            http_timeout=http_timeout,
            minimal_refresh_period=minimal_refresh_period,
            http_ssl_context=http_ssl_context,
            refresh_ahead=refresh_ahead,
            allow_insecure_http=allow_insecure_http,
            clock=clock,
            monotonic=monotonic,
        )
        self._grant = grant

    @property
    def scope(self) -> Optional[str]:
        """The scope requested on every refresh (None: the server's default)."""
        return self._grant.scope

    @property
    def client_id(self) -> str:
        return self._grant.client_id

    def with_scope(self, scope: str) -> TokenProvider:
        """A new provider for ``scope`` with every other setting of this one.

        It keeps the timeout, TLS context and thresholds, and shares this
        provider's refresh-token chain: it starts from the newest refresh token,
        and when either refreshes, the other goes on from the rotated one.
        """
        family = self._grant._family
        with self._grant._chain_lock():
            copy = TokenProvider(
                refresh_token=self._grant._current_refresh_token,
                scope=scope or self.scope,
                **self._settings,
            )
            copy._grant._join(family)  # nobody has used the copy yet: safe to rewire
        return copy

    @classmethod
    def from_discovery(
        cls,
        discovery: Discovery,
        client: str = DEFAULT_DISCOVERY_CLIENT,
        **options: Unpack[DiscoveredProviderOptions],
    ) -> TokenProvider:
        """A provider for one client of an H2O Cloud environment found by ``discover()``.

        The client id comes from ``discovery.clients[client]``, the issuer from
        ``discovery.environment`` and the refresh token from
        ``discovery.credentials[client]``; ``options`` are the constructor's.
        """
        found = discovery.clients.get(client)
        if found is None:
            known = ", ".join(sorted(discovery.clients)) or "none"
            raise ConfigError(
                f"the H2O Cloud environment has no client {client!r} (clients: {known})"
            )
        credentials = discovery.credentials.get(client)
        if credentials is None:
            raise ConfigError(
                f"no refresh token for the client {client!r}: set "
                f"{settings.cloud_client_token_variable(client)} or log in with the H2O CLI "
                "to this environment"
            )
        return cls(
            refresh_token=credentials.refresh_token,
            client_id=found.oauth2_client_id,
            issuer_url=discovery.environment.issuer_url,
            **options,
        )

    def close(self) -> None:
        """Close the HTTP session (a new one opens if the provider is used again)."""
        self._grant.close()

    def __repr__(self) -> str:
        where = self._settings["token_endpoint_url"] or self._settings["issuer_url"]
        return (
            f"TokenProvider(endpoint={where!r}, client_auth={self._grant.client_auth!r}, "
            f"scope={self.scope!r})"
        )


def create(
    discovery: Discovery,
    client: str = DEFAULT_DISCOVERY_CLIENT,
    **options: Unpack[DiscoveredProviderOptions],
) -> TokenProvider:
    """Same as :meth:`TokenProvider.from_discovery`, under h2o-authn's name for it."""
    return TokenProvider.from_discovery(discovery, client, **options)
