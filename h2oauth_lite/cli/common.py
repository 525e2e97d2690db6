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
    "EXIT_USAGE",
    "UsageError",
    "add_store_options",
    "login_server",
    "seconds",
    "store",
]

EXIT_ERROR = 1
EXIT_USAGE = 2  # argparse's own status for a usage error
EXIT_LOGIN_NEEDED = 3


class UsageError(Exception):
    """Flags that do not go together: exit 2 with the usage of the subcommand typed."""


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
    parser.add_argument(
        "--client-id",
        metavar="ID",
        help="the OAuth client id at --issuer (or instead of H2O_AUTHN_CLIENT_ID)",
    )
    parser.add_argument(
        "--scope",
        metavar="SCOPES",
        help=f"default with --host/--issuer: {DEFAULT_SCOPE} (else instead of H2O_AUTHN_SCOPE)",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http to a host other than loopback (a trusted network only)",
    )


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
        raise UsageError("give --host or --issuer, not both")
    if args.host:
        if args.client_id:
            raise UsageError(
                "--host takes no --client-id: the py-oidc-auth server holds its client"
            )
        return LoginServer(host=args.host, allow_insecure_http=args.allow_insecure_http)
    if args.issuer:
        if not args.client_id:
            raise UsageError("--issuer needs --client-id")
        return LoginServer(
            issuer=args.issuer,
            client_id=args.client_id,
            scope=args.scope or DEFAULT_SCOPE,
            allow_insecure_http=args.allow_insecure_http,
        )
    return None
