"""One fake clock for every test that would otherwise wait for time to pass.

``now`` is the wall clock (epoch seconds); the monotonic clock moves with it,
``offset`` seconds behind, so ``advance()`` moves both and ``jump_wall()``
moves the wall clock alone (an NTP step, a suspended laptop). Hand
``clock.time`` (or the clock itself) where an epoch clock is asked for,
``clock.monotonic`` where a monotonic one is, and ``clock.sleep`` where a
sleep is injectable: it advances the clock and records what was asked.
"""

from __future__ import annotations

from typing import Callable, Optional

__all__ = ["Clock"]


class Clock:
    """Wall and monotonic time that move only when a test says so."""

    def __init__(
        self,
        start: float = 1_000_000.0,
        *,
        monotonic_start: Optional[float] = None,
        on_first_sleep: Optional[Callable[[], object]] = None,
    ) -> None:
        self.now = float(start)
        self.offset = 0.0 if monotonic_start is None else self.now - monotonic_start
        self.sleeps: list[float] = []
        self._on_first_sleep = on_first_sleep

    def time(self) -> float:
        """The wall clock, as ``time.time()``."""
        return self.now

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        """The monotonic clock, as ``time.monotonic()``."""
        return self.now - self.offset

    def advance(self, seconds: float) -> None:
        """Both clocks move ``seconds`` ahead."""
        self.now += seconds

    def jump_wall(self, seconds: float) -> None:
        """The wall clock alone moves ``seconds`` (negative: back); the monotonic one stays."""
        self.now += seconds
        self.offset += seconds

    def sleep(self, seconds: float) -> None:
        """Record ``seconds``, advance by them, and run ``on_first_sleep`` (once) if given."""
        self.sleeps.append(seconds)
        self.advance(seconds)
        hook, self._on_first_sleep = self._on_first_sleep, None
        if hook is not None:
            hook()
