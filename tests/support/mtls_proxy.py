"""Mutual TLS for the interop tests: a test PKI, a TLS terminator in front of
oidc-provider, and a protected resource that checks certificate binding.

oidc-provider does not terminate TLS itself; in production a proxy does and
passes the client certificate on in a header. :class:`TLSTerminator` is that
proxy on loopback: it asks for a client certificate (verified against the
test CA, plus the registered self-signed one), forwards each request to the
provider over plain HTTP with ``x-ssl-client-cert`` (URL-encoded PEM),
``x-ssl-client-verify`` and the shared secret that makes the provider believe
them, and removes any such headers a client sent itself.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import quote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SELF_SIGNED_CERT = Path(__file__).resolve().parent.parent / "oidc" / "keys" / "mtls-self-signed.pem"
SELF_SIGNED_KEY = SELF_SIGNED_CERT.with_name("mtls-self-signed-key.pem")
PKI_CLIENT_DN = "h2oauth-lite mtls client"
_PROXY_HEADERS = ("x-ssl-client-cert", "x-ssl-client-verify", "x-ssl-proxy-secret")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class PKI:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path  # CN=h2oauth-lite mtls client, the one mtls-pki is registered for
    client_key: Path
    other_cert: Path  # same CA, another subject
    other_key: Path


class _CA:
    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            self._builder(_name(name), self.key)
            .issuer_name(_name(name))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def _builder(self, subject: x509.Name, key: Any) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(minutes=5))
            .not_valid_after(self.now + datetime.timedelta(days=1))
        )

    def issue(
        self, directory: Path, stem: str, common_name: str, server: bool
    ) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = self._builder(_name(common_name), key).issuer_name(self.cert.subject)
        if server:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        cert = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        return cert_file, key_file


def make_pki(directory: Path) -> PKI:
    ca = _CA("h2oauth-lite mtls test CA")
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    server_cert, server_key = ca.issue(directory, "server", "127.0.0.1", server=True)
    client_cert, client_key = ca.issue(directory, "client", PKI_CLIENT_DN, server=False)
    other_cert, other_key = ca.issue(directory, "other", "somebody else", server=False)
    return PKI(ca_file, server_cert, server_key, client_cert, client_key, other_cert, other_key)


def self_signed_pair(directory: Path) -> tuple[str, str]:
    """The registered self-signed certificate, with a private copy of its key (mode 600)."""
    key = directory / "self-signed-key.pem"
    key.write_bytes(SELF_SIGNED_KEY.read_bytes())
    key.chmod(0o600)
    return str(SELF_SIGNED_CERT), str(key)


def _server_context(pki: PKI, *, require_cert: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    context.verify_mode = ssl.CERT_REQUIRED if require_cert else ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(pki.ca_file))
    # The registered self-signed certificate is its own trust anchor.
    context.load_verify_locations(cadata=SELF_SIGNED_CERT.read_text())
    return context


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext):
        super().__init__(("127.0.0.1", port), handler)
        self.context = context

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        # A failed handshake raises an OSError here, which socketserver drops.
        return self.context.wrap_socket(sock, server_side=True), address


class _Running:
    def __init__(self, server: _TLSServer) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_terminator(pki: PKI, port: int, upstream_port: int, secret: str) -> _Running:
    """The TLS terminator on ``port``, forwarding to the provider on ``upstream_port``."""

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _PROXY_HEADERS}
            # The provider must see its own address: it checks URLs against its issuer.
            headers["Host"] = f"127.0.0.1:{upstream_port}"
            der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
            if der:
                pem = ssl.DER_cert_to_PEM_cert(der)
                headers["x-ssl-client-cert"] = quote(pem, safe="")
                headers["x-ssl-client-verify"] = "SUCCESS"  # the handshake verified it
            headers["x-ssl-proxy-secret"] = secret
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=10)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_POST = _forward

    return _Running(_TLSServer(port, Forward, _server_context(pki, require_cert=False)))


def thumbprint(der: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def start_bound_resource(
    pki: PKI, token_key: Callable[[str], Any], accepted: list[dict[str, Any]]
) -> _Running:
    """A resource server that wants a client certificate and a token bound to it
    (``cnf.x5t#S256``, RFC 8705 section 3), presented as a Bearer token."""

    class Resource(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, body = self._check()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _check(self) -> tuple[int, dict[str, Any]]:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            if scheme != "Bearer" or not token:
                return 401, {"error": "invalid_token"}
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, token_key(token), algorithms=["RS256"], options={"verify_aud": False}
                )
            except jwt.PyJWTError:
                return 401, {"error": "invalid_token"}
            der: Optional[bytes] = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
            bound = (claims.get("cnf") or {}).get("x5t#S256")
            if not der or bound != thumbprint(der):
                return 401, {"error": "invalid_token", "why": "not bound to this certificate"}
            accepted.append(claims)
            return 200, {"sub": claims.get("sub")}

    return _Running(_TLSServer(0, Resource, _server_context(pki, require_cert=True)))


def running(server: _Running) -> Iterator[_Running]:
    try:
        yield server
    finally:
        server.stop()
