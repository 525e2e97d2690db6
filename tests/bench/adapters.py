"""One small adapter per library, run in that library's interpreter.

``python -m tests.bench.adapters LIBRARY BASE_URL [--quick]`` measures one
library against the token server at BASE_URL and prints one JSON object.
Each adapter uses the library the way its documentation suggests; where a
library has no such feature the figure is ``{"na": "<why>"}``.

Credentials are the server's test values; the server accepts any.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from typing import Any, Callable, ClassVar, Optional

from tests.bench import common
from tests.bench.common import Getter, Remote

CLIENT_ID = "svc"
CLIENT_SECRET = "bench-secret"
# For 2 s tokens: a peer's default leeway (Authlib 60 s, requests-oauth2client
# 20 s, h2o-authn 5 s) is longer than the token, so every call would refetch.
SHORT_LEEWAY = 0.1


class NotApplicable(Exception):
    """The library has no such feature; the message says why."""


class Adapter:
    name = ""
    dist = ""
    import_statement = ""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def cc(self, short: bool = False) -> Getter:
        """A getter on the client-credentials grant that caches and renews by itself."""
        raise NotApplicable("no client-credentials grant")

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        """A getter on the refresh grant that renews (and rotates) by itself."""
        raise NotApplicable("no refresh-token grant")

    def force_refresh(self, refresh_token: str) -> Getter:
        """Each call: one refresh-grant request, keeping the rotated refresh token."""
        raise NotApplicable("no refresh-token grant")

    def bearer(self) -> Callable[[], Any]:
        """One resource request through the library's requests auth."""
        raise NotApplicable("no requests auth")

    def cached(self) -> Getter:
        """The getter whose fresh-token path is timed."""
        return self.cc()

    def describe(self) -> str:
        return ""


# -- this library -------------------------------------------------------------------


class Lite(Adapter):
    name = "h2oauth-lite"
    dist = "h2oauth-lite"
    import_statement = "import h2oauth_lite"
    # What meets the refresh-ahead figure on 2 s tokens and 200 ms latency:
    # the window (0.3 s) outlasts the latency, the threshold is well inside it.
    SHORT: ClassVar[dict[str, float]] = {"expiry_threshold": 0.05, "refresh_ahead": 0.3}

    def __init__(self, remote: Remote, defaults_only: bool = False) -> None:
        super().__init__(remote)
        self.defaults_only = defaults_only

    def _cache(self, provider: Any, short: bool) -> Any:
        import h2oauth_lite

        options = self.SHORT if short and not self.defaults_only else {}
        return h2oauth_lite.AuthCache(provider, **options)

    def cc(self, short: bool = False) -> Getter:
        import h2oauth_lite

        provider = h2oauth_lite.ClientCredentialsTokenProvider(
            self.remote.token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
        )
        cache = self._cache(provider, short)
        self._last_cache = cache
        return cache.get_token  # type: ignore[no-any-return]

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        import h2oauth_lite

        provider = h2oauth_lite.RefreshTokenProvider(
            self.remote.token_url, CLIENT_ID, refresh_token, CLIENT_SECRET
        )
        return self._cache(provider, short).get_token  # type: ignore[no-any-return]

    def force_refresh(self, refresh_token: str) -> Getter:
        import h2oauth_lite

        # A bare provider asks the endpoint on every call.
        provider = h2oauth_lite.RefreshTokenProvider(
            self.remote.token_url, CLIENT_ID, refresh_token, CLIENT_SECRET
        )
        return provider.get_token

    def bearer(self) -> Callable[[], Any]:
        import requests

        import h2oauth_lite

        self.cc()
        session = requests.Session()
        session.auth = h2oauth_lite.BearerAuth(self._last_cache)
        url = self.remote.resource_url
        return lambda: session.get(url)

    def describe(self) -> str:
        if self.defaults_only:
            return "AuthCache defaults"
        return "AuthCache(expiry_threshold=0.05, refresh_ahead=0.3) for 2 s tokens"


