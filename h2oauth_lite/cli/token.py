"""``h2oauth-lite token``: print an access token, from a stored login or the environment.

With ``--host`` or ``--issuer`` the token comes from the token store (refreshed
when due, never an interactive login: exit 3 when one is needed); without
them, from the ``H2O_AUTHN_*`` variables (environment mode), where
``--scope`` and ``--client-id`` stand in for ``H2O_AUTHN_SCOPE`` and
``H2O_AUTHN_CLIENT_ID``. Environment mode keeps its token (and a rotated
refresh token) in a store, so the next run continues from it: ``--store``
(a file or a Redis URL), else ``H2O_AUTHN_TOKEN_STORE``, else the default
file store; ``--no-store`` (or ``H2O_AUTHN_TOKEN_STORE=none``) keeps nothing.
``--header`` prints the whole ``Authorization`` value instead. A token that
is not a Bearer token is noted on stderr; a DPoP-bound one cannot be used as
a bare header (every request needs its own proof), so ``--header`` refuses it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Union

from .. import settings
from .common import EXIT_USAGE, UsageError, add_store_options, login_server, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    listed = "\n".join(f"  {name:<32} {what}" for name, what in settings.VARIABLES.items())
    token = commands.add_parser(
        "token",
        help="print an access token (configured by the H2O_AUTHN_* environment variables)",
        description="Print an access token on stdout: from a stored login with --host or "
        "--issuer, else from the environment variables below.",
        epilog=f"environment variables (without --host/--issuer):\n{listed}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    token.add_argument(
        "--header",
        action="store_true",
        help="print the Authorization header value ('Bearer <token>') instead of the token",
    )
    add_store_options(token)
    token.add_argument(
        "--no-store",
        action="store_true",
        help="environment mode: keep no token between runs (default: --store, "
        "else H2O_AUTHN_TOKEN_STORE, else the default token store file)",
    )
    token.set_defaults(run=run, parser=token)


def run(args: argparse.Namespace) -> int:
    server = login_server(args)
    if server is not None:
        from ..login.authentication import authenticate

        token = authenticate(server, store=store(args), interactive=False)
    else:
        from ..environment import from_env

        if args.no_store and args.store:
            raise UsageError("give --store or --no-store, not both")
        environ = settings.environ_with(
            {
                settings.SCOPE: args.scope,
                settings.CLIENT_ID: args.client_id,
                settings.ALLOW_INSECURE_HTTP: "1" if args.allow_insecure_http else None,
            }
        )
        choice: Union[bool, str] = False if args.no_store else (args.store or True)
        token = from_env(environ, store=choice).get_token()
    if token.token_type == "DPoP" and args.header:
        print(
            "h2oauth-lite: error: the token is DPoP-bound: every request needs a new DPoP "
            "proof signed with the client's key, so a bare Authorization header will not "
            "do; send requests through h2oauth_lite.BearerAuth instead",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if token.token_type != "Bearer":
        print(
            f"h2oauth-lite: note: the token type is {token.token_type}, not Bearer", file=sys.stderr
        )
    print(f"{token.token_type} {token.access_token}" if args.header else token.access_token)
    return 0
