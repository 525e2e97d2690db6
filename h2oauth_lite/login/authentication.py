"""authenticate(): a valid token for a person's login, asking them only when needed.

The order: a valid stored token; else the refresh grant with the stored
refresh token (once across processes, through AuthCache and the store's
lock); else, when someone is at the terminal, an interactive login (device
flow by default, code flow when asked); else NotInteractiveError saying how
to provide a token without a terminal. Nothing is remembered between calls:
each call uses its own arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, Union

from .._log import logger
from ..cache import AuthCache
from ..durations import Duration, to_seconds
from ..errors import ConfigError, NotInteractiveError, TokenEndpointError
from ..settings import CLIENT_ID, CLIENT_SECRET, ISSUER, REFRESH_TOKEN
from ..store.file import TokenStore
from ..store.link import read_owned
from ..token import Token
from .common import DEFAULT_LOGIN_TIMEOUT
from .interactive import not_interactive_reason
from .server import DEFAULT_SCOPE, LoginServer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .common import LoginOptions

__all__ = ["authenticate", "config_for"]

# A stored token this close to its expiry is refreshed rather than handed out.
_MIN_SECONDS_LEFT = 30.0
_FLOWS = ("device", "code")


def config_for(
    host_or_issuer: Union[str, LoginServer],
    *,
    client_id: Optional[str] = None,
    client_secret: Optional[str] = None,
    scope: Optional[str] = None,
) -> LoginServer:
    """``host_or_issuer`` as a LoginServer: an issuer when a client_id comes with it, else
    a host."""
    if isinstance(host_or_issuer, LoginServer):
        if client_id is not None or client_secret is not None or scope is not None:
            raise ConfigError(
                "give client_id, client_secret and scope in the LoginServer, not twice"
            )
        return host_or_issuer
    if client_id is not None:
        return LoginServer(
            issuer=host_or_issuer,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope or DEFAULT_SCOPE,
        )
    if client_secret is not None:
        raise ConfigError("client_secret= needs client_id= (an OpenID provider's client)")
    return LoginServer(host=host_or_issuer)


def authenticate(
    host_or_issuer: Union[str, LoginServer],
    *,
    store: Optional[TokenStore] = None,
    client_id: Optional[str] = None,
    client_secret: Optional[str] = None,
    scope: Optional[str] = None,
    force: bool = False,
    interactive: Optional[bool] = None,
    flow: str = "device",
    timeout: Duration = DEFAULT_LOGIN_TIMEOUT,
    environ: Optional[Mapping[str, str]] = None,
    **flow_options: Unpack[LoginOptions],
) -> Token:
    """A valid token for ``host_or_issuer`` (a py-oidc-auth host, or an issuer with client_id).

    ``store`` defaults to ``TokenStore()`` in the user cache directory.
    ``force=True`` skips the stored token and logs in again. ``interactive``
    overrides the guess (a terminal on stdin and stdout, no batch
    scheduler). ``flow`` is ``"device"`` or ``"code"``; ``timeout`` bounds
    the login; ``flow_options`` go to the flow (``output``,
    ``open_browser``, ``sleep``, ``clock``, ``redirect_ports``...).
    """
    if flow not in _FLOWS:
        raise ConfigError(f"flow must be 'device' or 'code', got {flow!r}")
    config = config_for(
        host_or_issuer, client_id=client_id, client_secret=client_secret, scope=scope
    )
    store = TokenStore() if store is None else store
    seconds = to_seconds(timeout, "timeout")
    if not force:
        token = _from_store(config, store)
        if token is not None:
            return token
    reason = None if interactive else not_interactive_reason(environ)
    if interactive is False:
        reason = reason or "interactive=False"
    if reason is not None:
        raise NotInteractiveError(_not_interactive_message(config, store, reason))
    token = _login(config, flow, seconds, dict(flow_options))
    store.put(config.key, token, client_id=config.client_id)
    return token


def _from_store(config: LoginServer, store: TokenStore) -> Optional[Token]:
    import time

    stored = read_owned(store, config.key, config.client_id)
    if stored is None:
        return None
    if not stored.is_expired(time.time(), _MIN_SECONDS_LEFT):
        return stored
    if not stored.refresh_token:
        return None
    provider = config.refresh_provider(stored.refresh_token)
    try:
        # AuthCache with the store: another process's refresh is used, ours is written.
        return AuthCache(
            provider, store=store, key=config.key, expiry_threshold=_MIN_SECONDS_LEFT
        ).get_token()
    except TokenEndpointError as exc:
        # Revoked or expired refresh token: a new login is the only way on.
        logger.info("refresh for %s failed (%s); a new login is needed", config.key, exc.error)
        return None
    finally:
        provider.close()


def _login(config: LoginServer, flow: str, timeout: float, options: dict[str, Any]) -> Token:
    if flow == "code":
        from .code import CodeFlow

        code_flow = CodeFlow(config, timeout=timeout, **options)
        try:
            return code_flow.run()
        finally:
            code_flow.close()
    from .device import DeviceFlow

    device_flow = DeviceFlow(config, timeout=timeout, **options)
    try:
        return device_flow.run()
    finally:
        device_flow.close()


def _not_interactive_message(config: LoginServer, store: TokenStore, reason: str) -> str:
    return (
        f"a login to {config.key} is needed, but nobody can answer it ({reason}). "
        f"Without a terminal, provide a token one of these ways: set {REFRESH_TOKEN} "
        f"(with {ISSUER} and {CLIENT_ID}); copy the token store file {store.path} from a "
        f"machine where `h2oauth-lite login` ran; or use client credentials "
        f"({CLIENT_ID} and {CLIENT_SECRET})"
    )
