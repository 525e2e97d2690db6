"""What ``import h2oauth_lite`` loads, checked in fresh interpreters.

The package is imported by code that may never ask for a token (an Airflow
DAG file parsed again and again), so the import loads neither ``requests``
nor ``jwt``; and no code path ever loads an asyncio stack.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import h2oauth_lite
from tests.support.answers import token_body
from tests.support.loopback import LoopbackServer

ASYNC_STACK = ("asyncio", "httpx", "anyio")


def run_fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; it prints one JSON object as its last line."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_import_loads_neither_requests_nor_jwt_nor_an_async_stack() -> None:
    loaded = run_fresh(
        f"""
        import json, sys
        import h2oauth_lite
        names = ("requests", "jwt", "urllib3") + {ASYNC_STACK!r}
        print(json.dumps({{name: name in sys.modules for name in names}}))
        """
    )
    assert loaded == {name: False for name in ("requests", "jwt", "urllib3", *ASYNC_STACK)}


def test_a_full_token_fetch_loads_no_async_stack() -> None:
    with LoopbackServer(token_body("opaque-access", 300)) as server:
        loaded = run_fresh(
            f"""
            import json, sys
            import h2oauth_lite
            provider = h2oauth_lite.ClientCredentialsTokenProvider(
                {server.url + "/token"!r}, client_id="svc", client_secret="s3cret"
            )
            cache = h2oauth_lite.AuthCache(provider)
            before_fetch = "requests" in sys.modules
            token = cache.get_token()
            print(json.dumps({{
                "requests_before_fetch": before_fetch,
                "got": token.access_token,
                "requests": "requests" in sys.modules,
                "async": [name for name in {ASYNC_STACK!r} if name in sys.modules],
            }}))
            """
        )
        assert len(server.requests) == 1
    assert loaded == {
        "requests_before_fetch": False,  # building a provider and a cache needs no requests
        "got": "opaque-access",
        "requests": True,  # the fetch itself did load it: the check above can fail
        "async": [],
    }


def test_every_public_name_resolves_and_dir_lists_it() -> None:
    result = run_fresh(
        """
        import json
        import h2oauth_lite
        public = h2oauth_lite.__all__
        missing = [name for name in public if getattr(h2oauth_lite, name, None) is None]
        unlisted = sorted(set(h2oauth_lite.__all__) - set(dir(h2oauth_lite)))
        print(json.dumps({"missing": missing, "unlisted": unlisted}))
        """
    )
    assert result == {"missing": [], "unlisted": []}


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        h2oauth_lite.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
