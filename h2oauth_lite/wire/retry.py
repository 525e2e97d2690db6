"""How token requests are retried: a small, picklable description of the policy.

The policy only describes; :mod:`h2oauth_lite._urllib3_retry` turns it into
the urllib3 ``Retry`` that the provider's own session adapter applies, so no
request is ever retried by a loop of this library's own. Importing this module
loads neither ``requests`` nor ``urllib3``.

What is retried depends on the request (see ``BaseTokenProvider.retry_policy``):
connect errors always (the request never reached the server), the statuses
below only when the request can safely be sent twice (not a refresh, nor one
carrying a single-use assertion). 400 and 401
answers are never retried: the same request would get the same answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Union

from ..durations import to_seconds

__all__ = ["DEFAULT_RETRIES", "RETRY_STATUSES", "RetryPolicy", "retry_policy"]

DEFAULT_RETRIES = 3
# Overload and gateway answers: the server (or a proxy before it) did not handle the request.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_NEVER_RETRIED = frozenset({400, 401})


@dataclass(frozen=True)
class RetryPolicy:
    """Retries after the first attempt, and how long to wait between them.

    ``retries``: how many retries after the first attempt (0: none).
    ``statuses``: answers worth another attempt (400 and 401 are refused).
    The wait before retry *n* is ``backoff_factor * 2 ** (n - 1)`` seconds,
    at most ``backoff_max``, shortened by up to ``jitter`` (a fraction) at
    random so that many processes do not retry in step; a ``Retry-After``
    header replaces it. ``max_retry_time`` caps the time spent retrying: when
    the next wait would pass it, the last error is raised instead.
    ``sleep`` is injectable for tests.
    """

    retries: int = DEFAULT_RETRIES
    statuses: frozenset[int] = RETRY_STATUSES
    backoff_factor: float = 0.5
    backoff_max: float = 10.0
    jitter: float = 0.5
    max_retry_time: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int):
            raise TypeError("retries must be an int")
        if self.retries < 0:
            raise ValueError("retries must not be negative")
        statuses = frozenset(self.statuses)
        if statuses & _NEVER_RETRIED:
            raise ValueError("400 and 401 answers are never retried")
        object.__setattr__(self, "statuses", statuses)
        for name in ("backoff_factor", "backoff_max", "max_retry_time"):
            object.__setattr__(self, name, to_seconds(getattr(self, name), name))
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter is a fraction between 0 and 1")


def retry_policy(retries: Union[int, RetryPolicy]) -> RetryPolicy:
    """The policy a provider's ``retries=`` argument stands for."""
    if isinstance(retries, RetryPolicy):
        return retries
    return RetryPolicy(retries=retries)
