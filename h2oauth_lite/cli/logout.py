"""``h2oauth-lite logout``: forget a stored login (every login without ``--host``/``--issuer``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..store.hosts import normalise_host
from .common import add_store_options, login_server, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    logout = commands.add_parser("logout", help="forget a stored login (all without --host)")
    add_store_options(logout)
    logout.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    found = store(args)
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
