"""``h2oauth-lite logout``: forget a stored login (every login without ``--host``/``--issuer``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..store.file import TokenStore
from ..store.hosts import normalise_host
from .common import add_store_options, login_server, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    logout = commands.add_parser(
        "logout",
        help="forget a stored login (--host, --issuer with --client-id, or every login of "
        "--client-id; all without them)",
    )
    add_store_options(logout)
    logout.set_defaults(run=run, parser=logout)


def run(args: argparse.Namespace) -> int:
    found = store(args)
    if args.client_id and not (args.host or args.issuer):
        return _logout_client(found, args.client_id)
    config = login_server(args)
    if config is None:
        found.clear()
        print(f"logged out of every host in {found.path}", file=sys.stderr)
        return 0
    key = normalise_host(config.key)
    if found.remove(key):
        print(f"logged out of {key}", file=sys.stderr)
    else:
        print(f"not logged in to {key}", file=sys.stderr)
    return 0


def _logout_client(found: TokenStore, client_id: str) -> int:
    """Forget the logins of one client, on every host; other clients' entries stay."""
    removed = [host for host in found.hosts() if found.entry(host)[1] == client_id]
    for host in removed:
        found.remove(host)
    if removed:
        print(f"logged out of {', '.join(removed)} (client {client_id})", file=sys.stderr)
    else:
        print(f"no stored login of client {client_id} in {found.path}", file=sys.stderr)
    return 0
