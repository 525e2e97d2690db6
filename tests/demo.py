"""``make demo``: the main job end to end on this machine, nothing to configure.

Starts the bundled OpenID provider (npm oidc-provider) on loopback, fetches a
token with the client-credentials grant through the CLI and through the
Python API, shows the second call answered from the cache, calls a protected
resource (a loopback API that verifies the token's signature against the
provider's JWKS) with ``BearerAuth``, and stops the provider.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import requests

import h2oauth_lite
from tests.support.idp import start_oidc_server
from tests.support.loopback import LoopbackServer, Request, Response


def protected_api(issuer: str, jwks_uri: str, audience: str) -> LoopbackServer:
    """A resource server that accepts only valid tokens signed by ``issuer``."""
    keys = jwt.PyJWKClient(jwks_uri)

    def answer(request: Request) -> Response:
        scheme, _, value = (request.header("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not value:
            return Response(401, {"error": "invalid_token"})
        try:
            claims = jwt.decode(
                value,
                keys.get_signing_key_from_jwt(value).key,
                algorithms=["RS256"],
                audience=audience,
                issuer=issuer,
            )
        except jwt.PyJWTError as exc:
            return Response(401, {"error": "invalid_token", "error_description": str(exc)})
        return Response(body={"hello": claims["client_id"], "scope": claims.get("scope")})

    return LoopbackServer(answer)


def main() -> int:
    print("starting the bundled OpenID provider ...")
    server = start_oidc_server()
    try:
        client = server.client("cc-basic")
        env = {
            "H2O_AUTHN_URI": server.token_endpoint,
            "H2O_AUTHN_CLIENT_ID": client["client_id"],
            "H2O_AUTHN_CLIENT_SECRET": client["client_secret"],
            "H2O_AUTHN_SCOPE": "api:read",
        }
        print(f"  issuer          {server.issuer}")
        print(f"  token endpoint  {server.token_endpoint}")

        print("\n1. the CLI: h2oauth-lite token")
        result = subprocess.run(
            [sys.executable, "-m", "h2oauth_lite", "token"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        printed = result.stdout.strip()
        header = jwt.get_unverified_header(printed)
        print(f"  printed a {header['alg']} JWT of {len(printed)} characters (not shown here)")

        print("\n2. the Python API: h2oauth_lite.from_env().get_token()")
        cache = h2oauth_lite.from_env(env)
        started = time.perf_counter()
        token = cache.get_token()
        first_ms = (time.perf_counter() - started) * 1000
        print(f"  {token!r}")
        print(
            f"  expires in {token.expires_in} s (from the JWT's exp claim), took {first_ms:.1f} ms"
        )

        started = time.perf_counter()
        again = cache.get_token()
        second_us = (time.perf_counter() - started) * 1e6
        print(
            f"  second call: same token: {again is token}, "
            f"answered from memory in {second_us:.1f} µs"
        )

        print("\n3. a protected API called with BearerAuth")
        with protected_api(server.issuer, server.jwks_uri, server.default_resource) as api:
            session = requests.Session()
            session.auth = h2oauth_lite.BearerAuth(cache)
            answer = session.get(api.url + "/hello", timeout=10)
            print(f"  GET {api.url}/hello -> {answer.status_code} {answer.json()}")
            refused = requests.get(api.url + "/hello", timeout=10)
            print(f"  the same call without a token -> {refused.status_code}")
        ok = answer.status_code == 200 and refused.status_code == 401
    finally:
        server.stop()
        print("\nprovider stopped")
    print("demo " + ("succeeded" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
