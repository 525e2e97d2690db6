"""Redaction: how a secret shows in a ``repr``, a message or a log line. Pure.

Every class that holds a token, a secret or a key prints it through
:func:`mask`, so there is one look for "a secret was here" across the library.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["mask"]


def mask(secret: Optional[str]) -> str:
    """Show that a secret is there, and how long it is, without any of its characters."""
    if secret is None:
        return "None"
    return f"'<redacted, {len(secret)} chars>'"
