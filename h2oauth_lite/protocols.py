"""What the layers ask of each other, declared as typed Protocols. Pure.

A cache, a store link or a consumer never probes an object for a method by
name; it asks for one of these Protocols, and a type checker sees the same
contract. They live here, below every layer that uses them, so that asking
for a capability never imports the code that implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .token import Token, TokenLike

__all__ = [
    "DPoPSigner",
    "RefreshableProvider",
    "SupportsClientId",
    "SupportsDPoP",
    "SupportsGetToken",
    "SupportsIntrospect",
    "SupportsInvalidate",
    "SupportsRevoke",
    "SupportsToken",
]


@runtime_checkable
class SupportsGetToken(Protocol):
    """Anything that hands out tokens: every provider, and AuthCache."""

    def get_token(self) -> Token: ...


@runtime_checkable
class SupportsToken(Protocol):
    """h2o-authn's ``token()``: the access token as a ``str`` (every provider and cache)."""

    def token(self) -> Any: ...


@runtime_checkable
class RefreshableProvider(SupportsGetToken, Protocol):
    """A provider that can continue from a refresh token obtained elsewhere (a store)."""

    def use_refresh_token(self, refresh_token: str) -> None: ...


@runtime_checkable
class SupportsClientId(Protocol):
    """A provider that names the OAuth client its tokens are issued to."""

    @property
    def client_id(self) -> str: ...


@runtime_checkable
class SupportsInvalidate(Protocol):
    """A cache that can drop a refused token (only while it is still the cached one)."""

    def invalidate(self, token: Optional[TokenLike] = None) -> None: ...


@runtime_checkable
class SupportsRevoke(Protocol):
    """A provider that can revoke tokens (RFC 7009)."""

    def revoke(self, token: TokenLike, token_type_hint: Optional[str] = None) -> None: ...


@runtime_checkable
class SupportsIntrospect(Protocol):
    """A provider that can introspect tokens (RFC 7662)."""

    def introspect(
        self, token: TokenLike, token_type_hint: Optional[str] = None
    ) -> dict[str, Any]: ...


class DPoPSigner(Protocol):
    """What a consumer needs of a DPoP key holder (``client_auth.dpop.DPoPProver``)."""

    def proof(self, htm: str, url: str, access_token: Optional[str] = None) -> str: ...

    def remember_nonce(self, url: str, headers: Mapping[str, str]) -> None: ...

    def check_bound(self, access_token: str) -> None: ...


@runtime_checkable
class SupportsDPoP(Protocol):
    """A provider or cache whose tokens may be bound to a DPoP key (RFC 9449).

    ``dpop`` is None when no key is configured; otherwise consumers sign a
    proof with it for every request that presents one of its tokens.
    """

    @property
    def dpop(self) -> Optional[DPoPSigner]: ...
