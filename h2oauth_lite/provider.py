"""What every token provider shares: endpoint, client authentication, one grant request.

A provider asks the token endpoint every time :meth:`get_token` is called;
caching is :class:`~h2oauth_lite.cache.AuthCache`'s job, so each layer stays
small and a provider can be tested on its own.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union, runtime_checkable

from ._fork import after_fork_in_child
from ._http import DEFAULT_TIMEOUT, check_url, new_session, post_form, safe_url
from ._log import logger
from .client_auth import ClientAuth, client_auth_for
from .durations import Duration, to_seconds
from .errors import ConfigError, TokenEndpointError
from .metadata import IssuerMetadata
from .retry import DEFAULT_RETRIES, RetryPolicy, retry_policy
from .token import DEFAULT_EXPIRES_IN_FALLBACK, AccessToken, Token, parse_token_response

if TYPE_CHECKING:
    import ssl

    import requests
    from typing_extensions import TypedDict

    from .token_management import TokenLike

    class ProviderOptions(TypedDict, total=False):
        """The keyword options every provider passes on to BaseTokenProvider.

        Only for type checkers (``**options: Unpack[ProviderOptions]``), so
        the grants' signatures show every option without repeating them.
        """

        issuer_url: Optional[str]
        client_auth: Union[ClientAuth, str, None]
        scope: Optional[str]
        extra_params: Optional[Mapping[str, str]]
        session: Optional[requests.Session]
        timeout: Duration
        allow_insecure_http: bool
        ssl_context: Optional[ssl.SSLContext]
        verify: Union[bool, str, None]
        retries: Union[int, RetryPolicy]
        expires_in_fallback: Duration
        on_token: Optional[TokenCallback]
        clock: Callable[[], float]
        default_client_auth: str
        revocation_url: Optional[str]
        introspection_url: Optional[str]

__all__ = ["BaseTokenProvider", "SupportsGetToken", "TokenCallback"]

TokenCallback = Callable[[Token], None]


@runtime_checkable
class SupportsGetToken(Protocol):
    """Anything that hands out tokens: every provider, and AuthCache."""

    def get_token(self) -> Token: ...


class BaseTokenProvider:
    """Token endpoint, client authentication and transport settings of one client.

    Exactly one of ``auth_url`` (the token endpoint) and ``issuer_url`` (read
    ``token_endpoint`` from the issuer's discovery document, once) is given.
    """

    grant_type: str = ""
    # Whether 429/502/503/504 answers are retried; connect errors always are.
    # False for grants whose request must not reach the server twice (see retry_policy).
    retry_on_status: bool = True

    def __init__(
        self,
        auth_url: Optional[str] = None,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        issuer_url: Optional[str] = None,
        client_auth: Union[ClientAuth, str, None] = None,
        scope: Optional[str] = None,
        extra_params: Optional[Mapping[str, str]] = None,
        session: Optional[requests.Session] = None,
        timeout: Duration = DEFAULT_TIMEOUT,
        allow_insecure_http: bool = False,
        ssl_context: Optional[ssl.SSLContext] = None,
        verify: Union[bool, str, None] = None,
        retries: Union[int, RetryPolicy] = DEFAULT_RETRIES,
        expires_in_fallback: Duration = DEFAULT_EXPIRES_IN_FALLBACK,
        on_token: Optional[TokenCallback] = None,
        clock: Callable[[], float] = time.time,
        default_client_auth: str = "client_secret_basic",
        revocation_url: Optional[str] = None,
        introspection_url: Optional[str] = None,
    ) -> None:
        if (auth_url is None) == (issuer_url is None):
            raise ConfigError("give exactly one of auth_url (the token endpoint) and issuer_url")
        self._timeout = to_seconds(timeout, "timeout", positive=True)
        self._allow_insecure_http = allow_insecure_http
        self._auth_url = (
            None
            if auth_url is None
            else check_url(auth_url, allow_insecure_http=allow_insecure_http)
        )
        self._metadata = (
            None
            if issuer_url is None
            else IssuerMetadata(
                issuer_url, timeout=self._timeout, allow_insecure_http=allow_insecure_http
            )
        )
        self.client_auth = client_auth_for(
            client_id, client_secret, client_auth, default=default_client_auth
        )
        self.scope = scope
        self._extra_params = dict(extra_params or {})
        if session is not None and (ssl_context is not None or verify is not None):
            raise ConfigError("give ssl_context/verify or a session, not both")
        self._session = session
        self._owns_session = session is None
        self._ssl_context = ssl_context
        self._verify = verify
        self._retry = retry_policy(retries)
        if verify is False:
            _warn_unverified(self._auth_url or issuer_url or "")
        self._expires_in_fallback = to_seconds(expires_in_fallback, "expires_in_fallback")
        self._on_token = on_token
        self._clock = clock
        self._session_lock = threading.Lock()
        after_fork_in_child(self)
        self._endpoints = {
            name: check_url(url, allow_insecure_http=allow_insecure_http, what=name)
            for name, url in (
                ("revocation_endpoint", revocation_url),
                ("introspection_endpoint", introspection_url),
            )
            if url is not None
        }

    @property
    def client_id(self) -> str:
        return self.client_auth.client_id

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def allow_insecure_http(self) -> bool:
        return self._allow_insecure_http

    @property
    def session(self) -> requests.Session:
        """The HTTP session, created on first use so that importing stays cheap."""
        session = self._session
        if session is None:
            with self._session_lock:
                if self._session is None:
                    self._session = new_session(
                        ssl_context=self._ssl_context,
                        verify=self._verify,
                        retry=self.retry_policy,
                    )
                session = self._session
        return session

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retries this grant's requests get (statuses dropped where unsafe).

        urllib3 resends a request exactly as it was. After an answer (even a
        gateway's 503) the server may have acted on it: a rotated refresh token,
        or a recorded ``jti`` of a single-use assertion (the JWT-bearer grant,
        signed-JWT client authentication), which the identical body would then
        replay. Such requests retry only connect errors, where nothing was sent.
        """
        single_use = getattr(self.client_auth, "single_use_assertion", False) is True
        if self.retry_on_status and not single_use:
            return self._retry
        return dataclasses.replace(self._retry, statuses=frozenset())

    @property
    def token_endpoint(self) -> str:
        if self._auth_url is not None:
            return self._auth_url
        assert self._metadata is not None
        return self._metadata.endpoint(self.session, "token_endpoint")

    def _post(self, url: str, form: Mapping[str, str], *, ignore_body: bool = False) -> Any:
        """POST ``form`` to ``url`` with this client's authentication; the decoded answer."""
        data = dict(form)
        headers: dict[str, str] = {}
        self.client_auth.apply(url, headers, data)
        try:
            return post_form(
                self.session,
                url,
                data,
                headers=headers,
                timeout=self._timeout,
                allow_insecure_http=self._allow_insecure_http,
                ignore_body=ignore_body,
            )
        except TokenEndpointError as exc:
            explain = getattr(self.client_auth, "explain_rejection", None)
            if explain is None:
                raise
            explained = explain(exc, url)
            if explained is exc:  # nothing to add; "from exc" would make it its own cause
                raise
            raise explained from exc

    def _grant(self, form: Mapping[str, str]) -> Token:
        """Send one token request with this client's authentication; the parsed Token."""
        url = self.token_endpoint
        data = dict(self._extra_params)
        data.update(form)
        sent_at = self._clock()  # the lifetime counts from before the request: never too long
        answer = self._post(url, data)
        token = parse_token_response(answer, sent_at, expires_in_fallback=self._expires_in_fallback)
        logger.debug("%s grant for client %s succeeded", form.get("grant_type"), self.client_id)
        return token

    def _obtain(self) -> Token:
        """One grant request, the subclass's own."""
        raise NotImplementedError

    def get_token(self) -> Token:
        """Ask the token endpoint for a new token (``on_token`` sees it first)."""
        token = self._obtain()
        if self._on_token is not None:
            self._on_token(token)
        return token

    def token(self) -> AccessToken:
        """The access token as a ``str`` with ``.exp`` and ``.scope`` (h2o-authn style)."""
        return self.get_token().as_access_token()

    def __call__(self) -> str:
        """The bare access token."""
        return self.get_token().access_token

    def _management_endpoint(self, name: str) -> str:
        explicit = self._endpoints.get(name)
        if explicit is not None:
            return explicit
        if self._metadata is None:
            option = name.replace("_endpoint", "_url")
            raise ConfigError(f"no {name} configured: pass {option}= or use issuer_url= discovery")
        return self._metadata.endpoint(self.session, name)

    def revoke(self, token: TokenLike, token_type_hint: Optional[str] = None) -> None:
        """Revoke an access or refresh token (RFC 7009); an unknown token is success."""
        from . import token_management

        url = self._management_endpoint("revocation_endpoint")
        token_management.revoke(self._post, url, token, token_type_hint)

    def introspect(
        self, token: TokenLike, token_type_hint: Optional[str] = None
    ) -> dict[str, Any]:
        """What the server knows of a token (RFC 7662): a dict with a boolean ``active``."""
        from . import token_management

        url = self._management_endpoint("introspection_endpoint")
        return token_management.introspect(self._post, url, token, token_type_hint)

    def close(self) -> None:
        """Close the HTTP session if this provider created it."""
        if self._owns_session and self._session is not None:
            self._session.close()
            self._session = None

    def __repr__(self) -> str:
        where = self._auth_url or (self._metadata.issuer_url if self._metadata else None)
        return f"{type(self).__name__}(endpoint={where!r}, client_auth={self.client_auth!r})"

    def __getstate__(self) -> dict[str, Any]:
        if self._ssl_context is not None:
            # Dropping it would silently change whom the copy trusts (or lose a client cert).
            raise TypeError(
                f"{type(self).__name__} with ssl_context= cannot be pickled: an SSLContext "
                "does not travel between processes; pass verify='/path/ca.pem' instead, or "
                "build the provider in the process that uses it"
            )
        state = self.__dict__.copy()
        del state["_session_lock"]
        if self._owns_session:
            state["_session"] = None  # sockets do not travel; a new session opens on first use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._session_lock = threading.Lock()
        after_fork_in_child(self)

    def _after_fork(self) -> None:
        """In a forked child: new locks, and a session of its own on first use."""
        self._session_lock = threading.Lock()
        if self._owns_session:
            self._session = None  # not closed: its sockets still serve the parent
        if self._metadata is not None:
            self._metadata._lock = threading.Lock()


def _warn_unverified(where: str) -> None:
    message = (
        f"TLS certificate verification is off for {safe_url(where)} (verify=False): "
        "anyone on the network path can read the credentials sent there"
    )
    logger.warning(message)
    warnings.warn(message, stacklevel=4)
