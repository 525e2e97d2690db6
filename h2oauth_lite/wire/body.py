"""Reading an answer's body: bounded in size and in time.

The socket timeout bounds each read only, so a server that trickles a byte at
a time could hold a caller as long as it likes; the body is read in pieces
with the clock looked at between them, and refused once it passes 1 MiB.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import TokenEndpointError, TransportError
from .urls import safe_url

if TYPE_CHECKING:
    import requests

__all__ = ["MAX_BODY_BYTES", "read_body"]

# A token response is a few kilobytes; a megabyte is a misbehaving server or a proxy.
MAX_BODY_BYTES = 1024 * 1024


def _pieces(response: requests.Response, timeout: float) -> Iterator[bytes]:
    """The body in pieces as they arrive, cut once ``timeout`` has passed.

    The socket timeout bounds each read only: a server that trickles a byte
    at a time would hold the caller for as long as it likes. Reading whatever
    has arrived (``read1``: at most one socket read) lets the clock be looked
    at between pieces.
    """
    import urllib3.exceptions as u3
    from requests import exceptions as rq

    raw = response.raw
    read = _read1_of(raw)
    if read is None:  # not a urllib3 response (a custom adapter): no deadline to keep
        yield from response.iter_content(chunk_size=65536)
        return
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            response.close()
            where = safe_url(response.url or "")
            raise TransportError(
                f"no complete answer from {where} within {timeout:g} s", url=where
            )
        # The mapping requests' iter_content applies, so errors read as before.
        try:
            piece = read(65536)
        except (u3.ReadTimeoutError, socket.timeout) as exc:
            raise rq.ReadTimeout(exc) from exc
        except (u3.ProtocolError, http.client.HTTPException) as exc:
            raise rq.ChunkedEncodingError(exc) from exc
        except u3.DecodeError as exc:
            raise rq.ContentDecodingError(exc) from exc
        except u3.SSLError as exc:
            raise rq.SSLError(exc) from exc
        except OSError as exc:
            raise rq.ConnectionError(exc) from exc
        if not piece:
            return
        yield piece


def _read1_of(raw: Any) -> Optional[Callable[[int], bytes]]:
    """A read of at most one socket read, decoded, for urllib3 1.26 and 2.x."""
    if hasattr(raw, "read1") and hasattr(raw, "_fp"):  # urllib3 >= 2.1
        return lambda size: bytes(raw.read1(size, decode_content=True))
    fp: Any = getattr(raw, "_fp", None)
    if not hasattr(fp, "read1") or not hasattr(raw, "_decode"):
        return None
    # urllib3 1.26 and 2.0: read from http.client's response (which undoes the
    # chunked framing) and decode through urllib3's own decoder, as its read() does.
    raw._init_decoder()

    def read(size: int) -> bytes:
        while True:  # b"" only at the end: a gzip header alone decodes to nothing
            data = fp.read1(size)
            decoded: bytes = raw._decode(data, True, not data)
            if not data:
                # http.client's read1 does not mark a Content-Length body done when
                # it ends exactly; closing it (not the socket) lets the connection
                # serve the next request, as urllib3's own read() would.
                fp.close()
                raw.release_conn()
            if decoded or not data:
                return decoded

    return read


def read_body(response: requests.Response, timeout: float) -> bytes:
    """The body, refused once it passes MAX_BODY_BYTES rather than read whole."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        response.close()
        raise TokenEndpointError(
            response.status_code, detail=f"response body of {declared} bytes refused (limit 1 MiB)"
        )
    chunks = []
    size = 0
    for chunk in _pieces(response, timeout):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise TokenEndpointError(
                response.status_code, detail="response body larger than 1 MiB refused"
            )
        chunks.append(chunk)
    encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
    if declared.isdigit() and size < int(declared) and not encoded:
        # urllib3 2 raises on a short body itself; urllib3 1.26 hands over what came.
        where = safe_url(response.url or "")
        raise TransportError(
            f"the connection to {where} closed before the whole answer arrived", url=where
        )
    return b"".join(chunks)
