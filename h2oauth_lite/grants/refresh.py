"""The refresh-token grant (RFC 6749 section 6), keeping the newest refresh token.

Servers that rotate refresh tokens invalidate the old one when they hand
out a new one, so two requests with the same refresh token mean one
``invalid_grant``. This provider therefore sends one refresh at a time and
always the newest refresh token it has seen.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any, Optional

from .._fork import after_fork_in_child
from ..errors import ConfigError
from ..token import Token
from .base import TokenGrant
from .endpoint import TokenEndpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .options import ClientOptions

__all__ = ["RefreshTokenProvider", "check_refresh_token"]


class RefreshTokenProvider(TokenGrant):
    """Exchanges a refresh token for an access token; every call is one token request.

    ``on_token(token)`` runs after every success (the token holds the newest
    refresh token), so a caller can persist a rotated refresh token.
    """

    grant_type = "refresh_token"
    # The form field of the refresh token; servers with their own routes name it otherwise.
    refresh_token_field = "refresh_token"

    def __init__(
        self,
        auth_url: Optional[str] = None,
        client_id: str = "",
        refresh_token: str = "",
        client_secret: Optional[str] = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(
            TokenEndpoint(
                auth_url,
                client_id=client_id,
                client_secret=client_secret,
                # Retried only when the request cannot have reached the server
                # (connect errors). A refresh that was answered but whose answer
                # was lost (a 502 from a proxy after the server acted) may already
                # have rotated the refresh token: sending the old one again gets
                # invalid_grant, and servers with reuse detection then revoke the
                # new one as well.
                replay_safe=False,
                owner=type(self).__name__,
                **options,
            )
        )
        self._current_refresh_token = check_refresh_token(refresh_token)
        self._refresh_lock = threading.Lock()
        after_fork_in_child(self)

    def get_token(self) -> Token:
        with self._chain_lock():
            return super().get_token()

    def _chain_lock(self) -> threading.Lock:
        """The lock that every use of this refresh-token chain goes under.

        A provider has a chain of its own; subclasses whose providers share one
        chain return the lock of that chain instead.
        """
        return self._refresh_lock

    def _obtain(self) -> Token:
        form = {
            "grant_type": self.grant_type,
            self.refresh_token_field: self._current_refresh_token,
        }
        token = self.endpoint.request_token(form)
        if token.refresh_token:
            self._current_refresh_token = token.refresh_token
            return token
        # The server kept the refresh token; the Token says so, for whoever persists it.
        return dataclasses.replace(token, refresh_token=self._current_refresh_token)

    def use_refresh_token(self, refresh_token: str) -> None:
        """Continue from a refresh token obtained elsewhere (another process, a store)."""
        with self._chain_lock():
            self._current_refresh_token = check_refresh_token(refresh_token)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_refresh_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._refresh_lock = threading.Lock()
        after_fork_in_child(self)

    def _after_fork(self) -> None:
        # A fork copies the lock held, if a parent thread was refreshing, but not
        # that thread: in the child, nobody would ever release it.
        self._refresh_lock = threading.Lock()


def check_refresh_token(refresh_token: str) -> str:
    if not isinstance(refresh_token, str) or not refresh_token.strip():
        raise ConfigError("a refresh token is required for the refresh_token grant")
    return refresh_token.strip()
