"""Durations: every timeout, threshold and window accepts seconds or a timedelta."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Union

Duration = Union[int, float, timedelta]

__all__ = ["Duration", "to_seconds"]


def to_seconds(value: Duration, name: str = "duration") -> float:
    """Return ``value`` in seconds, refusing negative, NaN and non-numeric input."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"{name} must be seconds (int or float) or a timedelta, not {type(value).__name__}"
        )
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{name} must not be negative")
    return seconds
