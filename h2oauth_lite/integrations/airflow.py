"""The ``h2oauth`` Airflow connection type and its hook, :class:`H2OAuthHook`.

This module imports Airflow when it is imported, and only then; nothing else
in h2oauth-lite imports it. Airflow itself imports it (by the hook class name
of the provider info) and so do DAGs that use the hook, so Airflow is always
there when it is needed. A hook must subclass Airflow's ``BaseHook``, which
therefore has to exist when the class statement runs: building the class
lazily behind a module ``__getattr__`` would only move the same import to the
first attribute access and make the class invisible to type checkers and
readers. Without Airflow, importing this module raises
:class:`~h2oauth_lite.ConfigError` naming ``apache-airflow``.

What Airflow needs without importing the hook (the provider info) lives in
:mod:`~h2oauth_lite.integrations.airflow_provider`; reading a connection and
building the cache live in :mod:`~h2oauth_lite.integrations.airflow_connection`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any, Callable, Optional

from h2oauth_lite import AuthCache, AuthError, BearerAuth, ConfigError, H2OGPTEAuth, Token

from .airflow_connection import (
    ConnectionSettings,
    build_cache,
    build_provider,
    read_connection,
)
from .airflow_provider import CONN_TYPE, HOOK_NAME, UI_FIELD_BEHAVIOUR

__all__ = ["H2OAuthHook"]


def _first_attribute(candidates: tuple[tuple[str, str], ...]) -> Any:
    """The first ``module.attribute`` of ``candidates`` that imports, or ConfigError."""
    for module_name, attribute in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        value = getattr(module, attribute, None)
        if value is not None:
            return value
    raise ConfigError(
        "h2oauth_lite.integrations.airflow needs Airflow: install the apache-airflow package"
    )


# Airflow 3's Task SDK first, then Airflow 2.10's place for the same thing.
_BaseHook: Any = _first_attribute(
    (("airflow.sdk.bases.hook", "BaseHook"), ("airflow.hooks.base", "BaseHook"))
)
_mask_secret: Callable[[str], None] = _first_attribute(
    (("airflow.sdk.log", "mask_secret"), ("airflow.utils.log.secrets_masker", "mask_secret"))
)


def mask(value: str) -> None:
    """Register ``value`` with Airflow's secrets masker: logs show ``***`` instead."""
    _mask_secret(value)


class H2OAuthHook(_BaseHook):  # type: ignore[misc]  # BaseHook is Any where Airflow is absent
    """Tokens for an ``h2oauth`` connection: a cache shared by the worker's tasks.

    ``get_cache()`` builds the connection's :class:`~h2oauth_lite.AuthCache`
    once per hook; its tokens persist in the connection's token store, so
    every task process of a worker refreshes once per expiry. Every token the
    hook hands out is registered with Airflow's secrets masker first.
    """

    conn_name_attr = "h2oauth_conn_id"
    default_conn_name = "h2oauth_default"
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self,
        h2oauth_conn_id: str = default_conn_name,
        *,
        environ: Optional[Mapping[str, str]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.h2oauth_conn_id = h2oauth_conn_id
        # Where H2O_AUTHN_TOKEN_STORE and the cache directory are read; None: os.environ.
        self._environ = environ
        self._cache: Optional[AuthCache] = None
        self._cache_lock = threading.Lock()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form (Airflow 2.10; 3.2+ reads the provider info instead)."""
        return {key: value.copy() for key, value in UI_FIELD_BEHAVIOUR.items()}

    def settings(self) -> ConnectionSettings:
        """The connection, read and checked (ConfigError names the connection and field)."""
        return read_connection(self.get_connection(self.h2oauth_conn_id))

    def get_conn(self) -> AuthCache:
        """Airflow's generic accessor: the same as :meth:`get_cache`."""
        return self.get_cache()

    def get_cache(self) -> AuthCache:
        """The connection's AuthCache, built on first use and kept for this hook's life."""
        cache = self._cache
        if cache is None:
            with self._cache_lock:
                if self._cache is None:
                    self._cache = build_cache(self.settings(), mask=mask, environ=self._environ)
                cache = self._cache
        return cache

    def get_token(self) -> Token:
        """A valid token (masked in logs before it is returned)."""
        return self.get_cache().get_token()

    def get_auth(self) -> BearerAuth:
        """``requests`` authentication with the connection's tokens: ``auth=hook.get_auth()``."""
        return BearerAuth(self.get_cache())

    def get_h2ogpte_auth(self) -> H2OGPTEAuth:
        """Authentication for the h2oGPTe REST API with the connection's tokens."""
        return H2OGPTEAuth(token_provider=self.get_cache())

    def test_connection(self) -> tuple[bool, str]:
        """The connection form's *Test* button: one real token request.

        A client-credentials connection asks the token endpoint directly, so a
        wrong secret shows. A refresh-token connection goes through its token
        store, so the rotated refresh token the answer brings is kept for the
        tasks rather than spent by the test. Neither message holds a secret.
        """
        try:
            settings = self.settings()
            if settings.refresh_token is not None:
                token = self.get_token()
            else:
                token = build_provider(settings).get_token()
                mask(token.access_token)
        except AuthError as exc:
            return False, str(exc)
        left = token.expires_in
        if left is None:
            return True, "token received, no expiry given"
        return True, f"token received, expires in {left} s"

    def __repr__(self) -> str:
        return f"H2OAuthHook(h2oauth_conn_id={self.h2oauth_conn_id!r})"
