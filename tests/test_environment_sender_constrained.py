"""Environment mode and the CLI with DPoP, TLS client certificates and resource indicators."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from h2oauth_lite import ConfigError, DPoPKey, provider_from_env
from h2oauth_lite.client_auth.tls import KeyFileWarning, TLSClientAuth
from h2oauth_lite.settings import read_settings
from tests.support.cli_runs import run_cli as run
from tests.support.idp import OIDCServer


def _key_file(directory: Path, mode: int = 0o600, name: str = "dpop.pem") -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / name
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(mode)
    return path


BASE = {"H2O_AUTHN_URI": "https://as.example/token", "H2O_AUTHN_CLIENT_ID": "svc"}


def test_settings_read_the_new_variables() -> None:
    settings = read_settings(
        {
            **BASE,
            "H2O_AUTHN_TLS_CERT_FILE": "/c.pem",
            "H2O_AUTHN_TLS_KEY_FILE": "/k.pem",
            "H2O_AUTHN_DPOP_KEY_FILE": "/d.pem",
            "H2O_AUTHN_RESOURCE": " urn:a  urn:b ",
        }
    )
    assert settings.tls_cert_file == "/c.pem" and settings.tls_key_file == "/k.pem"
    assert settings.dpop_key_file == "/d.pem"
    assert settings.resource == ("urn:a", "urn:b")
    with pytest.raises(ConfigError, match="H2O_AUTHN_TLS_CERT_FILE"):
        read_settings({**BASE, "H2O_AUTHN_CLIENT_SECRET": "s", "H2O_AUTHN_TLS_KEY_FILE": "/k"})
    with pytest.raises(ConfigError, match="H2O_AUTHN_CLIENT_SECRET"):
        read_settings({**BASE, "H2O_AUTHN_DPOP_KEY_FILE": "/d.pem"})  # DPoP is no credential


def test_provider_from_env_binds_to_the_key_and_the_certificate(tmp_path: Path) -> None:
    key_file = _key_file(tmp_path)
    cert = tmp_path / "client.pem"
    cert.write_text("not read until the handshake")
    tls_key = _key_file(tmp_path, name="client-key.pem")
    provider = provider_from_env(
        {
            **BASE,
            "H2O_AUTHN_DPOP_KEY_FILE": str(key_file),
            "H2O_AUTHN_TLS_CERT_FILE": str(cert),
            "H2O_AUTHN_TLS_KEY_FILE": str(tls_key),
            "H2O_AUTHN_RESOURCE": "urn:a urn:b",
        }
    )
    assert provider.dpop is not None
    assert provider.dpop.thumbprint == DPoPKey(key_file).thumbprint
    assert isinstance(provider.client_auth, TLSClientAuth)  # the certificate is the credential
    assert provider.endpoint.resource == ["urn:a", "urn:b"]
    assert provider.session.cert == (str(cert), str(tls_key))


def test_a_dpop_key_file_readable_by_others_draws_a_warning(tmp_path: Path) -> None:
    key_file = _key_file(tmp_path, mode=0o644)
    env = {**BASE, "H2O_AUTHN_CLIENT_SECRET": "s", "H2O_AUTHN_DPOP_KEY_FILE": str(key_file)}
    with pytest.warns(KeyFileWarning, match="DPoP key file"):
        provider_from_env(env)
    with pytest.raises(ConfigError, match="cannot read the private key file"):
        provider_from_env({**env, "H2O_AUTHN_DPOP_KEY_FILE": str(tmp_path / "missing.pem")})


# -- the CLI ---------------------------------------------------------------------------------




def _env(oidc: OIDCServer, client: str) -> dict[str, str]:
    entry = oidc.client(client)
    return {
        "H2O_AUTHN_ISSUER": oidc.issuer,
        "H2O_AUTHN_CLIENT_ID": entry["client_id"],
        "H2O_AUTHN_CLIENT_SECRET": entry["client_secret"],
        "H2O_AUTHN_RESOURCE": oidc.default_resource,
    }


@pytest.mark.interop
def test_token_header_prints_the_authorization_value(oidc: OIDCServer) -> None:
    result = run("token", "--header", env=_env(oidc, "cc-basic"))
    assert result.returncode == 0, result.stderr
    scheme, _, token = result.stdout.strip().partition(" ")
    assert scheme == "Bearer" and result.stderr == ""
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == oidc.default_resource


@pytest.mark.interop
def test_a_dpop_token_is_printed_with_a_note_and_refused_as_a_header(
    oidc: OIDCServer, tmp_path: Path
) -> None:
    env = {**_env(oidc, "dpop-cc"), "H2O_AUTHN_DPOP_KEY_FILE": str(_key_file(tmp_path))}
    plain = run("token", env=env)
    assert plain.returncode == 0, plain.stderr
    claims = jwt.decode(plain.stdout.strip(), options={"verify_signature": False})
    assert claims["cnf"]["jkt"] == DPoPKey(tmp_path / "dpop.pem").thumbprint
    assert "token type is DPoP" in plain.stderr
    header = run("token", "--header", env=env)
    assert header.returncode == 2 and header.stdout == ""
    assert "needs a new DPoP proof" in header.stderr and "BearerAuth" in header.stderr
