"""Interactive logins: the device flow and the authorization code flow with PKCE."""

from __future__ import annotations

from .device import DeviceAuthorization, DeviceFlow
from .server import Config

__all__ = ["Config", "DeviceAuthorization", "DeviceFlow"]