class LiteTokenProvider(Adapter):
    """The h2o-authn drop-in, ``h2oauth_lite.TokenProvider``, called as h2o-authn is."""

    name = "h2oauth-lite TokenProvider"
    dist = "h2oauth-lite"
    import_statement = "import h2oauth_lite"

    def _make(self, refresh_token: str) -> Any:
        import h2oauth_lite

        try:
            cls = h2oauth_lite.TokenProvider
        except AttributeError:
            raise NotApplicable("h2oauth_lite.TokenProvider does not exist yet") from None
        return cls(
            refresh_token=refresh_token,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            token_endpoint_url=self.remote.token_url,
        )

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        if short:
            raise NotApplicable("measured through AuthCache above")
        return self._make(refresh_token).token  # type: ignore[no-any-return]

    def force_refresh(self, refresh_token: str) -> Getter:
        provider = self._make(refresh_token)
        invalidate = getattr(provider, "invalidate", None)
        if not callable(invalidate):
            raise NotApplicable("no way to force a refresh")

        def once() -> Any:
            invalidate()
            return provider.token()

        return once

    def cached(self) -> Getter:
        raise NotApplicable("same cache as h2oauth-lite")


# -- peers ----------------------------------------------------------------------------


class H2OAuthn(Adapter):
    name = "h2o-authn"
    dist = "h2o-authn"
    import_statement = "import h2o_authn"

    def _make(self, refresh_token: str, short: bool) -> Any:
        import h2o_authn

        options: dict[str, Any] = {}
        if short:
            options["expiry_threshold"] = datetime.timedelta(seconds=SHORT_LEEWAY)
        return h2o_authn.TokenProvider(
            refresh_token=refresh_token,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            token_endpoint_url=self.remote.token_url,
            **options,
        )

    def cc(self, short: bool = False) -> Getter:
        if short:
            # No client-credentials grant: the refresh grant carries the figure.
            rt = self.remote.control(new_refresh_token=True)["refresh_token"]
            return self.refresh(rt, short=True)
        raise NotApplicable("refresh-token grant only")

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        return self._make(refresh_token, short).token  # type: ignore[no-any-return]

    def force_refresh(self, refresh_token: str) -> Getter:
        provider = self._make(refresh_token, False)

        def once() -> Any:
            provider._do_refresh()  # no public way to force one
            return provider.token()

        return once

    def cached(self) -> Getter:
        rt = self.remote.control(new_refresh_token=True)["refresh_token"]
        return self.refresh(rt)

    def bearer(self) -> Callable[[], Any]:
        raise NotApplicable("no requests auth (httpx-based)")

    def describe(self) -> str:
        return "refresh grant for every row (no client credentials)"


class Authlib(Adapter):
    name = "Authlib"
    dist = "Authlib"
    import_statement = "import authlib.integrations.requests_client"

    def _session(self, short: bool, **options: Any) -> Any:
        from authlib.integrations.requests_client import OAuth2Session

        if short:
            options["leeway"] = SHORT_LEEWAY
        return OAuth2Session(
            CLIENT_ID, CLIENT_SECRET, token_endpoint=self.remote.token_url, **options
        )

    def cc(self, short: bool = False) -> Getter:
        session = self._session(short, grant_type="client_credentials")
        session.fetch_token(self.remote.token_url, grant_type="client_credentials")
        self._last = session

        def get() -> str:
            session.ensure_active_token()
            return session.token["access_token"]  # type: ignore[no-any-return]

        return get

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        expired = {"access_token": "x", "token_type": "Bearer", "expires_at": 1}
        session = self._session(short, token={**expired, "refresh_token": refresh_token})

        def get() -> str:
            session.ensure_active_token()
            return session.token["access_token"]  # type: ignore[no-any-return]

        return get

    def force_refresh(self, refresh_token: str) -> Getter:
        session = self._session(False)
        session.token = {"access_token": "x", "token_type": "Bearer", "expires_in": 3600}
        current = [refresh_token]

        def once() -> Any:
            token = session.refresh_token(self.remote.token_url, refresh_token=current[0])
            current[0] = token["refresh_token"]
            return token

        return once

    def bearer(self) -> Callable[[], Any]:
        self.cc()
        session = self._last
        url = self.remote.resource_url
        return lambda: session.get(url)

    def describe(self) -> str:
        return "OAuth2Session (requests); leeway 0.1 s for 2 s tokens"


