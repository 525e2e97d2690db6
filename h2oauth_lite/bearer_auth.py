"""BearerAuth: requests that carry a fresh token, and one retry when it was refused."""

from __future__ import annotations

from typing import Any

import requests
from requests.auth import AuthBase

from ._log import logger
from .protocols import SupportsGetToken, SupportsInvalidate

__all__ = ["BearerAuth"]

_RETRIED = "_h2oauth_lite_retried"


class BearerAuth(AuthBase):
    """Sets ``Authorization: <type> <token>`` from a provider or an AuthCache.

    When the resource server answers 401 the refused token is dropped
    (``invalidate(token=...)``: only if it is still the cached one, so late
    401s of requests that carried an already replaced token cost no token
    request), a new one is fetched and the request is sent once more,
    provided its body can be sent again (not a stream or generator) and the
    new token differs from the refused one.
    """

    def __init__(self, provider: SupportsGetToken) -> None:
        if not isinstance(provider, SupportsGetToken):
            raise TypeError("BearerAuth needs a provider or AuthCache with get_token()")
        self.provider = provider

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.provider.get_token()
        request.headers["Authorization"] = f"{token.token_type} {token.access_token}"
        request.hooks["response"].append(self._handle_401)
        return request

    def _handle_401(self, response: requests.Response, **send_options: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, _RETRIED, False):
            return response
        if not _replayable(request):
            return response
        refused = request.headers.get("Authorization")
        if not refused:
            return response  # no token of ours went out (stripped on a redirect): not our refusal
        if isinstance(self.provider, SupportsInvalidate):
            # The header itself says which token was refused; it survives the
            # request copies that requests makes for redirects.
            self.provider.invalidate(token=refused.partition(" ")[2])
        token = self.provider.get_token()
        header = f"{token.token_type} {token.access_token}"
        if header == refused:
            return response  # nothing new to offer: the 401 is the answer
        logger.debug("resource server refused the token (401); retrying once with a new one")
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = header
        setattr(retry, _RETRIED, True)
        new_response: requests.Response = response.connection.send(retry, **send_options)
        new_response.history.append(response)
        new_response.request = retry
        return new_response

    def __repr__(self) -> str:
        return f"BearerAuth({self.provider!r})"


def _replayable(request: requests.PreparedRequest) -> bool:
    body = request.body
    return body is None or isinstance(body, (bytes, str))
