"""What Airflow makes of the h2oauth connection type, and the hook's Test button, as JSON.

Usage: python hook_probe.py <conn id>...  (each connection's test_connection() answer)
"""

from __future__ import annotations

import json
import sys
import warnings


def main() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from airflow.providers_manager import ProvidersManager

        manager = ProvidersManager()
        behaviour = manager.field_behaviours.get("h2oauth")
        widgets = sorted(key for key in manager.connection_form_widgets if "h2oauth" in key)
        provider = manager.providers.get("h2oauth-lite")
    from h2oauth_lite.integrations.airflow import H2OAuthHook

    hook_warnings = [str(w.message) for w in caught if "H2OAuthHook" in str(w.message)]
    answers = {conn_id: list(H2OAuthHook(conn_id).test_connection()) for conn_id in sys.argv[1:]}
    print(
        "RESULT "
        + json.dumps(
            {
                "field_behaviour": behaviour,
                "widgets": widgets,
                "provider_version": None if provider is None else provider.version,
                "hook_warnings": hook_warnings,
                "test_connection": answers,
            }
        )
    )


if __name__ == "__main__":
    main()
