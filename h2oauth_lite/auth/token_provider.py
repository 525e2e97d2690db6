"""h2o-authn's ``h2o_authn.token_provider`` path: switching is a change of the import line."""

from __future__ import annotations

from ..errors import TokenEndpointError
from ..h2o.token_provider import TokenProvider

__all__ = ["TokenEndpointError", "TokenProvider"]
