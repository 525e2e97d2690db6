"""What the interactive flows share: where messages go, how a browser is opened,
and how long a person gets to finish a login."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..grants.options import TransportOptions

    class LoginOptions(TransportOptions, total=False):
        """What ``authenticate()`` passes on to the flow it runs (each flow takes its own)."""

        output: Callable[[str], None]
        open_browser: bool
        browser: Callable[[str], Any]
        sleep: Callable[[float], None]
        clock: Callable[[], float]
        redirect_ports: Sequence[int]
        redirect_path: str

__all__ = ["DEFAULT_LOGIN_TIMEOUT", "Output", "open_in_browser", "to_stderr"]

Output = Callable[[str], None]

# Long enough to find a phone, open a page and approve; a device code may end it sooner.
DEFAULT_LOGIN_TIMEOUT = 600.0


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
