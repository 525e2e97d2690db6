"""BearerAuth: requests that carry a fresh token, and one retry when it was refused."""

from __future__ import annotations

from typing import Any, Optional

import requests
from requests.auth import AuthBase

from ._log import logger
from .client_auth.dpop import DPoPProver, dpop_challenge
from .errors import ConfigError
from .protocols import DPoPSigner, SupportsDPoP, SupportsGetToken, SupportsInvalidate
from .token import Token

__all__ = ["BearerAuth"]

_RETRIED = "_h2oauth_lite_retried"
_NONCE_RETRIED = "_h2oauth_lite_nonce_retried"


class BearerAuth(AuthBase):
    """Sets ``Authorization: <type> <token>`` from a provider or an AuthCache.

    When the resource server answers 401 the refused token is dropped
    (``invalidate(token=...)``: only if it is still the cached one, so late
    401s of requests that carried an already replaced token cost no token
    request), a new one is fetched and the request is sent once more,
    provided its body can be sent again (not a stream or generator) and the
    new token differs from the refused one.

    A DPoP-bound token (``token_type`` "DPoP", RFC 9449) goes out as
    ``Authorization: DPoP <token>`` with a fresh proof per request (with
    ``ath``), signed by the provider's ``dpop_key`` (or ``dpop=``). A 401
    that asks for a DPoP nonce (``WWW-Authenticate: DPoP
    error="use_dpop_nonce"``) is retried once with the nonce it brought.
    """

    def __init__(self, provider: SupportsGetToken, *, dpop: Optional[DPoPProver] = None) -> None:
        if not isinstance(provider, SupportsGetToken):
            raise TypeError("BearerAuth needs a provider or AuthCache with get_token()")
        self.provider = provider
        self._dpop = dpop
        self._checked: Optional[Token] = None  # the last DPoP token found bound to our key

    @property
    def dpop(self) -> Optional[DPoPSigner]:
        """The prover that signs DPoP proofs: ``dpop=``, else the provider's, else None."""
        if self._dpop is not None:
            return self._dpop
        return self.provider.dpop if isinstance(self.provider, SupportsDPoP) else None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._authorize(request, self.provider.get_token())
        request.hooks["response"].append(self._handle_401)
        return request

    def _authorize(self, request: requests.PreparedRequest, token: Token) -> None:
        request.headers["Authorization"] = f"{token.token_type} {token.access_token}"
        if token.token_type != "DPoP":
            request.headers.pop("DPoP", None)
            return
        prover = self.dpop
        if prover is None:
            raise ConfigError(
                "the access token is DPoP-bound (token_type DPoP) but no DPoP key is "
                "configured here: pass dpop_key= to the provider (or dpop= to BearerAuth)"
            )
        if self._checked is not token:
            prover.check_bound(token.access_token)
            self._checked = token
        request.headers["DPoP"] = prover.proof(
            request.method or "GET", request.url or "", token.access_token
        )

    def _handle_401(self, response: requests.Response, **send_options: Any) -> requests.Response:
        request = response.request
        prover = self.dpop if _carries_dpop(request) else None
        if prover is not None:
            prover.remember_nonce(request.url or "", response.headers)
        if response.status_code != 401 or getattr(request, _RETRIED, False):
            return response
        if not _replayable(request):
            return response
        refused = request.headers.get("Authorization")
        if not refused:
            return response  # no token of ours went out (stripped on a redirect): not our refusal
        if prover is not None and _asks_for_nonce(response):
            if getattr(request, _NONCE_RETRIED, False):
                return response  # one nonce retry per request: a loop ends here
            logger.debug("resource server asked for a DPoP nonce; retrying once with it")
            retry = request.copy()
            retry.headers["DPoP"] = prover.proof(
                request.method or "GET", request.url or "", refused.partition(" ")[2]
            )
            setattr(retry, _NONCE_RETRIED, True)
            response = _resend(response, retry, send_options)
            prover.remember_nonce(retry.url or "", response.headers)
            if response.status_code != 401 or _asks_for_nonce(response):
                return response
            request = retry
        if isinstance(self.provider, SupportsInvalidate):
            # The header itself says which token was refused; it survives the
            # request copies that requests makes for redirects.
            self.provider.invalidate(token=refused.partition(" ")[2])
        token = self.provider.get_token()
        if f"{token.token_type} {token.access_token}" == refused:
            return response  # nothing new to offer: the 401 is the answer
        logger.debug("resource server refused the token (401); retrying once with a new one")
        retry = request.copy()
        self._authorize(retry, token)
        setattr(retry, _RETRIED, True)
        setattr(retry, _NONCE_RETRIED, getattr(request, _NONCE_RETRIED, False))
        return _resend(response, retry, send_options)

    def __repr__(self) -> str:
        return f"BearerAuth({self.provider!r})"


def _resend(
    response: requests.Response, retry: requests.PreparedRequest, send_options: Any
) -> requests.Response:
    response.content  # noqa: B018 - drain so the connection can be reused
    response.close()
    new_response: requests.Response = response.connection.send(retry, **send_options)
    new_response.history.append(response)
    new_response.request = retry
    return new_response


def _carries_dpop(request: requests.PreparedRequest) -> bool:
    return (request.headers.get("Authorization") or "").startswith("DPoP ")


def _asks_for_nonce(response: requests.Response) -> bool:
    challenge = dpop_challenge(response.headers.get("WWW-Authenticate", ""))
    return (
        challenge is not None
        and challenge.get("error") == "use_dpop_nonce"
        and bool(response.headers.get("DPoP-Nonce"))
    )


def _replayable(request: requests.PreparedRequest) -> bool:
    body = request.body
    return body is None or isinstance(body, (bytes, str))
