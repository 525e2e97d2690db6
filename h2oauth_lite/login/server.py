"""Where interactive logins happen: a standard OpenID provider or a py-oidc-auth server.

``LoginServer(issuer=..., client_id=...)`` finds its endpoints in the issuer's
discovery document. ``LoginServer(host=...)`` talks to an application that runs
py-oidc-auth: that server holds the OAuth client itself and offers its own
routes (``/auth/v2/device``, ``/auth/v2/token``, ``/auth/v2/login``), with
the form fields ``device-code`` and ``refresh-token``. ``Config`` is the
same class under the name it first had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, cast
from urllib.parse import urljoin

from .._redact import mask
from ..client_auth.secret import NoClientAuth
from ..errors import ConfigError
from ..grants.endpoint import TokenEndpoint
from ..grants.refresh import RefreshTokenProvider
from ..store.hosts import normalise_host
from ..wire.send import DEFAULT_TIMEOUT
from ..wire.urls import check_url

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..grants.options import ClientOptions, TransportOptions

__all__ = ["DEFAULT_SCOPE", "DEVICE_CODE_GRANT", "Config", "LoginServer"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPE = "openid offline_access"


# A py-oidc-auth server authenticates to the provider itself; its clients send nothing.
_SERVER_HELD_CLIENT = "py-oidc-auth"


@dataclass(frozen=True)
class LoginServer:
    """The server of an interactive login: ``issuer`` + ``client_id``, or ``host``.

    ``scope`` defaults to ``openid offline_access`` (offline_access asks for
    the refresh token that later runs use). ``token_url``,
    ``device_authorization_url`` and ``authorization_url`` give an OpenID
    provider's endpoints when its discovery documents do not list them. Routes
    of a py-oidc-auth server can be moved with ``device_route``, ``token_route``
    and ``login_route``.
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
    timeout: float = DEFAULT_TIMEOUT
    # Endpoints of an OpenID provider, when discovery does not list them (or to skip it).
    token_url: Optional[str] = None
    device_authorization_url: Optional[str] = None
    authorization_url: Optional[str] = None

    def __post_init__(self) -> None:
        if (self.issuer is None) == (self.host is None):
            raise ConfigError("give exactly one of issuer= (an OpenID provider) and host=")
        if self.issuer is not None:
            check_url(self.issuer, allow_insecure_http=self.allow_insecure_http, what="issuer")
            if not self.client_id:
                raise ConfigError(f"{type(self).__name__}(issuer=...) needs client_id=")
        else:
            assert self.host is not None
            check_url(self.base_url, allow_insecure_http=self.allow_insecure_http, what="host")
            if self.token_url or self.device_authorization_url or self.authorization_url:
                raise ConfigError(
                    f"{type(self).__name__}(host=...) takes no endpoint URLs: a py-oidc-auth "
                    "server has its routes (device_route, token_route, login_route)"
                )
            if self.client_id or self.client_secret:
                raise ConfigError(
                    f"{type(self).__name__}(host=...) takes no client_id or client_secret: "
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

    def token_endpoint_client(self, **transport: Unpack[TransportOptions]) -> TokenEndpoint:
        """The token-endpoint client the interactive grants of this server use."""
        # Every transport option is a client option; mypy cannot see one TypedDict in another.
        options = cast("ClientOptions", {"timeout": self.timeout, **transport})
        options.setdefault("allow_insecure_http", self.allow_insecure_http)
        auth_url, client_id = None, str(self.client_id)
        if self.host is not None:
            auth_url, client_id = self.route(self.token_route), _SERVER_HELD_CLIENT
            options["client_auth"] = NoClientAuth(_SERVER_HELD_CLIENT, send_client_id=False)
        else:
            options["issuer_url"] = self.issuer
        # replay_safe=False: a lost answer may have consumed the one-time device or
        # authorization code.
        return TokenEndpoint(
            auth_url,
            client_id=client_id,
            client_secret=self.client_secret,
            replay_safe=False,
            owner="LoginServer.token_endpoint_client",
            endpoints={
                "token_endpoint": self.token_url,
                "device_authorization_endpoint": self.device_authorization_url,
                "authorization_endpoint": self.authorization_url,
            },
            **options,
        )

    def endpoint_url(self, client: TokenEndpoint, name: str) -> str:
        """An endpoint of this server by its metadata name: the py-oidc-auth route, or
        what ``client`` knows (given explicitly, or discovered)."""
        if self.host is not None:
            routes = {
                "device_authorization_endpoint": self.device_route,
                "token_endpoint": self.token_route,
                "authorization_endpoint": self.login_route,
            }
            return self.route(routes[name])
        return client.endpoint(name)

    def device_form(self, device_code: str) -> dict[str, str]:
        """The token request that polls for a device login."""
        if self.host is not None:
            return {"device-code": device_code}
        return {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code}

    def refresh_provider(
        self, refresh_token: str, **options: Unpack[ClientOptions]
    ) -> RefreshTokenProvider:
        """The refresh grant against this server, starting from ``refresh_token``."""
        options.setdefault("timeout", self.timeout)
        options.setdefault("allow_insecure_http", self.allow_insecure_http)
        if self.host is not None:
            options["client_auth"] = NoClientAuth(_SERVER_HELD_CLIENT, send_client_id=False)
            return _HostRefresh(
                self.route(self.token_route),
                client_id=_SERVER_HELD_CLIENT,
                refresh_token=refresh_token,
                **options,
            )
        if self.token_url is None:
            options["issuer_url"] = self.issuer
        options["scope"] = None
        return RefreshTokenProvider(
            self.token_url,
            client_id=str(self.client_id),
            refresh_token=refresh_token,
            client_secret=self.client_secret,
            **options,
        )

    def __repr__(self) -> str:
        if self.host is not None:
            return f"LoginServer(host={self.host!r})"
        return (
            f"LoginServer(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"client_secret={mask(self.client_secret)}, scope={self.scope!r})"
        )


class _HostRefresh(RefreshTokenProvider):
    refresh_token_field = "refresh-token"


Config = LoginServer
