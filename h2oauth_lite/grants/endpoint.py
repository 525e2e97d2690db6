"""The token-endpoint client: one OAuth client's requests to its authorization server.

Every grant and every interactive flow holds one :class:`TokenEndpoint`. It
knows where the endpoints are (given, or read once from the issuer's
discovery document), how the client authenticates, and how requests travel
(session, TLS trust, timeout, retry policy); it sends token, revocation and
introspection requests through the one HTTP path, and survives fork and
pickle. It asks for nothing on its own: caching is
:class:`~h2oauth_lite.AuthCache`'s job.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from .._fork import after_fork_in_child
from .._log import logger
from ..client_auth.base import AssertionClientAuth, ClientAuth
from ..client_auth.dpop import DPoPProver
from ..client_auth.methods import client_auth_for
from ..client_auth.tls import check_client_certificate
from ..durations import to_seconds
from ..errors import ConfigError, TokenEndpointError
from ..token import Token, TokenLike, parse_token_response
from ..wire.answers import located
from ..wire.metadata import IssuerMetadata
from ..wire.retry import RetryPolicy, retry_policy
from ..wire.send import FormValue, new_session, post_form
from ..wire.urls import check_url, safe_url
from . import management
from .dpop_retry import with_nonce_retry
from .options import DEFAULTS, ClientOptions, check_option_names

if TYPE_CHECKING:
    import requests
    from typing_extensions import Unpack

__all__ = ["TokenEndpoint", "one_or_more"]


class TokenEndpoint:
    """Where and how one client asks for tokens.

    Exactly one of ``auth_url`` (the token endpoint) and the ``issuer_url``
    option (discovery) is given. ``replay_safe=False`` is for requests that
    must not reach the server twice (a refresh, a one-time code): they are
    retried only after connect errors, when nothing was sent. ``endpoints``
    gives other endpoints by their metadata name
    (``device_authorization_endpoint``), ahead of discovery.
    """

    def __init__(
        self,
        auth_url: Optional[str] = None,
        *,
        client_id: str,
        client_secret: Optional[str] = None,
        replay_safe: bool = True,
        owner: str = "TokenEndpoint",
        endpoints: Optional[Mapping[str, Optional[str]]] = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        check_option_names(options, owner)
        settings: ClientOptions = {**DEFAULTS, **options}  # type: ignore[typeddict-item]
        issuer_url = settings.get("issuer_url")
        if (auth_url is None) == (issuer_url is None):
            raise ConfigError("give exactly one of auth_url (the token endpoint) and issuer_url")
        self._timeout = to_seconds(settings["timeout"], "timeout", positive=True)
        self._allow_insecure_http = allow_insecure = settings["allow_insecure_http"]
        self._auth_url = (
            None if auth_url is None else check_url(auth_url, allow_insecure_http=allow_insecure)
        )
        self._metadata = (
            None
            if issuer_url is None
            else IssuerMetadata(
                issuer_url, timeout=self._timeout, allow_insecure_http=allow_insecure
            )
        )
        self.client_auth: ClientAuth = client_auth_for(
            client_id, client_secret, settings.get("client_auth")
        )
        self.scope = settings.get("scope")
        self.resource = one_or_more(settings.get("resource"), "resource")
        self._extra_params = dict(settings.get("extra_params") or {})
        session = settings.get("session")
        ssl_context = settings.get("ssl_context")
        verify = settings.get("verify")
        if session is not None and (ssl_context is not None or verify is not None):
            raise ConfigError("give ssl_context/verify or a session, not both")
        cert = settings.get("cert")
        self._cert = None if cert is None else check_client_certificate(cert)
        if session is not None and self._cert is not None:
            raise ConfigError("give cert= or a session (with its own cert), not both")
        self._session = session
        self._owns_session = session is None
        self._ssl_context = ssl_context
        self._system_trust = False
        self._verify = verify
        self._retry = retry_policy(settings["retries"])
        self._replay_safe = replay_safe
        if verify is False:
            _warn_unverified(self._auth_url or issuer_url or "")
        self.expires_in_fallback = to_seconds(
            settings["expires_in_fallback"], "expires_in_fallback"
        )
        self._on_token = settings.get("on_token")
        self.clock = settings["clock"]
        dpop_key = settings.get("dpop_key")
        # Proofs take their iat from this client's clock, like every other time it keeps.
        self.dpop = None if dpop_key is None else DPoPProver(dpop_key, clock=self.clock)
        self._session_lock = threading.Lock()
        after_fork_in_child(self)
        given = dict(endpoints or {})
        given["revocation_endpoint"] = settings.get("revocation_url")
        given["introspection_endpoint"] = settings.get("introspection_url")
        # Endpoints given explicitly win over discovery: servers do not always publish them.
        self._endpoints = {
            name: check_url(url, allow_insecure_http=allow_insecure, what=name)
            for name, url in given.items()
            if url is not None
        }

    # -- who, where and how ------------------------------------------------------

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
    def issuer_url(self) -> Optional[str]:
        return None if self._metadata is None else self._metadata.issuer_url

    def trust_system_store(self) -> None:
        """Verify TLS with the system trust store rather than requests' bundle.

        The context is made with the session, never held before, so a pickled
        copy makes its own (an SSLContext cannot travel between processes).
        """
        if self._session is not None or self._ssl_context is not None:
            raise ConfigError("trust_system_store() comes before the first request, alone")
        self._system_trust = True

    @property
    def session(self) -> requests.Session:
        """The HTTP session, created on first use so that importing stays cheap."""
        session = self._session
        if session is None:
            with self._session_lock:
                if self._session is None:
                    context = self._ssl_context
                    if context is None and self._system_trust:
                        import ssl

                        context = ssl.create_default_context()
                    self._session = new_session(
                        ssl_context=context,
                        verify=self._verify,
                        retry=self.retry_policy,
                        cert=self._cert,
                    )
                session = self._session
        return session

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retries this client's requests get (statuses dropped where unsafe).

        urllib3 resends a request exactly as it was. After an answer (even a
        gateway's 503) the server may have acted on it: a rotated refresh token,
        a spent one-time code, or a recorded ``jti`` of a single-use assertion,
        which the identical body would then replay. Such requests retry only
        connect errors, where nothing was sent.
        """
        if self._replay_safe and not isinstance(self.client_auth, AssertionClientAuth):
            return self._retry
        return dataclasses.replace(self._retry, statuses=frozenset())

    @property
    def token_endpoint(self) -> str:
        if self._auth_url is not None:
            return self._auth_url
        return self.endpoint("token_endpoint")

    def metadata(self) -> Mapping[str, Any]:
        """The issuer's discovery document; empty when the endpoint was given, not discovered."""
        return {} if self._metadata is None else self._metadata.document(self.session)

    def endpoint(self, name: str) -> str:
        """An endpoint URL by its metadata name: given explicitly, else discovered.

        With a client certificate, the server's ``mtls_endpoint_aliases``
        (RFC 8705 section 5) win: those are the addresses that ask for it.
        """
        explicit = self._endpoints.get(name)
        if explicit is not None:
            return explicit
        if name == "token_endpoint" and self._auth_url is not None:
            return self._auth_url
        if self._metadata is None:
            option = name.replace("_endpoint", "_url")
            raise ConfigError(f"no {name} configured: pass {option}= or use issuer_url= discovery")
        if self._cert is not None:
            aliases = self._metadata.document(self.session).get("mtls_endpoint_aliases")
            alias = aliases.get(name) if isinstance(aliases, Mapping) else None
            if isinstance(alias, str) and alias:
                return check_url(alias, allow_insecure_http=self._allow_insecure_http, what=name)
        return self._metadata.endpoint(self.session, name)

    # -- requests -----------------------------------------------------------------

    def post(
        self,
        url: str,
        form: Mapping[str, FormValue],
        *,
        what: str,
        ignore_body: bool = False,
        proof: bool = False,
    ) -> Any:
        """POST ``form`` to ``url`` with this client's authentication; the decoded answer.

        ``what`` names the request in errors ("revocation request"). With
        ``proof`` (token requests) and a DPoP key, the request carries a DPoP
        proof, and a ``use_dpop_nonce`` refusal is retried once with the nonce
        the server sent (RFC 9449 section 8); a second refusal is final.
        """
        prover = self.dpop if proof else None
        if prover is None:
            return self._post_once(url, form, what, ignore_body, None)
        return with_nonce_retry(
            prover, url, lambda: self._post_once(url, form, what, ignore_body, prover)
        )

    def _post_once(
        self,
        url: str,
        form: Mapping[str, FormValue],
        what: str,
        ignore_body: bool,
        prover: Optional[DPoPProver],
    ) -> Any:
        # Client authentication is applied per attempt: an assertion's jti is single-use.
        data: dict[str, Any] = dict(form)
        headers: dict[str, str] = {}
        self.client_auth.apply(url, headers, data)
        on_answer = None
        if prover is not None:
            headers["DPoP"] = prover.proof("POST", url)
            on_answer = functools.partial(prover.remember_nonce, url)
        try:
            return post_form(
                self.session,
                url,
                data,
                headers=headers,
                timeout=self._timeout,
                allow_insecure_http=self._allow_insecure_http,
                ignore_body=ignore_body,
                what=what,
                on_answer=on_answer,
            )
        except TokenEndpointError as exc:
            if not isinstance(self.client_auth, AssertionClientAuth):
                raise
            explained = self.client_auth.explain_rejection(exc, url)
            if explained is exc:  # nothing to add; "from exc" would make it its own cause
                raise
            raise explained from exc

    def request_token(self, form: Mapping[str, FormValue]) -> Token:
        """One token request: ``extra_params``, ``scope`` and ``resource`` when set, ``form``.

        A list value is sent as that field repeated (``resource``, ``audience``).
        """
        url = self.token_endpoint
        data: dict[str, Any] = dict(self._extra_params)
        if self.scope:
            data["scope"] = self.scope
        if self.resource:
            data["resource"] = self.resource
        data.update(form)
        grant_type = form.get("grant_type")
        what = _token_request(grant_type if isinstance(grant_type, str) else None)
        sent_at = self.clock()  # the lifetime counts from before the request: never too long
        answer = self.post(url, data, what=what, proof=True)
        with located(what, url):
            token = parse_token_response(
                answer, sent_at, expires_in_fallback=self.expires_in_fallback
            )
        logger.debug("%s grant for client %s succeeded", form.get("grant_type"), self.client_id)
        return token

    def issued(self, token: Token) -> Token:
        """Hand a new token to ``on_token`` (once its grant has taken what it needs)."""
        if self._on_token is not None:
            self._on_token(token)
        return token

    def revoke(self, token: TokenLike, token_type_hint: Optional[str] = None) -> None:
        """Revoke an access or refresh token (RFC 7009); an unknown token is success."""
        management.revoke(self.post, self.endpoint("revocation_endpoint"), token, token_type_hint)

    def introspect(
        self, token: TokenLike, token_type_hint: Optional[str] = None
    ) -> dict[str, Any]:
        """What the server knows of a token (RFC 7662): a dict with a boolean ``active``."""
        url = self.endpoint("introspection_endpoint")
        return management.introspect(self.post, url, token, token_type_hint)

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            self._session.close()
            self._session = None

    def where(self) -> Optional[str]:
        """The configured token endpoint or issuer, for ``repr``."""
        return self._auth_url or self.issuer_url

    def __repr__(self) -> str:
        return f"TokenEndpoint(endpoint={self.where()!r}, client_auth={self.client_auth!r})"

    # -- processes ----------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        if self._ssl_context is not None:
            # Dropping it would silently change whom the copy trusts (or lose a client cert).
            raise TypeError(
                "a provider with ssl_context= cannot be pickled: an SSLContext does not "
                "travel between processes; pass verify='/path/ca.pem' instead, or build the "
                "provider in the process that uses it"
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
            self._metadata.reset_lock()


def _token_request(grant_type: Optional[str]) -> str:
    """How errors name a token request: by its grant, the last word of a URN grant type."""
    if not grant_type:
        return "token request"
    return f"token request ({grant_type.rsplit(':', 1)[-1]} grant)"


def one_or_more(value: object, name: str) -> list[str]:
    """A parameter that may repeat (``resource``, ``audience``): a string or a list of them."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, (list, tuple))
        or not values
        or not all(isinstance(item, str) and item for item in values)
    ):
        raise ConfigError(f"{name} must be a non-empty string or a list of them")
    return list(values)


def _warn_unverified(where: str) -> None:
    message = (
        f"TLS certificate verification is off for {safe_url(where)} (verify=False): "
        "anyone on the network path can read the credentials sent there"
    )
    logger.warning(message)
    warnings.warn(message, stacklevel=4)
