"""``h2oauth-lite status``: the stored logins and their expiry; never a token."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Optional

from .common import add_store_options, store

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    status = commands.add_parser("status", help="list stored logins and their expiry")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    add_store_options(status, server=False)
    status.set_defaults(run=run, parser=status)


def run(args: argparse.Namespace) -> int:
    found = store(args)
    now = time.time()
    rows: list[dict[str, Any]] = []
    for host in found.hosts():
        token = found.get(host)
        if token is None:
            continue
        rows.append(
            {
                "host": host,
                "expires_at": token.expires_at,
                "expired": token.is_expired(now),
                "refresh_token": token.refresh_token is not None,
                "scope": token.scope,
                "stored_at": found.stored_at(host),
            }
        )
    if args.json:
        print(json.dumps({"store": found.path, "logins": rows}, indent=2))
        return 0
    if not rows:
        print(f"no stored logins in {found.path}")
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
