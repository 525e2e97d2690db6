"""What Airflow learns about h2oauth-lite through the ``apache_airflow_provider`` entry point.

Plain data, importable without Airflow: Airflow calls :func:`get_provider_info`
while it lists providers, and Airflow 3.2+ builds the connection form from
``ui-field-behaviour`` and ``conn-fields`` without importing the hook. The
hook's ``get_ui_field_behaviour()`` (read by Airflow 2.10) returns the same
:data:`UI_FIELD_BEHAVIOUR`, so both forms look alike.
"""

from __future__ import annotations

from typing import Any

import h2oauth_lite

__all__ = ["CONN_FIELDS", "HOOK_CLASS_NAME", "HOOK_NAME", "UI_FIELD_BEHAVIOUR", "get_provider_info"]

CONN_TYPE = "h2oauth"
HOOK_NAME = "H2O OAuth 2.0 / OpenID Connect"
HOOK_CLASS_NAME = "h2oauth_lite.integrations.airflow.H2OAuthHook"

# The Airflow 2.10 shape (snake case); Airflow 3.2+ reads the kebab-case copy below.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {
        "host": "Token endpoint URL (or issuer URL)",
        "login": "Client ID",
        "password": "Client secret",
    },
    "placeholders": {
        "host": "https://auth.example.com/oauth2/token",
        "login": "my-client",
        "password": "optional with a refresh token or a private key",
        "extra": '{"scope": "openid", "refresh_token": "..."}',
    },
}

_STRING = {"type": ["string", "null"]}

# The extra fields of the form, in the order the form shows them.
CONN_FIELDS: dict[str, Any] = {
    "issuer": {
        "label": "Host is the issuer",
        "description": "Read the token endpoint from the host's discovery document",
        "schema": {"type": ["boolean", "null"]},
    },
    "scope": {"label": "Scope", "description": "Space-separated scopes", "schema": _STRING},
    "audience": {
        "label": "Audience",
        "description": "Sent with the client-credentials grant",
        "schema": _STRING,
    },
    "refresh_token": {
        "label": "Refresh token",
        "description": "Use the refresh-token grant; rotated tokens are kept in the token store",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "client_auth": {
        "label": "Client authentication",
        "schema": {
            "type": ["string", "null"],
            "enum": [
                None,
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none",
            ],
        },
    },
    "private_key": {
        "label": "Private key",
        "description": "A PEM file path on the workers, or the PEM text (private_key_jwt)",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "private_key_id": {"label": "Private key id (kid)", "schema": _STRING},
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Per request to the token endpoint",
        "schema": {"type": ["number", "null"]},
    },
    "token_store": {
        "label": "Token store",
        "description": "A file shared by the worker's tasks, or none; default: one file per "
        "connection in the worker's cache directory",
        "schema": _STRING,
    },
}


def get_provider_info() -> dict[str, Any]:
    """The provider description Airflow reads from the entry point."""
    return {
        "package-name": "h2oauth-lite",
        "name": "h2oauth-lite",
        "description": "OAuth 2.0 / OpenID Connect access tokens for Airflow tasks: one "
        "refresh per expiry across task processes, tokens masked in task logs.",
        "versions": [h2oauth_lite.__version__],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": HOOK_CLASS_NAME,
                "hook-name": HOOK_NAME,
                "ui-field-behaviour": {
                    "hidden-fields": list(UI_FIELD_BEHAVIOUR["hidden_fields"]),
                    "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
                    "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
                },
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
