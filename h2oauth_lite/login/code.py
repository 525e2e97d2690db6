"""The authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636, RFC 8252).

A loopback listener on 127.0.0.1 receives the browser's redirect. PKCE S256
is always used, the random ``state`` is checked (a redirect with another
state is refused and the flow keeps waiting), and a ``nonce`` is checked
against the ID token when ``openid`` is in scope. An error redirect
(``error=access_denied``) ends the flow at once.

When the server advertises a ``pushed_authorization_request_endpoint`` (or
``par=True``), the authorization request is pushed there first (PAR,
RFC 9126) and the browser gets only ``client_id`` and the ``request_uri``:
nothing of the request can be read or altered on its way through the
browser. When the server says it sends ``iss`` with the authorization
response (RFC 9207), or sends one anyway, it must be this issuer: a
response from another server (a mix-up attack) ends the flow.

With a py-oidc-auth server (``LoginServer(host=...)``) the server builds the
authorization URL itself (its login route) and keeps the PKCE verifier in
the ``state`` it generates; the flow reads both from that URL, so the state
is still checked on the way back.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..durations import Duration, to_seconds
from ..errors import (
    AccessDeniedError,
    ConfigError,
    FlowTimeoutError,
    InvalidTokenResponseError,
    TokenEndpointError,
)
from ..token import Token
from ..wire.send import get_redirect
from ..wire.urls import check_url, safe_url
from .common import DEFAULT_LOGIN_TIMEOUT, Output, open_in_browser, to_stderr
from .redirect import RedirectListener
from .server import LoginServer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..grants.options import TransportOptions

__all__ = ["CodeFlow", "pkce_pair"]



def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Login:
    """One attempt: what was sent, to be checked against what comes back."""

    def __init__(self, url: str, state: str, verifier: str, nonce: Optional[str]) -> None:
        self.url = url
        self.state = state
        self.verifier = verifier
        self.nonce = nonce


class CodeFlow:
    """Log in in a browser; ``run()`` (or ``get_token()``) returns a Token.

    ``redirect_ports`` lists the loopback ports to try (default ``(0,)``:
    any free port); ``browser(url)`` opens the login page (default: the
    system browser; ``open_browser=False`` only prints the URL). ``timeout``
    bounds the wait for the redirect. ``par``: push the authorization
    request first (RFC 9126): None (default) when the server advertises it,
    True always (ConfigError if it cannot), False never. ``resource`` (RFC 8707)
    goes into the authorization request and the token request.
    """

    def __init__(
        self,
        config: LoginServer,
        *,
        output: Output = to_stderr,
        open_browser: bool = True,
        browser: Callable[[str], Any] = open_in_browser,
        timeout: Duration = DEFAULT_LOGIN_TIMEOUT,
        redirect_ports: Sequence[int] = (0,),
        redirect_path: str = "/callback",
        clock: Callable[[], float] = time.monotonic,
        par: Optional[bool] = None,
        **client_options: Unpack[TransportOptions],
    ) -> None:
        self.config = config
        self._client = config.token_endpoint_client(**client_options)
        self._par = par
        self._output = output
        self._open_browser = open_browser
        self._browser = browser
        self._timeout = to_seconds(timeout, "timeout")
        self._ports = tuple(redirect_ports)
        self._path = redirect_path
        self._clock = clock

    def run(self) -> Token:
        with RedirectListener(self._ports, self._path) as listener:
            redirect_uri = listener.redirect_uri
            login = self._prepare(redirect_uri)
            self._output(f"To log in, open this URL in a browser: {login.url}")
            if self._open_browser:
                self._browser(login.url)
            outcome: dict[str, Any] = {}
            deadline = self._clock() + self._timeout
            done = listener.wait(
                lambda query: self._judge(login, query, outcome),
                lambda: deadline - self._clock(),
            )
        if not done:
            raise FlowTimeoutError(
                f"no login redirect arrived within {self._timeout:g} s; run the login again"
            )
        if "error" in outcome:
            raise outcome["error"]
        token = self._exchange(outcome["code"], redirect_uri, login)
        self._check_nonce(token, login)
        return token

    get_token = run

    def close(self) -> None:
        self._client.close()

    # -- steps ------------------------------------------------------------------

    def _prepare(self, redirect_uri: str) -> _Login:
        if self.config.is_py_oidc_auth:
            return self._prepare_py_oidc_auth(redirect_uri)
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        scopes = (self.config.scope or "").split()
        nonce = secrets.token_urlsafe(32) if "openid" in scopes else None
        params = {
            "response_type": "code",
            "client_id": str(self.config.client_id),
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if scopes:
            params["scope"] = " ".join(scopes)
        if nonce is not None:
            params["nonce"] = nonce
        if "offline_access" in scopes:
            # OpenID Connect Core 11: offline_access is only granted with prompt=consent.
            params["prompt"] = "consent"
        query: dict[str, Any] = dict(params)
        if self._client.resource:
            query["resource"] = self._client.resource
        endpoint = self.config.endpoint_url(self._client, "authorization_endpoint")
        par_endpoint = self._par_endpoint()
        if par_endpoint is not None:
            query = self._push(par_endpoint, query)
        separator = "&" if "?" in endpoint else "?"
        url = endpoint + separator + urlencode(query, doseq=True)
        return _Login(url, state, verifier, nonce)

    def _par_endpoint(self) -> Optional[str]:
        """Where to push the authorization request, or None to send it through the browser."""
        if self._par is False or self.config.is_py_oidc_auth:
            return None
        advertised = self._client.metadata().get("pushed_authorization_request_endpoint")
        if isinstance(advertised, str) and advertised:
            return check_url(
                advertised,
                allow_insecure_http=self._client.allow_insecure_http,
                what="pushed_authorization_request_endpoint",
            )
        if self._par:
            raise ConfigError(
                "par=True, but the issuer advertises no pushed_authorization_request_endpoint"
            )
        return None

    def _push(self, url: str, query: dict[str, Any]) -> dict[str, Any]:
        """PAR (RFC 9126 section 2): the request goes to the server; the browser gets a handle."""
        what = "pushed authorization request"
        answer = self._client.post(url, query, what=what)
        request_uri = answer.get("request_uri") if isinstance(answer, dict) else None
        if not isinstance(request_uri, str) or not request_uri:
            raise InvalidTokenResponseError(
                201, detail="the answer has no request_uri", request=what, url=safe_url(url)
            )
        return {"client_id": query["client_id"], "request_uri": request_uri}

    def _prepare_py_oidc_auth(self, redirect_uri: str) -> _Login:
        # py-oidc-auth builds the authorization URL itself (its state carries
        # the PKCE verifier); its login route answers with a redirect to it.
        url = self.config.endpoint_url(self._client, "authorization_endpoint")
        params = {"redirect_uri": redirect_uri, "offline_access": "true", "prompt": "consent"}
        location = get_redirect(
            self._client.session,
            url,
            params=params,
            timeout=self._client.timeout,
            allow_insecure_http=self._client.allow_insecure_http,
        )
        state = dict(parse_qsl(urlsplit(location).query)).get("state", "")
        parts = state.split("|", 2)
        if len(parts) != 3 or not parts[2]:
            raise ConfigError(
                f"{safe_url(url)} did not redirect with a py-oidc-auth login state; "
                "is this a py-oidc-auth server?"
            )
        return _Login(location, state, parts[2], None)

    def _judge(
        self, login: _Login, query: dict[str, str], outcome: dict[str, Any]
    ) -> tuple[int, str, bool]:
        if not secrets.compare_digest(query.get("state", ""), login.state):
            # Not the answer to our request (a stale tab, a forged link): keep waiting.
            return 400, "This login link is not the one this program is waiting for.", False
        mixed_up = self._wrong_issuer(query.get("iss"))
        if mixed_up and (query.get("code") or query.get("error")):
            outcome["error"] = InvalidTokenResponseError(400, detail=mixed_up)
            return 400, "The login answer came from an unexpected server.", True
        error = query.get("error")
        if error:
            description = query.get("error_description")
            kind = AccessDeniedError if error == "access_denied" else TokenEndpointError
            outcome["error"] = kind(400, error, description, query.get("error_uri"))
            return 200, f"The login did not succeed ({error}). You can close this window.", True
        code = query.get("code")
        if not code:
            outcome["error"] = InvalidTokenResponseError(
                400, detail="the login redirect carried neither a code nor an error"
            )
            return 400, "The login redirect carried no code.", True
        outcome["code"] = code
        return 200, "Login complete. You can close this window.", True

    def _wrong_issuer(self, iss: Optional[str]) -> Optional[str]:
        """Why the authorization response's ``iss`` is refused (RFC 9207), or None."""
        issuer = self._client.issuer_url
        if issuer is None or self.config.is_py_oidc_auth:
            return None
        metadata = self._client.metadata()
        expected = str(metadata.get("issuer") or issuer)
        if iss is None:
            if metadata.get("authorization_response_iss_parameter_supported") is True:
                return "the authorization response has no iss, though the server promises one"
            return None
        if iss != expected:
            return (
                f"the authorization response comes from issuer {safe_url(iss)!r}, "
                f"not {safe_url(expected)!r} (RFC 9207): refused"
            )
        return None

    def _exchange(self, code: str, redirect_uri: str, login: _Login) -> Token:
        form = {"code": code, "redirect_uri": redirect_uri, "code_verifier": login.verifier}
        if not self.config.is_py_oidc_auth:
            form["grant_type"] = "authorization_code"
        return self._client.request_token(form)

    @staticmethod
    def _check_nonce(token: Token, login: _Login) -> None:
        if login.nonce is None or not token.id_token:
            return
        import jwt

        try:
            # Straight from the token endpoint over TLS: OpenID Connect Core 3.1.3.7
            # lets the client skip the signature; the nonce binds it to this login.
            claims = jwt.decode(token.id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidTokenResponseError(200, detail="the ID token is not a JWT") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), login.nonce):
            raise InvalidTokenResponseError(
                200, detail="the ID token's nonce is not the one this login sent"
            )

    def __repr__(self) -> str:
        return f"CodeFlow({self.config!r})"
