"""``h2oauth-lite token``: print an access token, from a stored login or the environment.

With ``--host`` or ``--issuer`` the token comes from the token store (refreshed
when due, never an interactive login: exit 3 when one is needed); without
them, from the ``H2O_AUTHN_*`` variables (environment mode). Environment
mode keeps its token (and a rotated refresh token) in a store, so the next
run continues from it: ``--store`` (a file or a Redis URL), else
``H2O_AUTHN_TOKEN_STORE``, else the default file store; ``--no-store`` (or
``H2O_AUTHN_TOKEN_STORE=none``) keeps nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import ConfigError
from .common import add_store_options, login_server, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    token = commands.add_parser(
        "token",
        help="print an access token (configured by the H2O_AUTHN_* environment variables)",
    )
    add_store_options(token)
    token.add_argument(
        "--no-store",
        action="store_true",
        help="environment mode: keep no token between runs (default: --store, "
        "else H2O_AUTHN_TOKEN_STORE, else the default token store file)",
    )
    token.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    server = login_server(args)
    if server is not None:
        from ..login.authentication import authenticate

        token = authenticate(server, store=store(args), interactive=False)
    else:
        from ..environment import from_env

        if args.no_store and args.store:
            raise ConfigError("give --store or --no-store, not both")
        choice: bool | str = False if args.no_store else (args.store or True)
        token = from_env(store=choice).get_token()
    print(token.access_token)
    return 0