class RequestsOAuth2Client(Adapter):
    name = "requests-oauth2client"
    dist = "requests-oauth2client"
    import_statement = "import requests_oauth2client"

    def _client(self) -> Any:
        from requests_oauth2client import OAuth2Client

        return OAuth2Client(
            token_endpoint=self.remote.token_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            testing=True,  # allows http on loopback
        )

    def _via_auth(self, auth: Any) -> Getter:
        # The library has no token getter: its auth is what runs per request.
        import requests

        prepared = requests.Request("GET", self.remote.resource_url).prepare()
        return lambda: auth(prepared)

    def cc(self, short: bool = False) -> Getter:
        from requests_oauth2client import OAuth2ClientCredentialsAuth

        options = {"leeway": SHORT_LEEWAY} if short else {}
        self._last = OAuth2ClientCredentialsAuth(self._client(), **options)
        return self._via_auth(self._last)

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        from requests_oauth2client import BearerToken, OAuth2AccessTokenAuth

        expired = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        token = BearerToken("x", expires_at=expired, refresh_token=refresh_token)
        options = {"leeway": SHORT_LEEWAY} if short else {}
        return self._via_auth(OAuth2AccessTokenAuth(self._client(), token=token, **options))

    def force_refresh(self, refresh_token: str) -> Getter:
        client = self._client()
        current = [refresh_token]

        def once() -> Any:
            token = client.refresh_token(current[0])
            current[0] = token.refresh_token
            return token

        return once

    def bearer(self) -> Callable[[], Any]:
        import requests

        self.cc()
        session = requests.Session()
        session.auth = self._last
        url = self.remote.resource_url
        return lambda: session.get(url)

    def describe(self) -> str:
        return "getter = its requests auth applied to a prepared request"


