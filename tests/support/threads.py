"""Many threads on one call at the same instant, for single-flight tests."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

__all__ = ["run_together"]

T = TypeVar("T")


def run_together(count: int, target: Callable[[], T]) -> tuple[list[T], list[BaseException]]:
    """Release ``count`` threads at once on ``target``; their results and errors."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            value = target()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a caller hung"
    return results, errors
