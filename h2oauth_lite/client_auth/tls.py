"""Mutual-TLS client authentication (RFC 8705): the client certificate is the credential.

``tls_client_auth`` (a certificate from a CA the server trusts, matched to
the client by its subject) and ``self_signed_tls_client_auth`` (a
certificate registered with the client) send only ``client_id`` in the
form: the proof is the TLS handshake, made with the certificate and key
given as the ``cert`` option, which goes on the session. Tokens issued over
such a connection may be bound to the certificate (``cnf.x5t#S256``); they
work wherever the same certificate is presented, such as the provider's own
session.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from collections.abc import Sequence
from typing import Union

from ..errors import ConfigError
from .base import require_client_id

__all__ = [
    "ClientCertificate",
    "KeyFileWarning",
    "SelfSignedTLSClientAuth",
    "TLSClientAuth",
    "check_client_certificate",
    "warn_if_readable_by_others",
]

# requests' own form: one PEM file holding certificate and key, or (certificate, key) files.
ClientCertificate = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


class KeyFileWarning(UserWarning):
    """A private key file is readable by other users."""


class TLSClientAuth:
    """``tls_client_auth``: a CA-issued client certificate on the session identifies the client."""

    method = "tls_client_auth"

    def __init__(self, client_id: str) -> None:
        self.client_id = require_client_id(client_id)

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        # RFC 8705 section 2: client_id in the body; the certificate proves the rest.
        data["client_id"] = self.client_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r})"


class SelfSignedTLSClientAuth(TLSClientAuth):
    """``self_signed_tls_client_auth``: a certificate registered with the client (its JWKS)."""

    method = "self_signed_tls_client_auth"


def check_client_certificate(cert: object) -> Union[str, tuple[str, str]]:
    """The ``cert`` option as requests takes it, after checking the files can be read.

    A key file that others may read draws a :class:`KeyFileWarning`, as the
    token store's file does: a client key is a credential.
    """
    if isinstance(cert, (str, os.PathLike)):
        files = [os.fspath(cert)]
    elif (
        isinstance(cert, Sequence)
        and len(cert) == 2
        and all(isinstance(part, (str, os.PathLike)) for part in cert)
    ):
        files = [os.fspath(part) for part in cert]
    else:
        raise ConfigError(
            "cert must be a PEM file with certificate and key, or a (certificate file, "
            f"key file) pair, not {type(cert).__name__}"
        )
    for path in files:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise ConfigError(f"cannot read the client certificate or key file {path!r}")
    warn_if_readable_by_others(files[-1], "client key")
    return files[0] if len(files) == 1 else (files[0], files[1])


def warn_if_readable_by_others(path: str, what: str) -> None:
    """A :class:`KeyFileWarning` when group or others have any access to a key file."""
    if sys.platform == "win32":
        return
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # reading it will say what is wrong
    if mode & 0o077:
        warnings.warn(
            f"the {what} file {path} is accessible by other users (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            KeyFileWarning,
            stacklevel=5,
        )
