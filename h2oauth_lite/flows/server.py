"""Where interactive logins happen: a standard OpenID provider or a py-oidc-auth server.

``Config(issuer=..., client_id=...)`` finds its endpoints in the issuer's
discovery document. ``Config(host=...)`` talks to an application that runs
py-oidc-auth: that server holds the OAuth client itself and offers its own
routes (``/auth/v2/device``, ``/auth/v2/token``, ``/auth/v2/login``), with
the form fields ``device-code`` and ``refresh-token``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urljoin

from .._http import check_url
from ..errors import ConfigError
from ..hosts import normalise_host
from ..provider import BaseTokenProvider
from ..refresh import RefreshTokenProvider
from ..token import Token, mask

__all__ = ["DEVICE_CODE_GRANT", "Config", "FlowClient"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPE = "openid offline_access"


class _ServerHeldClient:
    """A py-oidc-auth server authenticates to the provider itself; its clients send nothing."""

    client_id = "py-oidc-auth"

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        return None

    def __repr__(self) -> str:
        return "ServerHeldClient()"


@dataclass(frozen=True)
class Config:
    """The server of an interactive login: ``issuer`` + ``client_id``, or ``host``.

    ``scope`` defaults to ``openid offline_access`` (offline_access asks for
    the refresh token that later runs use). Routes of a py-oidc-auth server
    can be moved with ``device_route``, ``token_route`` and ``login_route``.
    Plain http is refused except on loopback unless ``allow_insecure_http``.
    """

    issuer: Optional[str] = None
    client_id: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)
    scope: Optional[str] = DEFAULT_SCOPE
    host: Optional[str] = None
    device_route: str = "/auth/v2/device"
    token_route: str = "/auth/v2/token"
    login_route: str = "/auth/v2/login"
    allow_insecure_http: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if (self.issuer is None) == (self.host is None):
            raise ConfigError("give exactly one of issuer= (an OpenID provider) and host=")
        if self.issuer is not None:
            check_url(self.issuer, allow_insecure_http=self.allow_insecure_http, what="issuer")
            if not self.client_id:
                raise ConfigError("Config(issuer=...) needs client_id=")
        else:
            assert self.host is not None
            check_url(self.base_url, allow_insecure_http=self.allow_insecure_http, what="host")
            if self.client_id or self.client_secret:
                raise ConfigError(
                    "Config(host=...) takes no client_id or client_secret: "
                    "the py-oidc-auth server holds its client"
                )

    @property
    def is_py_oidc_auth(self) -> bool:
        return self.host is not None

    @property
    def base_url(self) -> str:
        """The host's base URL (py-oidc-auth mode), keeping a path prefix if given."""
        assert self.host is not None
        text = self.host.strip()
        if "://" not in text:
            text = "https://" + text
        return text.rstrip("/") + "/"

    @property
    def key(self) -> str:
        """The token store key: the normalised host of the server."""
        return normalise_host(self.host if self.host is not None else str(self.issuer))

    def route(self, route: str) -> str:
        return urljoin(self.base_url, route.lstrip("/"))

    def client(self, **options: Any) -> FlowClient:
        """A provider-shaped client for this server's token endpoint."""
        return FlowClient(self, **options)

    def refresh_provider(self, refresh_token: str, **options: Any) -> RefreshTokenProvider:
        """The refresh grant against this server, starting from ``refresh_token``."""
        options.setdefault("timeout", self.timeout)
        options.setdefault("allow_insecure_http", self.allow_insecure_http)
        if self.host is not None:
            return _HostRefresh(
                self.route(self.token_route),
                client_id=_ServerHeldClient.client_id,
                refresh_token=refresh_token,
                client_auth=_ServerHeldClient(),
                **options,
            )
        return RefreshTokenProvider(
            client_id=str(self.client_id),
            refresh_token=refresh_token,
            client_secret=self.client_secret,
            issuer_url=self.issuer,
            scope=None,
            **options,
        )

    def __repr__(self) -> str:
        if self.host is not None:
            return f"Config(host={self.host!r})"
        return (
            f"Config(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"client_secret={mask(self.client_secret)}, scope={self.scope!r})"
        )


class _HostRefresh(RefreshTokenProvider):
    refresh_token_field = "refresh-token"


class FlowClient(BaseTokenProvider):
    """Token requests of the interactive grants (device code, authorization code)."""

    grant_type = "interactive"
    # A lost answer may have consumed the one-time device or authorization code.
    retry_on_status = False

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        options.setdefault("timeout", config.timeout)
        options.setdefault("allow_insecure_http", config.allow_insecure_http)
        if config.host is not None:
            super().__init__(
                config.route(config.token_route),
                client_id=_ServerHeldClient.client_id,
                client_auth=_ServerHeldClient(),
                **options,
            )
        else:
            super().__init__(
                client_id=str(config.client_id),
                client_secret=config.client_secret,
                issuer_url=config.issuer,
                **options,
            )

    def endpoint(self, name: str) -> str:
        """An endpoint of the server: from discovery, or the py-oidc-auth route."""
        if self.config.host is not None:
            routes = {
                "device_authorization_endpoint": self.config.device_route,
                "token_endpoint": self.config.token_route,
                "authorization_endpoint": self.config.login_route,
            }
            return self.config.route(routes[name])
        assert self._metadata is not None
        return self._metadata.endpoint(self.session, name)

    def post(self, url: str, form: Mapping[str, str]) -> Any:
        """POST a form (with this client's authentication) to a non-token endpoint."""
        return self._post(url, form)

    def grant(self, form: Mapping[str, str]) -> Token:
        """One token request with ``form``; the parsed token."""
        return self._grant(form)

    def device_form(self, device_code: str) -> dict[str, str]:
        if self.config.host is not None:
            return {"device-code": device_code}
        return {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code}
