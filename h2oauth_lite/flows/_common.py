"""What the interactive flows share: where messages go, how a browser is opened."""

from __future__ import annotations

import sys
from typing import Callable

__all__ = ["Output", "open_in_browser", "to_stderr"]

Output = Callable[[str], None]


def to_stderr(message: str) -> None:
    """The default output: stderr, so that a token printed on stdout stays alone there."""
    print(message, file=sys.stderr, flush=True)


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the user's browser; False when there is none to open."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
