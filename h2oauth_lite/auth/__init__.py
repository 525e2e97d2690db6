"""The import paths of h2o-authn, so that switching is a change of the import line.

``from h2oauth_lite.auth import TokenProvider`` and
``from h2oauth_lite.auth.token_provider import TokenEndpointError`` give this
library's classes.
"""

from __future__ import annotations

from ..errors import TokenEndpointError
from .token_provider import TokenProvider

__all__ = ["TokenEndpointError", "TokenProvider"]
