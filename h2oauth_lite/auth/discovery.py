"""h2o-authn's ``h2o_authn.discovery`` path: ``create()`` a TokenProvider from discovery."""

from __future__ import annotations

from ..h2o.token_provider import create

__all__ = ["create"]
