"""The ``login``, ``status`` and ``logout`` commands, and ``token`` from the token store.

They work on a :class:`~h2oauth_lite.TokenStore` (``--store PATH``, default
the user cache directory). ``status`` prints hosts and expiry times, never a
token.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Optional

from .authentication import authenticate
from .durations import to_seconds
from .errors import ConfigError
from .flows._common import to_stderr
from .flows.server import DEFAULT_SCOPE, Config
from .hosts import normalise_host
from .token_store import TokenStore

__all__ = ["EXIT_LOGIN_NEEDED", "add_commands", "add_store_options", "token_from_store"]

EXIT_LOGIN_NEEDED = 3


def add_store_options(parser: argparse.ArgumentParser, *, server: bool = True) -> None:
    parser.add_argument("--store", metavar="PATH", help="token store file (default: user cache)")
    if not server:
        return
    parser.add_argument("--host", metavar="URL", help="a py-oidc-auth server")
    parser.add_argument("--issuer", metavar="URL", help="an OpenID provider (with --client-id)")
    parser.add_argument("--client-id", metavar="ID", help="the OAuth client id at --issuer")
    parser.add_argument("--scope", metavar="SCOPES", help=f"default: {DEFAULT_SCOPE}")


def add_commands(commands: Any) -> None:
    """Add login, status and logout to the CLI's subparsers."""
    login = commands.add_parser("login", help="log in interactively and store the token")
    how = login.add_mutually_exclusive_group()
    how.add_argument(
        "--device",
        dest="flow",
        action="store_const",
        const="device",
        help="device flow: open a URL on any device (default)",
    )
    how.add_argument(
        "--browser",
        dest="flow",
        action="store_const",
        const="code",
        help="authorization code flow in a local browser",
    )
    opening = login.add_mutually_exclusive_group()
    opening.add_argument(
        "--open",
        dest="open",
        action="store_true",
        default=None,
        help="start a browser (default with --browser only)",
    )
    opening.add_argument(
        "--no-open",
        dest="open",
        action="store_false",
        help="print the login URL only, do not start a browser",
    )
    login.add_argument(
        "--port",
        type=int,
        action="append",
        metavar="N",
        help="loopback port for --browser (repeatable; default any free port)",
    )
    login.add_argument("--timeout", type=_seconds, default=600.0, metavar="SECONDS")
    add_store_options(login)
    login.set_defaults(run=_login, flow="device")

    status = commands.add_parser("status", help="list stored logins and their expiry")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    add_store_options(status, server=False)
    status.set_defaults(run=_status)

    logout = commands.add_parser("logout", help="forget a stored login (all without --host)")
    add_store_options(logout)
    logout.set_defaults(run=_logout)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds; anything else is a usage error (exit 2)."""
    try:
        return to_seconds(float(text), "--timeout", positive=True)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {text!r}"
        ) from None


def _store(args: argparse.Namespace) -> TokenStore:
    return TokenStore(args.store) if args.store else TokenStore()


def _config(args: argparse.Namespace) -> Optional[Config]:
    if args.host and args.issuer:
        raise ConfigError("give --host or --issuer, not both")
    if args.host:
        return Config(host=args.host)
    if args.issuer:
        if not args.client_id:
            raise ConfigError("--issuer needs --client-id")
        return Config(
            issuer=args.issuer, client_id=args.client_id, scope=args.scope or DEFAULT_SCOPE
        )
    return None


def token_from_store(args: argparse.Namespace) -> Optional[int]:
    """``token --host/--issuer``: print the stored (or refreshed) token; None without them."""
    config = _config(args)
    if config is None:
        return None
    token = authenticate(config, store=_store(args), interactive=False)
    print(token.access_token)
    return 0


def _login(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        raise ConfigError("login needs --host URL, or --issuer URL with --client-id ID")
    store = _store(args)
    # The device flow is for devices without a browser: it opens one only when asked.
    open_browser = args.flow == "code" if args.open is None else args.open
    options: dict[str, Any] = {"output": to_stderr, "open_browser": open_browser}
    if args.flow == "code" and args.port:
        options["redirect_ports"] = args.port
    authenticate(
        config,
        store=store,
        force=True,
        interactive=True,
        flow=args.flow,
        timeout=args.timeout,
        **options,
    )
    to_stderr(f"logged in to {config.key}; token stored in {store.path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    store = _store(args)
    now = time.time()
    rows: list[dict[str, Any]] = []
    for host in store.hosts():
        token = store.get(host)
        if token is None:
            continue
        rows.append(
            {
                "host": host,
                "expires_at": token.expires_at,
                "expired": token.is_expired(now),
                "refresh_token": token.refresh_token is not None,
                "scope": token.scope,
                "stored_at": store.stored_at(host),
            }
        )
    if args.json:
        print(json.dumps({"store": store.path, "logins": rows}, indent=2))
        return 0
    if not rows:
        print(f"no stored logins in {store.path}")
        return 0
    for row in rows:
        print(
            f"{row['host']}  {_expiry(row['expires_at'], now)}  "
            f"refresh token: {'yes' if row['refresh_token'] else 'no'}"
        )
    return 0


def _expiry(expires_at: Optional[float], now: float) -> str:
    if expires_at is None:
        return "no expiry"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at))
    left = int(expires_at - now)
    return f"expired {stamp}" if left <= 0 else f"expires {stamp} (in {left} s)"


def _logout(args: argparse.Namespace) -> int:
    store = _store(args)
    config = _config(args)
    if config is None:
        store.clear()
        print(f"logged out of every host in {store.path}", file=sys.stderr)
        return 0
    key = normalise_host(config.key)
    if store.remove(key):
        print(f"logged out of {key}", file=sys.stderr)
    else:
        print(f"not logged in to {key}", file=sys.stderr)
    return 0
