"""Interactive logins: the device flow and the authorization code flow with PKCE."""

from __future__ import annotations

from .code import CodeFlow
from .device import DeviceAuthorization, DeviceFlow
from .server import Config

__all__ = ["CodeFlow", "Config", "DeviceAuthorization", "DeviceFlow"]
