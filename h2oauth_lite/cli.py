"""The ``h2oauth-lite`` command.

Exit codes: 0 success, 1 an authentication or configuration error (one line
on stderr, no traceback), 2 a usage error, 3 a login is needed but nobody can
answer it (``token --host``/``--issuer`` without a usable stored token: run
``h2oauth-lite login``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Callable, Optional

from .errors import AuthError, NotInteractiveError

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def _token(args: argparse.Namespace) -> int:
    from .cli_login import token_from_store
    from .from_environment import from_env

    code = token_from_store(args)
    if code is not None:
        return code

    print(from_env().get_token().access_token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="h2oauth-lite",
        description="OAuth 2.0 / OpenID Connect access tokens for scripts.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    token = commands.add_parser(
        "token",
        help="print an access token (configured by the H2O_AUTHN_* environment variables)",
    )
    token.set_defaults(run=_token)
    from .cli_login import add_commands, add_store_options

    add_store_options(token)
    add_commands(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except NotInteractiveError as exc:
        print(f"h2oauth-lite: error: {exc}", file=sys.stderr)
        return 3
    except AuthError as exc:
        print(f"h2oauth-lite: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("h2oauth-lite: interrupted", file=sys.stderr)
        return 130
