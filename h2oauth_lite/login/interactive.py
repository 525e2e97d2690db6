"""Is anybody there? Whether an interactive login can be asked for."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Optional

from ..settings import batch_scheduler

__all__ = ["not_interactive_reason"]


def not_interactive_reason(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Why nobody can answer a login prompt here, or None when someone can.

    A batch scheduler's variable (Airflow, Slurm, PBS, Kubernetes, CI, ...)
    wins over a terminal: jobs often run under a pseudo-terminal.
    """
    scheduler = batch_scheduler(environ)
    if scheduler is not None:
        return f"running under a batch scheduler ({scheduler} is set)"
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except (AttributeError, ValueError):  # replaced or closed streams
            tty = False
        if not tty:
            return f"{name} is not a terminal"
    return None
