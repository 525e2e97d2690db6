"""The token endpoint's answer to ``use_dpop_nonce`` (RFC 9449 section 8): one retry.

A server that requires nonces refuses the first proof that has none (or a
stale one) with ``use_dpop_nonce`` and a ``DPoP-Nonce`` header, which the
prover has already kept by the time the error arrives. The request is sent
once more with a fresh proof carrying that nonce; a second refusal is final,
so a server that never accepts its own nonces costs two requests, not a loop.
A refusal that brought no new nonce is not retried at all.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from .._log import logger
from ..client_auth.dpop import DPoPProver
from ..errors import TokenEndpointError

__all__ = ["with_nonce_retry"]

T = TypeVar("T")


def with_nonce_retry(prover: DPoPProver, url: str, attempt: Callable[[], T]) -> T:
    """``attempt()`` (which signs a new proof each time), retried once for a new nonce."""
    used = prover.nonce_for(url)
    try:
        return attempt()
    except TokenEndpointError as exc:
        fresh = prover.nonce_for(url)
        if exc.error != "use_dpop_nonce" or fresh is None or fresh == used:
            raise
    logger.debug("token endpoint asked for a DPoP nonce; retrying once with it")
    try:
        return attempt()
    except TokenEndpointError as exc:
        if exc.error != "use_dpop_nonce":
            raise
        raise TokenEndpointError(
            exc.status_code,
            exc.error,
            exc.error_description,
            exc.error_uri,
            detail="the server refused the DPoP nonce it had just sent; not retrying again",
        ) from exc
