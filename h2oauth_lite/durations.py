"""Durations: every timeout, threshold and window accepts seconds or a timedelta."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Union

Duration = Union[int, float, timedelta]

__all__ = ["Duration", "to_seconds"]


def to_seconds(value: Duration, name: str = "duration", *, positive: bool = False) -> float:
    """``value`` in seconds: finite and not negative (above zero with ``positive``).

    Infinity is refused too: no socket timeout, deadline or clock takes it.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond any float
            seconds = math.inf
    else:
        raise TypeError(
            f"{name} must be seconds (int or float) or a timedelta, not {type(value).__name__}"
        )
    if math.isnan(seconds):
        raise ValueError(f"{name} must be a number of seconds, not NaN")
    if math.isinf(seconds):
        raise ValueError(f"{name} must be a finite number of seconds")
    if seconds < 0 or (positive and seconds == 0):
        raise ValueError(f"{name} must {'be positive' if positive else 'not be negative'}")
    return seconds