class RequestsOAuthlib(Adapter):
    name = "requests-oauthlib"
    dist = "requests-oauthlib"
    import_statement = "import requests_oauthlib"

    def cc(self, short: bool = False) -> Getter:
        raise NotApplicable(
            "client credentials are never renewed by themselves: the caller calls fetch_token"
        )

    def cached(self) -> Getter:
        from oauthlib.oauth2 import BackendApplicationClient
        from requests_oauthlib import OAuth2Session

        session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
        session.fetch_token(self.remote.token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        url = self.remote.resource_url
        # What a request does with a fresh token: oauthlib's check and header.
        return lambda: session._client.add_token(url, http_method="GET")

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        from requests_oauthlib import OAuth2Session

        session = OAuth2Session(
            CLIENT_ID,
            token={
                "access_token": "x",
                "token_type": "Bearer",
                "expires_in": -10,
                "refresh_token": refresh_token,
            },
            auto_refresh_url=self.remote.token_url,
            auto_refresh_kwargs={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            token_updater=lambda token: None,
        )
        url = self.remote.resource_url
        # Renewal happens only inside a request: the getter is a resource request.
        return lambda: session.get(url).raise_for_status()

    def force_refresh(self, refresh_token: str) -> Getter:
        from requests_oauthlib import OAuth2Session

        session = OAuth2Session(CLIENT_ID, token={"access_token": "x", "token_type": "Bearer"})
        current = [refresh_token]

        def once() -> Any:
            token = session.refresh_token(
                self.remote.token_url,
                refresh_token=current[0],
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
            )
            current[0] = token["refresh_token"]
            return token

        return once

    def bearer(self) -> Callable[[], Any]:
        from oauthlib.oauth2 import BackendApplicationClient
        from requests_oauthlib import OAuth2Session

        session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
        session.fetch_token(self.remote.token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        url = self.remote.resource_url
        return lambda: session.get(url)

    def describe(self) -> str:
        return "refresh rows go through resource requests (renewal lives in request())"


class Msal(Adapter):
    name = "msal"
    dist = "msal"
    import_statement = "import msal"

    def _app(self) -> Any:
        import msal
        import requests

        plain = self.remote.base_url
        secure = plain.replace("http://", "https://", 1)
        authority = secure + "/tenant"  # MSAL wants a path segment

        class LoopbackSession(requests.Session):
            # MSAL accepts https authorities only; the loopback server speaks http.
            def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                if url.startswith(secure):
                    url = plain + url[len(secure) :]
                return super().request(method, url, *args, **kwargs)

        return msal.ConfidentialClientApplication(
            CLIENT_ID,
            client_credential=CLIENT_SECRET,
            oidc_authority=authority,
            http_client=LoopbackSession(),
        )

    def cc(self, short: bool = False) -> Getter:
        app = self._app()

        def get() -> str:
            result = app.acquire_token_for_client(scopes=["api"])
            if "access_token" not in result:
                raise RuntimeError(result.get("error", "no token"))
            return result["access_token"]  # type: ignore[no-any-return]

        return get

    def refresh(self, refresh_token: str, short: bool = False) -> Getter:
        raise NotApplicable(
            "refresh tokens live in its account cache, filled by an interactive sign-in"
        )

    def force_refresh(self, refresh_token: str) -> Getter:
        app = self._app()
        current = [refresh_token]

        def once() -> Any:
            result = app.acquire_token_by_refresh_token(current[0], scopes=["api"])
            if "access_token" not in result:
                raise RuntimeError(result.get("error", "no token"))
            current[0] = result.get("refresh_token", current[0])
            return result

        return once

    def describe(self) -> str:
        return (
            "https authority mapped to the loopback http server by its http_client; "
            "a token with under 5 minutes left counts as expired, so on 2 s tokens "
            "every call fetches"
        )


ADAPTERS: dict[str, Callable[[Remote], Adapter]] = {
    "h2oauth-lite": Lite,
    "h2oauth-lite-defaults": lambda remote: Lite(remote, defaults_only=True),
    "h2oauth-lite-tokenprovider": LiteTokenProvider,
    "h2o-authn": H2OAuthn,
    "authlib": Authlib,
    "requests-oauth2client": RequestsOAuth2Client,
    "requests-oauthlib": RequestsOAuthlib,
    "msal": Msal,
}

FIGURES = ("cached", "stampede_cc", "stampede_rt", "ahead", "sequential", "bearer")


def _figure(adapter: Adapter, figure: str, runs: int) -> dict[str, Any]:
    remote = adapter.remote
    if figure == "cached":
        return common.measure_cached(adapter.cached())
    if figure == "stampede_cc":
        return common.measure_stampede(remote, adapter.cc, refresh=False, runs=runs)
    if figure == "stampede_rt":

        def make() -> Getter:
            return adapter.refresh(remote.control()["refresh_token"])

        return common.measure_stampede(remote, make, refresh=True, runs=runs)
    if figure == "ahead":
        return common.measure_refresh_ahead(remote, lambda: adapter.cc(short=True), runs=runs)
    if figure == "sequential":
        return common.measure_sequential(
            remote, lambda: adapter.force_refresh(remote.control()["refresh_token"])
        )
    if figure == "bearer":
        send = adapter.bearer()
        import requests

        plain_session = requests.Session()
        plain_session.headers["Authorization"] = "Bearer fixed-token"
        url = remote.resource_url
        return common.measure_bearer(lambda: plain_session.get(url), send)
    raise ValueError(figure)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("library", choices=sorted(ADAPTERS))
    parser.add_argument("base_url")
    parser.add_argument("--figures", default=",".join(FIGURES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ahead-runs", type=int, default=1, help="10 s each")
    args = parser.parse_args(argv)
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    adapter = ADAPTERS[args.library](Remote(args.base_url))
    results: dict[str, Any] = {
        "name": adapter.name,
        "version": _version(adapter.dist),
        "notes": adapter.describe(),
    }
    for figure in args.figures.split(","):
        try:
            runs = args.ahead_runs if figure == "ahead" else args.runs
            results[figure] = _figure(adapter, figure, runs)
        except NotApplicable as exc:
            results[figure] = {"na": str(exc)}
        except Exception as exc:  # a peer that breaks is reported, not fatal
            results[figure] = {"na": f"failed: {type(exc).__name__}: {exc}"[:200]}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
