"""The client-credentials grant (RFC 6749 section 4.4): a service authenticates as itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..token import Token
from .base import TokenGrant
from .endpoint import TokenEndpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import ClientOptions

__all__ = ["ClientCredentialsTokenProvider"]


class ClientCredentialsTokenProvider(TokenGrant):
    """Gets a token for the client itself; every call is one token request.

    ``audience`` is sent as the ``audience`` parameter some servers (Auth0,
    Keycloak token exchange) want; ``extra_params`` carries anything else,
    such as an RFC 8707 ``resource``.
    """

    grant_type = "client_credentials"

    def __init__(
        self,
        auth_url: Optional[str] = None,
        client_id: str = "",
        client_secret: Optional[str] = None,
        *,
        audience: Optional[str] = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            TokenEndpoint(
                auth_url,
                client_id=client_id,
                client_secret=client_secret,
                owner=type(self).__name__,
                **options,
            )
        )
        self.audience = audience

    def _obtain(self) -> Token:
        form = {"grant_type": self.grant_type}
        if self.audience:
            form["audience"] = self.audience
        return self.endpoint.request_token(form)
