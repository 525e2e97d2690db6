"""The ``h2oauth-lite`` command: one module per subcommand, the dispatch here.

Exit codes: 0 success, 1 an authentication or configuration error (one line
on stderr, no traceback), 2 a usage error, 3 a login is needed but nobody can
answer it (``token --host``/``--issuer`` without a usable stored token: run
``h2oauth-lite login``), 130 interrupted.

The top of the stack: may import every layer; nothing imports it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Callable, Optional

from ..errors import AuthError, NotInteractiveError
from . import login, logout, status, token
from .common import EXIT_ERROR, EXIT_LOGIN_NEEDED, UsageError

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="h2oauth-lite",
        description="OAuth 2.0 / OpenID Connect access tokens for scripts.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in (token, login, status, logout):
        module.add_command(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except UsageError as exc:
        args.parser.error(str(exc))  # the usage of the subcommand typed, exit 2
    except NotInteractiveError as exc:
        print(f"h2oauth-lite: error: {exc}", file=sys.stderr)
        return EXIT_LOGIN_NEEDED
    except AuthError as exc:
        print(f"h2oauth-lite: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("h2oauth-lite: interrupted", file=sys.stderr)
        return 130
    raise AssertionError("unreachable: parser.error exits")
