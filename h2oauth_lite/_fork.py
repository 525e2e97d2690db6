"""Fresh locks and sessions in a forked child (Airflow, gunicorn, multiprocessing).

``os.fork()`` copies every lock in the state it was in, held ones included,
but not the threads that would release them; it also copies pooled sockets
that the parent keeps using. Objects that hold either register here, and
after a fork the child calls their ``_after_fork()``. The registry holds
weak references, so registering never keeps an object alive.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "after_fork_in_child"]


class ForkAware(Protocol):
    def _after_fork(self) -> None: ...


_registry: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def after_fork_in_child(obj: ForkAware) -> None:
    """Have ``obj._after_fork()`` run in every child forked from now on."""
    _registry.add(obj)


def _reinit_children() -> None:
    for obj in list(_registry):
        # One broken object must not break the child.
        with contextlib.suppress(Exception):
            obj._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_reinit_children)
