"""From an Airflow Connection to this library's objects, without importing Airflow.

The hook in :mod:`h2oauth_lite.integrations.airflow` is a thin Airflow class
over this module: reading a Connection, choosing the token store and building
the cache are plain functions of plain data, so they are tested (and usable)
where Airflow is not installed.

The fields of an ``h2oauth`` connection:

- host: the token endpoint URL, or the issuer URL when the extra ``issuer``
  is true (the token endpoint is then read from the issuer's discovery
  document). In URI form Airflow splits a URL into host, port and schema
  (its path); they are joined back, so ``host[:port][/schema]`` is the URL.
- login: the client id; password: the client secret (optional with a
  refresh token, a private key or ``client_auth`` ``none``).
- extra: ``issuer``, ``scope``, ``audience``, ``refresh_token``,
  ``client_auth``, ``private_key`` (a file path or inline PEM),
  ``private_key_id``, ``timeout`` (seconds), ``token_store`` (a file path, a
  Redis URL or ``none``). Any other key is refused, so a typo is an error
  rather than an option silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union
from urllib.parse import urlsplit, urlunsplit

from h2oauth_lite import AuthCache, ConfigError, Token, TokenStore
from h2oauth_lite.settings import TOKEN_STORE, parse_flag, read_variable, user_cache_dir
from h2oauth_lite.store.base import TokenStoreBackend, fingerprint
from h2oauth_lite.store.keys import StoreKey
from h2oauth_lite.store.spec import open_store

if TYPE_CHECKING:
    from h2oauth_lite import ClientCredentialsTokenProvider, RefreshTokenProvider

__all__ = [
    "EXTRA_FIELDS",
    "AirflowConnection",
    "ConnectionSettings",
    "MaskingAuthCache",
    "build_cache",
    "build_provider",
    "read_connection",
    "store_for",
    "store_key",
    "token_store_setting",
]

CONN_TYPE = "h2oauth"
# Every key the extra may hold; the hook refuses others.
EXTRA_FIELDS = (
    "issuer",
    "scope",
    "audience",
    "refresh_token",
    "client_auth",
    "private_key",
    "private_key_id",
    "timeout",
    "token_store",
)
# Older Airflow forms saved custom fields as extra__<conn type>__<field>.
_PREFIX = f"extra__{CONN_TYPE}__"
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class AirflowConnection(Protocol):
    """The attributes of ``airflow.models.Connection`` (and the Task SDK's) this module reads."""

    @property
    def conn_id(self) -> str: ...

    @property
    def host(self) -> Optional[str]: ...

    @property
    def port(self) -> Optional[int]: ...

    @property
    def schema(self) -> Optional[str]: ...

    @property
    def login(self) -> Optional[str]: ...

    @property
    def password(self) -> Optional[str]: ...

    @property
    def extra_dejson(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ConnectionSettings:
    """One ``h2oauth`` connection, checked; secrets never appear in its repr."""

    conn_id: str
    url: str
    client_id: str
    client_secret: Optional[str] = field(default=None, repr=False)
    issuer: bool = False
    scope: Optional[str] = None
    audience: Optional[str] = None
    refresh_token: Optional[str] = field(default=None, repr=False)
    client_auth: Optional[str] = None
    private_key: Optional[str] = field(default=None, repr=False)
    private_key_id: Optional[str] = None
    timeout: Optional[float] = None
    token_store: Optional[str] = None

    def secrets(self) -> list[str]:
        """The secret values this connection holds (to register with a log masker)."""
        values = (self.client_secret, self.refresh_token, self.private_key)
        return [value for value in values if value]


def _fail(conn_id: str, message: str) -> ConfigError:
    return ConfigError(f"Airflow connection {conn_id!r}: {message}")


def read_connection(conn: AirflowConnection) -> ConnectionSettings:
    """The settings of ``conn``; ConfigError naming the connection and the field at fault."""
    conn_id = conn.conn_id
    extra = _normalised_extra(conn_id, conn.extra_dejson)
    host = (conn.host or "").strip()
    if not host:
        raise _fail(conn_id, "the host (the token endpoint or issuer URL) is missing")
    login = (conn.login or "").strip()
    if not login:
        raise _fail(conn_id, "the login (the client id) is missing")
    settings = ConnectionSettings(
        conn_id=conn_id,
        url=_join_url(conn_id, host, conn.port, conn.schema),
        client_id=login,
        client_secret=conn.password or None,
        issuer=_flag(conn_id, extra, "issuer"),
        scope=_scope(conn_id, extra),
        audience=_text(conn_id, extra, "audience"),
        refresh_token=_text(conn_id, extra, "refresh_token", secret=True),
        client_auth=_lower(_text(conn_id, extra, "client_auth")),
        private_key=_text(conn_id, extra, "private_key", secret=True),
        private_key_id=_text(conn_id, extra, "private_key_id"),
        timeout=_seconds(conn_id, extra, "timeout"),
        token_store=_text(conn_id, extra, "token_store"),
    )
    if settings.client_auth == "private_key_jwt" and settings.private_key is None:
        raise _fail(conn_id, "client_auth private_key_jwt needs the extra private_key")
    if settings.private_key is not None and settings.client_auth not in (None, "private_key_jwt"):
        raise _fail(
            conn_id,
            f"the extra private_key goes with client_auth private_key_jwt, "
            f"not {settings.client_auth!r}",
        )
    return settings


def _normalised_extra(conn_id: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(extra, Mapping):
        raise _fail(conn_id, "the extra must be a JSON object")
    found: dict[str, Any] = {}
    for key, value in extra.items():
        name = key[len(_PREFIX) :] if isinstance(key, str) and key.startswith(_PREFIX) else key
        # A form leaves empty fields behind as "" or null: they mean "not set".
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        found[name] = value
    unknown = sorted(str(key) for key in found if key not in EXTRA_FIELDS)
    if unknown:
        raise _fail(
            conn_id,
            f"unknown extra field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"expected some of {', '.join(EXTRA_FIELDS)}",
        )
    return found


def _text(
    conn_id: str, extra: Mapping[str, Any], name: str, *, secret: bool = False
) -> Optional[str]:
    value = extra.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        # Never the value itself: it may be a secret pasted into the wrong shape.
        raise _fail(conn_id, f"the extra {name} must be a string, not {type(value).__name__}")
    return value if secret else value.strip()


def _lower(value: Optional[str]) -> Optional[str]:
    return None if value is None else value.lower()


def _scope(conn_id: str, extra: Mapping[str, Any]) -> Optional[str]:
    value = extra.get("scope")
    # A JSON list of scopes reads better in a connection than one long string.
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(item.strip() for item in value if item.strip()) or None
    return _text(conn_id, extra, "scope")


def _flag(conn_id: str, extra: Mapping[str, Any], name: str) -> bool:
    value = extra.get(name, False)
    if isinstance(value, bool):
        return value
    # The URI form of a connection carries every extra as a string.
    flag = parse_flag(value) if isinstance(value, str) else None
    if flag is not None:
        return flag
    raise _fail(conn_id, f"the extra {name} must be true or false, got {value!r}")


def _seconds(conn_id: str, extra: Mapping[str, Any], name: str) -> Optional[float]:
    value = extra.get(name)
    if value is None:
        return None
    problem = _fail(conn_id, f"the extra {name} must be positive seconds, got {value!r}")
    if isinstance(value, bool):  # float(True) is 1.0: a checkbox is not a duration
        raise problem
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise problem from None
    if not 0 < seconds < float("inf"):
        raise problem
    return seconds


def _join_url(conn_id: str, host: str, port: Optional[int], schema: Optional[str]) -> str:
    """``host[:port][/schema]``: the URL the URI form of a connection split apart."""
    text = host if "://" in host else f"https://{host}"
    try:
        parts = urlsplit(text)
        has_port = parts.port is not None
    except ValueError:
        raise _fail(conn_id, "the host is not a URL that can be parsed") from None
    netloc = parts.netloc
    if port and not has_port:
        netloc = f"{netloc}:{int(port)}"
    path = parts.path
    if schema and schema.strip("/"):
        path = f"{path.rstrip('/')}/{schema.strip('/')}"
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


# -- token store --------------------------------------------------------------


def token_store_setting(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """``H2O_AUTHN_TOKEN_STORE``: a file path, a Redis URL, ``none``, or None when unset."""
    return read_variable(TOKEN_STORE, environ)


def store_for(
    settings: ConnectionSettings, environ: Optional[Mapping[str, str]] = None
) -> Optional[TokenStoreBackend]:
    """The token store a connection's caches share, or None when stores are turned off.

    The connection's ``token_store`` (a file path or a Redis URL), else
    ``H2O_AUTHN_TOKEN_STORE``, else the file
    ``<user cache dir>/h2oauth-lite/airflow/<conn_id>.json`` that the tasks of
    one worker share. ``none`` turns it off.
    """
    where = settings.token_store or token_store_setting(environ)
    if where is not None:
        try:
            return open_store(where)
        except ConfigError as exc:
            raise _fail(settings.conn_id, str(exc)) from None
    safe_id = _UNSAFE_FILE_CHARS.sub("_", settings.conn_id).lstrip(".") or "connection"
    return TokenStore(Path(user_cache_dir("h2oauth-lite", environ)) / "airflow" / f"{safe_id}.json")


def store_key(settings: ConnectionSettings) -> StoreKey:
    """The connection's entry in its store: endpoint, client, scope, audience and seed.

    The seed is the fingerprint of the refresh token the connection names, so the
    environment mode's rule applies: tokens rotated from that seed are used
    over it, and a newly pasted refresh token replaces the old chain.
    """
    seed = fingerprint(settings.refresh_token) if settings.refresh_token else None
    return StoreKey(
        settings.url,
        settings.client_id,
        scope=settings.scope,
        audience=settings.audience,
        seed=seed,
    )


# -- the objects ---------------------------------------------------------------


def build_provider(
    settings: ConnectionSettings,
) -> Union[ClientCredentialsTokenProvider, RefreshTokenProvider]:
    """The refresh grant when the connection holds a refresh token, else client credentials."""
    from h2oauth_lite import ClientCredentialsTokenProvider, PrivateKeyJWT, RefreshTokenProvider

    options: dict[str, Any] = {}
    options["issuer_url" if settings.issuer else "auth_url"] = settings.url
    if settings.scope is not None:
        options["scope"] = settings.scope
    if settings.timeout is not None:
        options["timeout"] = settings.timeout
    if settings.private_key is not None:
        options["client_auth"] = PrivateKeyJWT(
            settings.client_id, settings.private_key, alg=None, kid=settings.private_key_id
        )
    elif settings.client_auth is not None:
        options["client_auth"] = settings.client_auth
    try:
        if settings.refresh_token is not None:
            return RefreshTokenProvider(
                client_id=settings.client_id,
                refresh_token=settings.refresh_token,
                client_secret=settings.client_secret,
                **options,
            )
        return ClientCredentialsTokenProvider(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            audience=settings.audience,
            **options,
        )
    except ConfigError as exc:
        raise _fail(settings.conn_id, str(exc)) from None


class MaskingAuthCache(AuthCache):
    """An AuthCache that registers every token it hands out with ``mask`` first.

    Whatever the token's origin (a request of this process, the store, another
    process's refresh), it reaches the caller through :meth:`get_token`, so
    this is the one place that sees them all; each token is registered once.
    """

    def __init__(self, provider: Any, *, mask: Callable[[str], None], **options: Any) -> None:
        self._mask = mask
        self._masked: Optional[Token] = None
        super().__init__(provider, **options)

    def get_token(self) -> Token:
        token = super().get_token()
        if token is not self._masked:
            for value in (token.access_token, token.refresh_token, token.id_token):
                if value:
                    self._mask(value)
            self._masked = token
        return token


def build_cache(
    settings: ConnectionSettings,
    *,
    mask: Callable[[str], None],
    environ: Optional[Mapping[str, str]] = None,
) -> MaskingAuthCache:
    """The connection's cache, sharing its tokens through the connection's store."""
    for secret in settings.secrets():
        mask(secret)
    provider = build_provider(settings)
    store = store_for(settings, environ)
    if store is None:
        return MaskingAuthCache(provider, mask=mask)
    return MaskingAuthCache(provider, mask=mask, store=store, key=store_key(settings))
