"""What every grant shares: the provider protocol over a held token-endpoint client.

A grant is one way of asking for a token (client credentials, refresh token,
assertion). It holds a :class:`~h2oauth_lite.grants.endpoint.TokenEndpoint`
for everything about the endpoint and the transport, builds its own form,
and sends one token request per :meth:`TokenGrant.get_token`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..token import AccessToken, Token, TokenLike

if TYPE_CHECKING:
    import requests

    from ..client_auth.base import ClientAuth
    from ..client_auth.dpop import DPoPProver
    from ..wire.retry import RetryPolicy
    from .endpoint import TokenEndpoint

__all__ = ["TokenGrant"]


class TokenGrant:
    """One grant type on one client's token endpoint; every call is one token request."""

    grant_type = ""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint

    def _obtain(self) -> Token:
        """One token request of this grant."""
        raise NotImplementedError

    # -- the provider protocol ------------------------------------------------------

    def get_token(self) -> Token:
        """Ask the token endpoint for a new token (``on_token`` sees it first)."""
        return self.endpoint.issued(self._obtain())

    def token(self) -> AccessToken:
        """The access token as a ``str`` with ``.exp`` and ``.scope`` (h2o-authn style)."""
        return self.get_token().as_access_token()

    def __call__(self) -> str:
        """The bare access token."""
        return self.get_token().access_token

    def revoke(self, token: TokenLike, token_type_hint: Optional[str] = None) -> None:
        """Revoke an access or refresh token (RFC 7009); an unknown token is success."""
        self.endpoint.revoke(token, token_type_hint)

    def introspect(
        self, token: TokenLike, token_type_hint: Optional[str] = None
    ) -> dict[str, Any]:
        """What the server knows of a token (RFC 7662): a dict with a boolean ``active``."""
        return self.endpoint.introspect(token, token_type_hint)

    def close(self) -> None:
        """Close the HTTP session if this provider created it."""
        self.endpoint.close()

    # -- the endpoint's settings, as attributes of the provider ----------------------

    @property
    def client_id(self) -> str:
        return self.endpoint.client_id

    @property
    def client_auth(self) -> ClientAuth:
        return self.endpoint.client_auth

    @property
    def scope(self) -> Optional[str]:
        return self.endpoint.scope

    @property
    def dpop(self) -> Optional[DPoPProver]:
        """The DPoP key's prover when tokens are bound to one (``dpop_key=``), else None."""
        return self.endpoint.dpop

    @property
    def token_endpoint(self) -> str:
        return self.endpoint.token_endpoint

    @property
    def session(self) -> requests.Session:
        return self.endpoint.session

    @property
    def timeout(self) -> float:
        return self.endpoint.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.endpoint.retry_policy

    def __repr__(self) -> str:
        endpoint = self.endpoint
        return (
            f"{type(self).__name__}(endpoint={endpoint.where()!r}, "
            f"client_auth={endpoint.client_auth!r})"
        )
