"""What the subcommands share: the store and login-server options, and their parsing."""

from __future__ import annotations

import argparse
from typing import Optional

from ..durations import to_seconds
from ..errors import ConfigError
from ..login.server import DEFAULT_SCOPE, LoginServer
from ..store.file import TokenStore
from ..store.redis_url import is_redis_url

__all__ = [
    "EXIT_ERROR",
    "EXIT_LOGIN_NEEDED",
    "add_store_options",
    "login_server",
    "seconds",
    "store",
]

EXIT_ERROR = 1
EXIT_LOGIN_NEEDED = 3


def add_store_options(parser: argparse.ArgumentParser, *, server: bool = True) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="token store file (default: user cache); for `token` in environment mode "
        "also a redis:// or rediss:// URL",
    )
    if not server:
        return
    parser.add_argument("--host", metavar="URL", help="a py-oidc-auth server")
    parser.add_argument("--issuer", metavar="URL", help="an OpenID provider (with --client-id)")
    parser.add_argument("--client-id", metavar="ID", help="the OAuth client id at --issuer")
    parser.add_argument("--scope", metavar="SCOPES", help=f"default: {DEFAULT_SCOPE}")


def seconds(text: str) -> float:
    """A positive, finite number of seconds; anything else is a usage error (exit 2)."""
    try:
        return to_seconds(float(text), "--timeout", positive=True)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {text!r}"
        ) from None


def store(args: argparse.Namespace) -> TokenStore:
    if args.store and is_redis_url(args.store):
        # Logins live in the file store; a Redis URL here would become a file name.
        raise ConfigError(
            "a Redis --store works in environment mode only (h2oauth-lite token without "
            "--host or --issuer); logins use a token store file"
        )
    return TokenStore(args.store) if args.store else TokenStore()


def login_server(args: argparse.Namespace) -> Optional[LoginServer]:
    """The server ``--host`` or ``--issuer``/``--client-id`` name; None without them."""
    if args.host and args.issuer:
        raise ConfigError("give --host or --issuer, not both")
    if args.host:
        return LoginServer(host=args.host)
    if args.issuer:
        if not args.client_id:
            raise ConfigError("--issuer needs --client-id")
        return LoginServer(
            issuer=args.issuer, client_id=args.client_id, scope=args.scope or DEFAULT_SCOPE
        )
    return None
