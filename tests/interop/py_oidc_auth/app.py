"""A py-oidc-auth server in front of the test OpenID provider, for interop tests.

Runs under its own virtualenv (py-oidc-auth needs Python 3.10+, FastAPI,
uvicorn and greenlet; none of that belongs in the library's environment).
Configured by environment: OIDC_AUTH_PORT, OIDC_AUTH_DISCOVERY_URL,
OIDC_AUTH_CLIENT_ID. It exits when its stdin closes.
"""

import os
import sys
import threading

import uvicorn
from fastapi import FastAPI
from py_oidc_auth.fastapi_auth import FastApiOIDCAuth

port = int(os.environ["OIDC_AUTH_PORT"])
auth = FastApiOIDCAuth(
    client_id=os.environ["OIDC_AUTH_CLIENT_ID"],
    discovery_url=os.environ["OIDC_AUTH_DISCOVERY_URL"],
    scopes="api:read",
    offline_access=True,
    proxy=f"http://127.0.0.1:{port}",
)
app = FastAPI()
app.include_router(auth.create_auth_router())


def _watch_stdin(server: uvicorn.Server) -> None:
    # The test process holds our stdin: when it goes away, so do we.
    sys.stdin.read()
    server.should_exit = True


if __name__ == "__main__":
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=_watch_stdin, args=(server,), daemon=True).start()
    server.run()
