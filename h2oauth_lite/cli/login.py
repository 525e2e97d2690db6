"""``h2oauth-lite login``: log in interactively (device or browser) and store the token."""

from __future__ import annotations

import argparse
from typing import Any

from ..login.authentication import authenticate
from ..login.common import DEFAULT_LOGIN_TIMEOUT, to_stderr
from .common import UsageError, add_store_options, login_server, seconds, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
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
    login.add_argument("--timeout", type=seconds, default=DEFAULT_LOGIN_TIMEOUT, metavar="SECONDS")
    add_store_options(login)
    login.set_defaults(run=run, flow="device", parser=login)


def run(args: argparse.Namespace) -> int:
    config = login_server(args)
    if config is None:
        raise UsageError("login needs --host URL, or --issuer URL with --client-id ID")
    found = store(args)
    # The device flow is for devices without a browser: it opens one only when asked.
    open_browser = args.flow == "code" if args.open is None else args.open
    options: dict[str, Any] = {"output": to_stderr, "open_browser": open_browser}
    if args.flow == "code" and args.port:
        options["redirect_ports"] = args.port
    authenticate(
        config,
        store=found,
        force=True,
        interactive=True,
        flow=args.flow,
        timeout=args.timeout,
        **options,
    )
    to_stderr(f"logged in to {config.key}; token stored in {found.path}")
    return 0
