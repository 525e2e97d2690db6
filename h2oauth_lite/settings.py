"""Every environment variable h2oauth-lite reads, read here and nowhere else. Pure
but for reading ``os.environ``.

Each function takes an optional ``environ`` mapping so callers (and tests)
can pass a plain dict; the default is ``os.environ`` at call time, never at
import time. Values are stripped; an empty value counts as unset, because
``export H2O_AUTHN_SCOPE=`` in a shell script means "no scope".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from ._redact import mask
from .durations import to_seconds
from .errors import ConfigError

__all__ = [
    "BATCH_SCHEDULER_VARIABLES",
    "DEFAULT_PREFIX",
    "VARIABLES",
    "CloudEnvironment",
    "EnvSettings",
    "batch_scheduler",
    "cloud_client_token",
    "cloud_environment",
    "environ_with",
    "parse_flag",
    "read_settings",
    "read_variable",
    "token_endpoint_override",
    "user_cache_dir",
    "variable",
]

URI = "H2O_AUTHN_URI"
ISSUER = "H2O_AUTHN_ISSUER"
CLIENT_ID = "H2O_AUTHN_CLIENT_ID"
CLIENT_SECRET = "H2O_AUTHN_CLIENT_SECRET"
SCOPE = "H2O_AUTHN_SCOPE"
AUDIENCE = "H2O_AUTHN_AUDIENCE"
REFRESH_TOKEN = "H2O_AUTHN_REFRESH_TOKEN"
CLIENT_AUTH_METHOD = "H2O_AUTHN_CLIENT_AUTH_METHOD"
PRIVATE_KEY_FILE = "H2O_AUTHN_PRIVATE_KEY_FILE"
PRIVATE_KEY_ID = "H2O_AUTHN_PRIVATE_KEY_ID"
TIMEOUT = "H2O_AUTHN_TIMEOUT"
ALLOW_INSECURE_HTTP = "H2O_AUTHN_ALLOW_INSECURE_HTTP"
DPOP_KEY_FILE = "H2O_AUTHN_DPOP_KEY_FILE"
TLS_CERT_FILE = "H2O_AUTHN_TLS_CERT_FILE"
TLS_KEY_FILE = "H2O_AUTHN_TLS_KEY_FILE"
RESOURCE = "H2O_AUTHN_RESOURCE"
TOKEN_STORE = "H2O_AUTHN_TOKEN_STORE"
# read_settings(prefix="WAREHOUSE_") reads WAREHOUSE_URI, WAREHOUSE_CLIENT_ID, ...
DEFAULT_PREFIX = "H2O_AUTHN_"
CLOUD_TOKEN_ENDPOINT_URL = "H2O_CLOUD_TOKEN_ENDPOINT_URL"
CLOUD_DISCOVERY = "H2O_CLOUD_DISCOVERY"
CLOUD_ENVIRONMENT = "H2O_CLOUD_ENVIRONMENT"
H2O_CLI_CONFIG = "H2OCONFIG"

# What each H2O_AUTHN_* variable sets: `h2oauth-lite token --help` lists them.
VARIABLES = {
    URI: "the token endpoint URL",
    ISSUER: "the issuer URL, whose discovery document names the token endpoint",
    CLIENT_ID: "the OAuth client id",
    CLIENT_SECRET: "the client secret",
    SCOPE: "the scope to ask for",
    AUDIENCE: "the audience parameter (client credentials)",
    REFRESH_TOKEN: "a refresh token: selects the refresh grant",
    CLIENT_AUTH_METHOD: "client_secret_basic, client_secret_post, client_secret_jwt, "
    "private_key_jwt or none",
    PRIVATE_KEY_FILE: "a PEM or JWK private key file for private_key_jwt",
    PRIVATE_KEY_ID: "the key id (kid) of that key",
    TIMEOUT: "seconds to wait for an answer (default 10)",
    ALLOW_INSECURE_HTTP: "1 to allow plain http to hosts other than loopback",
    DPOP_KEY_FILE: "a PEM or JWK private key: DPoP-bound tokens (RFC 9449)",
    TLS_CERT_FILE: "a client certificate for mutual TLS (RFC 8705)",
    TLS_KEY_FILE: "its private key, when not in the certificate file",
    RESOURCE: "resource indicators (RFC 8707), separated by spaces",
    TOKEN_STORE: "a token store file path, a redis:// URL, or none",
}

# A job under one of these schedulers has no person at the terminal, even
# when a pseudo-terminal is attached.
BATCH_SCHEDULER_VARIABLES = (
    "AIRFLOW_CTX_DAG_ID",
    "SLURM_JOB_ID",
    "PBS_JOBID",
    "LSB_JOBID",
    "SGE_TASK_ID",
    "KUBERNETES_SERVICE_HOST",
    "CI",
)


def read_variable(name: str, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """One variable, stripped; None when unset or blank (``environ``: default os.environ)."""
    return _value(environ, name)


def _value(environ: Optional[Mapping[str, str]], name: str) -> Optional[str]:
    source = os.environ if environ is None else environ
    value = source.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class EnvSettings:
    """The ``H2O_AUTHN_*`` variables, as read at one moment."""

    token_url: Optional[str] = None
    issuer_url: Optional[str] = None
    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    scope: Optional[str] = None
    audience: Optional[str] = None
    refresh_token: Optional[str] = None
    client_auth_method: Optional[str] = None
    private_key_file: Optional[str] = None
    private_key_id: Optional[str] = None
    timeout: Optional[float] = None
    allow_insecure_http: bool = False
    dpop_key_file: Optional[str] = None
    tls_cert_file: Optional[str] = None
    tls_key_file: Optional[str] = None
    # Several resource indicators are separated by white space (a URI holds none).
    resource: Optional[tuple[str, ...]] = None
    token_store: Optional[str] = None
    prefix: str = DEFAULT_PREFIX

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={_shown(name, value)}"
            for name, value in self.__dict__.items()
            if value is not None
            and value is not False
            and not (name == "prefix" and value == DEFAULT_PREFIX)
        )
        return f"EnvSettings({shown})"


def _shown(name: str, value: object) -> str:
    if name in ("client_secret", "refresh_token"):
        return mask(str(value))
    if name == "token_store" and isinstance(value, str) and "@" in value:
        # A Redis URL may carry a password: show where, not who.
        scheme, _, rest = value.partition("://")
        return repr(f"{scheme}://***@{rest.rpartition('@')[2]}")
    return repr(value)


def variable(name: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The variable ``name`` (an ``H2O_AUTHN_*`` constant) under ``prefix``."""
    return prefix + name[len(DEFAULT_PREFIX) :]


