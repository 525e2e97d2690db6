"""A :class:`~h2oauth_lite.retry.RetryPolicy` as the urllib3 ``Retry`` a session adapter applies.

Works with urllib3 1.26 and 2.x: the backoff (with jitter and its cap) is
computed here rather than through ``backoff_jitter``/``backoff_max``, which
only 2.x has, and the optional constructor arguments are passed only when
the installed version knows them.
"""

from __future__ import annotations

import inspect
import random
import time
from typing import Any, Optional

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from .._log import logger
from .retry import RetryPolicy

__all__ = ["BoundedRetry", "urllib3_retry"]

_METHODS = frozenset({"POST", "GET"})
_PARAMETERS = frozenset(inspect.signature(Retry.__init__).parameters)


class BoundedRetry(Retry):
    """urllib3's Retry, bounded in total time and sleeping through the policy's ``sleep``.

    One instance sits on the adapter; urllib3 derives a new one per attempt
    with :meth:`new`, which carries the policy and the time the first
    failure happened.
    """

    def __init__(
        self,
        *args: Any,
        policy: Optional[RetryPolicy] = None,
        started: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy if policy is not None else RetryPolicy()
        self.started = started

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("policy", self.policy)
        kw.setdefault("started", self.started)
        renewed: BoundedRetry = super().new(**kw)
        return renewed

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 would also retry 413 and 503 answers carrying Retry-After even
        # when they are not listed; only the policy's statuses are retried here.
        listed = status_code in (self.status_forcelist or ())
        return listed and super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: Optional[str] = None,
        url: Optional[str] = None,
        response: Any = None,
        error: Optional[Exception] = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        started = self.started if self.started is not None else time.monotonic()
        renewed: BoundedRetry = super().increment(
            method, url, response=response, error=error, _pool=_pool, _stacktrace=_stacktrace
        )
        renewed.started = started
        wait = renewed.planned_wait(response)
        if time.monotonic() - started + wait > self.policy.max_retry_time:
            # Give the caller the error now rather than stall it: with raise_on_status
            # off urllib3 hands back the last answer, and a connect error keeps its cause.
            logger.debug(
                "not retrying: a wait of %.1f s would pass the %.0f s retry budget",
                wait,
                self.policy.max_retry_time,
            )
            raise MaxRetryError(_pool, url, error or ResponseError("retry time budget spent"))
        status = getattr(response, "status", None)
        logger.debug(
            "retrying after %s in %.2f s (%d left)",
            f"status {status}" if status else type(error).__name__,
            wait,
            renewed.total or 0,
        )
        return renewed

    def planned_wait(self, response: Any = None) -> float:
        """Seconds before the next attempt: the server's Retry-After, else the backoff."""
        if response is not None and self.respect_retry_after_header:
            try:
                retry_after = self.get_retry_after(response)
            except InvalidHeader:
                retry_after = None  # an unparsable header is no reason to fail
            if retry_after:
                return float(retry_after)
        return self.get_backoff_time()

    def get_backoff_time(self) -> float:
        attempts = len(self.history)
        if attempts == 0:
            return 0.0
        policy = self.policy
        wait = min(policy.backoff_max, policy.backoff_factor * 2.0 ** (attempts - 1))
        return wait * (1.0 - policy.jitter * random.random())

    def sleep(self, response: Any = None) -> None:
        wait = self.planned_wait(response)
        if wait > 0:
            self.policy.sleep(wait)


def urllib3_retry(policy: RetryPolicy) -> BoundedRetry:
    """The adapter-level Retry for ``policy``."""
    options: dict[str, Any] = {
        "total": policy.retries,
        "connect": policy.retries,
        # Read errors (a timeout or reset after the request was sent) are never
        # retried: the server may have acted on it, and the timeout is the
        # caller's bound on waiting. False re-raises the original error, so it
        # keeps its type (a timeout stays a timeout).
        "read": False,
        "redirect": 0,
        "status": policy.retries,
        "status_forcelist": policy.statuses,
        "raise_on_status": False,  # the last answer is mapped to TokenEndpointError
        "raise_on_redirect": False,
        "respect_retry_after_header": True,
    }
    # urllib3 does not retry POST unless told; token requests are POSTs.
    if "allowed_methods" in _PARAMETERS:
        options["allowed_methods"] = _METHODS
    else:  # urllib3 before 1.26
        options["method_whitelist"] = _METHODS
    if "other" in _PARAMETERS:
        options["other"] = 0  # TLS and other failures do not heal by retrying
    return BoundedRetry(policy=policy, **options)
