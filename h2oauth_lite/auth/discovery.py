"""h2o-authn's ``discovery.create``: a TokenProvider for one client of a discovered environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .token_provider import DEFAULT_DISCOVERY_CLIENT, TokenProvider

if TYPE_CHECKING:
    from ..discovery.model import Discovery

__all__ = ["create"]


def create(
    discovery: Discovery, client: str = DEFAULT_DISCOVERY_CLIENT, **options: Any
) -> TokenProvider:
    """Same as :meth:`TokenProvider.from_discovery`, under h2o-authn's name for it."""
    return TokenProvider.from_discovery(discovery, client, **options)