def read_settings(
    environ: Optional[Mapping[str, str]] = None, *, prefix: str = DEFAULT_PREFIX
) -> EnvSettings:
    """Read the ``H2O_AUTHN_*`` variables (``<prefix>*`` with another ``prefix``).

    ``H2O_AUTHN_URI`` (the token endpoint) or ``H2O_AUTHN_ISSUER`` (discovery),
    not both, and ``H2O_AUTHN_CLIENT_ID`` are required; ``H2O_AUTHN_CLIENT_SECRET``
    is required too unless a refresh token, a private key, a TLS client
    certificate or the ``none`` method makes it optional.
    ``H2O_AUTHN_TLS_KEY_FILE`` needs ``H2O_AUTHN_TLS_CERT_FILE``. The ConfigError
    names every missing variable and its alternatives. ``prefix="WAREHOUSE_"``
    reads ``WAREHOUSE_URI``, ``WAREHOUSE_CLIENT_ID``... instead: a second client
    in the same process.
    """
    if not prefix or not prefix.replace("_", "").isalnum():
        raise ConfigError(f"an environment prefix is letters, digits and '_', got {prefix!r}")

    def get(name: str) -> Optional[str]:
        return _value(environ, variable(name, prefix))

    settings = EnvSettings(
        token_url=get(URI),
        issuer_url=get(ISSUER),
        client_id=get(CLIENT_ID),
        client_secret=get(CLIENT_SECRET),
        scope=get(SCOPE),
        audience=get(AUDIENCE),
        refresh_token=get(REFRESH_TOKEN),
        client_auth_method=_lower(get(CLIENT_AUTH_METHOD)),
        private_key_file=get(PRIVATE_KEY_FILE),
        private_key_id=get(PRIVATE_KEY_ID),
        timeout=_seconds(environ, variable(TIMEOUT, prefix)),
        allow_insecure_http=_flag(environ, variable(ALLOW_INSECURE_HTTP, prefix)),
        dpop_key_file=get(DPOP_KEY_FILE),
        tls_cert_file=get(TLS_CERT_FILE),
        tls_key_file=get(TLS_KEY_FILE),
        resource=_words(environ, variable(RESOURCE, prefix)),
        token_store=get(TOKEN_STORE),
        prefix=prefix,
    )
    if settings.token_url is not None and settings.issuer_url is not None:
        raise ConfigError(
            f"both {variable(URI, prefix)} (the token endpoint) and {variable(ISSUER, prefix)} "
            "(discovery) are set; "
            "set only one of them"
        )
    missing = []
    if settings.token_url is None and settings.issuer_url is None:
        missing.append(f"{variable(URI, prefix)} (or {variable(ISSUER, prefix)})")
    if settings.client_id is None:
        missing.append(variable(CLIENT_ID, prefix))
    secret_optional = (
        settings.refresh_token is not None
        or settings.private_key_file is not None
        or settings.tls_cert_file is not None
        or settings.client_auth_method
        in ("none", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth")
    )
    if settings.client_secret is None and not secret_optional:
        missing.append(
            f"{variable(CLIENT_SECRET, prefix)} (or {variable(REFRESH_TOKEN, prefix)} for the "
            f"refresh grant, or {variable(PRIVATE_KEY_FILE, prefix)} for private_key_jwt, or "
            f"{variable(TLS_CERT_FILE, prefix)} for tls_client_auth)"
        )
    if settings.tls_key_file is not None and settings.tls_cert_file is None:
        missing.append(variable(TLS_CERT_FILE, prefix))
    if missing:
        label = "variable" if len(missing) == 1 else "variables"
        raise ConfigError(f"Missing environment {label}: {', '.join(missing)}")
    return settings


def parse_flag(text: str) -> Optional[bool]:
    """A yes/no setting written as text (1/true/yes/on, 0/false/no/off, any case);
    None when it is neither. Pure: the environment and Airflow extras share it."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    return None


def _flag(environ: Optional[Mapping[str, str]], name: str) -> bool:
    raw = _value(environ, name)
    if raw is None:
        return False
    flag = parse_flag(raw)
    if flag is None:
        raise ConfigError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {raw!r}")
    return flag


def environ_with(overrides: Mapping[str, Optional[str]]) -> dict[str, str]:
    """The process environment with ``overrides`` (None: keep the variable as it is),
    for a command-line flag that stands in for a variable."""
    merged = dict(os.environ)
    merged.update({name: value for name, value in overrides.items() if value is not None})
    return merged


def _words(environ: Optional[Mapping[str, str]], name: str) -> Optional[tuple[str, ...]]:
    raw = _value(environ, name)
    return None if raw is None else tuple(raw.split())


def _lower(value: Optional[str]) -> Optional[str]:
    return None if value is None else value.lower()


def _seconds(environ: Optional[Mapping[str, str]], name: str) -> Optional[float]:
    raw = _value(environ, name)
    if raw is None:
        return None
    try:
        return to_seconds(float(raw), name, positive=True)
    except ValueError:
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}") from None


def token_endpoint_override(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """``H2O_CLOUD_TOKEN_ENDPOINT_URL``, which h2o-authn prefers over issuer discovery."""
    return _value(environ, CLOUD_TOKEN_ENDPOINT_URL)


@dataclass(frozen=True)
class CloudEnvironment:
    """Where H2O Cloud discovery should look, from the environment."""

    discovery: Optional[str]
    environment: Optional[str]
    cli_config_path: Optional[str]


def cloud_environment(environ: Optional[Mapping[str, str]] = None) -> CloudEnvironment:
    """``H2O_CLOUD_DISCOVERY``, ``H2O_CLOUD_ENVIRONMENT`` and ``H2OCONFIG``."""
    return CloudEnvironment(
        discovery=_value(environ, CLOUD_DISCOVERY),
        environment=_value(environ, CLOUD_ENVIRONMENT),
        cli_config_path=_value(environ, H2O_CLI_CONFIG),
    )


def cloud_client_token_variable(client_key: str) -> str:
    """The variable that holds a discovered client's refresh token."""
    normalised = "".join(ch if ch.isalnum() else "_" for ch in client_key).upper()
    return f"H2O_CLOUD_CLIENT_{normalised}_TOKEN"


def cloud_client_token(
    client_key: str, environ: Optional[Mapping[str, str]] = None
) -> Optional[str]:
    """``H2O_CLOUD_CLIENT_<KEY>_TOKEN``: a refresh token for one discovered client."""
    return _value(environ, cloud_client_token_variable(client_key))


def batch_scheduler(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The first batch-scheduler variable that is set, or None."""
    for name in BATCH_SCHEDULER_VARIABLES:
        value = _value(environ, name)
        if value is not None and not (name == "CI" and value.lower() in ("0", "false", "no")):
            return name
    return None


def user_cache_dir(app_name: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The per-user cache directory for ``app_name``, without platformdirs."""
    if os.name == "nt":
        base = _value(environ, "LOCALAPPDATA") or os.path.join(
            os.path.expanduser("~"), "AppData", "Local"
        )
    else:
        base = _value(environ, "XDG_CACHE_HOME") or os.path.join(_home(environ), ".cache")
    return os.path.join(base, app_name)


def _home(environ: Optional[Mapping[str, str]]) -> str:
    return _value(environ, "HOME") or os.path.expanduser("~")
