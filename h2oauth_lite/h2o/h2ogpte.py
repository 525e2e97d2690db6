"""H2OGPTEAuth: the headers Enterprise h2oGPTe expects, for plain ``requests`` calls.

The h2oGPTe client picks its ``Authorization`` scheme from how it was given
its credentials; this class does the same, so code that calls the REST API
directly authenticates the way the client would.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Optional

from requests.auth import AuthBase

from .._redact import mask
from ..protocols import SupportsToken

if TYPE_CHECKING:
    import requests

__all__ = ["H2OGPTEAuth"]

class H2OGPTEAuth(AuthBase):
    """``requests`` authentication for h2oGPTe: an API key, a token provider or an Azure token.

    - ``api_key``: ``Authorization: Bearer <key>``;
    - ``token_provider``: ``Authorization: Bearer-Token <provider.token()>``, asked
      on every request so the token stays fresh, and ``Session-Id``;
    - ``azure_token`` (an Entra ID access token, never refreshed here):
      ``Authorization: Bearer-AD <token>`` and ``Session-Id``.

    ``Session-Id`` is a random UUID fixed for the life of this object. Exactly
    one of the three must be given (a value counts as given when it is not None).
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        token_provider: Optional[SupportsToken] = None,
        azure_token: Optional[str] = None,
    ) -> None:
        given = sum(value is not None for value in (api_key, token_provider, azure_token))
        if given == 0:
            raise RuntimeError(
                "Please use either an API key, a Token provider, or an Azure token to authenticate."
            )
        if given > 1:
            raise RuntimeError(
                "api_key, token_provider, and azure_token are mutually exclusive. "
                "Please provide exactly one."
            )
        if token_provider is not None and not isinstance(token_provider, SupportsToken):
            raise TypeError("token_provider needs a token() method, as h2o-authn providers have")
        self._api_key = api_key
        self._token_provider = token_provider
        self._azure_token = azure_token
        self.session_id = str(uuid.uuid4())

    def headers(self) -> dict[str, str]:
        """The headers for one request (a token provider is asked each time)."""
        if self._api_key is not None:
            return {"Authorization": f"Bearer {self._api_key}"}
        if self._azure_token is not None:
            return {
                "Authorization": f"Bearer-AD {self._azure_token}",
                "Session-Id": self.session_id,
            }
        assert self._token_provider is not None
        token = self._token_provider.token()
        return {"Authorization": f"Bearer-Token {token}", "Session-Id": self.session_id}

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.headers())
        return request

    def __repr__(self) -> str:
        if self._api_key is not None:
            return f"H2OGPTEAuth(api_key={mask(self._api_key)})"
        if self._azure_token is not None:
            return f"H2OGPTEAuth(azure_token={mask(self._azure_token)})"
        return f"H2OGPTEAuth(token_provider={self._token_provider!r})"
