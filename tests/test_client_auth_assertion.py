"""Signed-JWT client authentication: the assertions themselves, bad keys, and every
method against the real oidc-provider, which enforces each client's registered method."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from h2oauth_lite import (
    ClientCredentialsTokenProvider,
    ClientSecretBasic,
    ClientSecretJWT,
    ClientSecretPost,
    ConfigError,
    PrivateKeyJWT,
    TokenEndpointError,
    provider_from_env,
)
from h2oauth_lite.client_auth.assertion import CLIENT_ASSERTION_TYPE
from h2oauth_lite.client_auth.methods import client_auth_for
from h2oauth_lite.client_auth.secret import NoClientAuth
from tests.support.idp import ALL_CLIENTS, OIDCServer, auth_for

TOKEN_URL = "https://idp.example.test/token"
SECRET = "s" * 48
NOW = 1_700_000_000


def _clock() -> float:
    return NOW + 0.75


def _apply(auth: Any, url: str = TOKEN_URL) -> tuple[dict[str, str], dict[str, str]]:
    headers: dict[str, str] = {}
    data: dict[str, str] = {}
    auth.apply(url, headers, data)
    return headers, data


def _decode(assertion: str, key: Any, alg: str, audience: str = TOKEN_URL) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        assertion, key, algorithms=[alg], audience=audience, options={"verify_exp": False}
    )
    return claims


def _pem(key: Any, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# -- ClientSecretJWT ------------------------------------------------------------------


def test_client_secret_jwt_claims_and_form_fields() -> None:
    auth = ClientSecretJWT("my-client", SECRET, clock=_clock)
    headers, data = _apply(auth)
    assert headers == {}
    assert data["client_id"] == "my-client"
    assert data["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert jwt.get_unverified_header(data["client_assertion"])["alg"] == "HS256"
    claims = _decode(data["client_assertion"], SECRET, "HS256")
    assert claims["iss"] == claims["sub"] == "my-client"
    assert claims["aud"] == TOKEN_URL
    assert claims["iat"] == NOW
    assert claims["exp"] == NOW + 60
    assert len(claims["jti"]) >= 24


def test_every_assertion_has_a_fresh_jti() -> None:
    auth = ClientSecretJWT("my-client", SECRET, clock=_clock)
    seen = {_decode(_apply(auth)[1]["client_assertion"], SECRET, "HS256")["jti"] for _ in range(50)}
    assert len(seen) == 50


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_client_secret_jwt_other_hmac_algorithms(alg: str) -> None:
    auth = ClientSecretJWT("c", "k" * 64, alg=alg, audience="https://idp.example.test")
    claims = _decode(_apply(auth)[1]["client_assertion"], "k" * 64, alg, "https://idp.example.test")
    assert claims["aud"] == "https://idp.example.test"


def test_short_hmac_secret_warns_as_pyjwt_does_and_still_signs() -> None:
    auth = ClientSecretJWT("c", "short")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, data = _apply(auth)
    if hasattr(jwt, "InsecureKeyLengthWarning"):
        assert any(issubclass(w.category, jwt.InsecureKeyLengthWarning) for w in caught)
        assert not any("short" in str(w.message) for w in caught)  # the secret is not quoted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _decode(data["client_assertion"], "short", "HS256")["sub"] == "c"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(alg: str, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="alg='none' is refused"):
        ClientSecretJWT("c", SECRET, alg=alg)
    with pytest.raises(ConfigError, match="alg='none' is refused"):
        PrivateKeyJWT("c", rsa_key, alg=alg)


def test_wrong_algorithm_family_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="use PrivateKeyJWT"):
        ClientSecretJWT("c", SECRET, alg="RS256")
    with pytest.raises(ConfigError, match="HMAC"):
        PrivateKeyJWT("c", rsa_key, alg="HS256")
    with pytest.raises(ConfigError, match="does not sign with 'XS999'"):
        PrivateKeyJWT("c", rsa_key, alg="XS999")


def test_client_secret_jwt_needs_id_and_secret() -> None:
    with pytest.raises(ConfigError, match="client_secret"):
        ClientSecretJWT("c", "")
    with pytest.raises(ConfigError, match="client_id"):
        ClientSecretJWT("", SECRET)


def test_repr_shows_no_secret_or_key(rsa_key: rsa.RSAPrivateKey) -> None:
    text = repr(ClientSecretJWT("c", SECRET)) + repr(PrivateKeyJWT("c", rsa_key, kid="k1"))
    assert SECRET not in text and "redacted" in text
    assert "PRIVATE" not in text and "kid='k1'" in text


# -- PrivateKeyJWT: key sources -----------------------------------------------------------


def test_private_key_jwt_from_pem_text_and_paths(
    rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pem = _pem(rsa_key)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    public = rsa_key.public_key()
    for source in (pem.decode(), pem, str(key_file), key_file, rsa_key):
        auth = PrivateKeyJWT("svc", source, kid="kid-1", clock=_clock)
        assertion = _apply(auth)[1]["client_assertion"]
        assert jwt.get_unverified_header(assertion)["kid"] == "kid-1"
        claims = _decode(assertion, public, "RS256")
        assert (claims["iss"], claims["sub"], claims["exp"]) == ("svc", "svc", NOW + 60)


def test_private_key_jwt_from_jwk_dict_text_and_file(
    oidc_keys: dict[str, Any], tmp_path: Path
) -> None:
    jwk = oidc_keys["cc-pkjwt-es256"]
    public = jwt.PyJWK({k: v for k, v in jwk.items() if k != "d"}).key
    jwk_file = tmp_path / "key.json"
    jwk_file.write_text(json.dumps(jwk))
    for source in (jwk, json.dumps(jwk), jwk_file):
        auth = PrivateKeyJWT("svc", source, alg="ES256")
        assertion = _apply(auth)[1]["client_assertion"]
        assert jwt.get_unverified_header(assertion).get("kid") == jwk.get("kid")
        assert _decode(assertion, public, "ES256")["sub"] == "svc"


def test_alg_none_picks_the_keys_usual_algorithm(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert PrivateKeyJWT("c", rsa_key, alg=None).alg == "RS256"
    assert PrivateKeyJWT("c", ec_key, alg=None).alg == "ES256"
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert PrivateKeyJWT("c", p384, alg=None).alg == "ES384"


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS512"])
def test_rsa_algorithms(alg: str, rsa_key: rsa.RSAPrivateKey) -> None:
    assertion = _apply(PrivateKeyJWT("c", rsa_key, alg=alg))[1]["client_assertion"]
    assert _decode(assertion, rsa_key.public_key(), alg)["iss"] == "c"


def test_eddsa() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    assertion = _apply(PrivateKeyJWT("c", key, alg="EdDSA"))[1]["client_assertion"]
    assert _decode(assertion, key.public_key(), "EdDSA")["iss"] == "c"


def test_encrypted_pem_needs_its_password(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    key_file = tmp_path / "encrypted.pem"
    key_file.write_bytes(_pem(rsa_key, b"correct horse"))
    with pytest.raises(ConfigError, match="encrypted; pass its passphrase as private_key_password"):
        PrivateKeyJWT("c", key_file)
    with pytest.raises(ConfigError, match="wrong private_key_password") as wrong:
        PrivateKeyJWT("c", key_file, private_key_password="wrong horse")
    assert "horse" not in str(wrong.value)
    auth = PrivateKeyJWT("c", key_file, private_key_password="correct horse")
    assert _decode(_apply(auth)[1]["client_assertion"], rsa_key.public_key(), "RS256")


def test_password_for_a_plain_key_is_an_error(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="not encrypted"):
        PrivateKeyJWT("c", _pem(rsa_key), private_key_password="pw")


def test_unreadable_key_file(tmp_path: Path) -> None:
    # A path object is certainly a path, and naming it helps; a string may be key text.
    with pytest.raises(ConfigError, match=r"cannot read the private key file .*missing\.pem"):
        PrivateKeyJWT("c", tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="cannot read the private key file") as caught:
        PrivateKeyJWT("c", str(tmp_path / "missing.pem"))
    assert "missing.pem" not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read the private key file"):
        PrivateKeyJWT("c", tmp_path)  # a directory


def test_key_text_without_its_pem_lines_is_never_quoted(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = _pem(rsa_key).decode("ascii")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    with pytest.raises(ConfigError) as caught:
        PrivateKeyJWT("c", body)
    message = str(caught.value)
    assert "not PEM text, a JWK or a readable file" in message
    assert f"a string of {len(body)} characters" in message
    assert body[:16] not in message and body[-16:] not in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", "not a private"),
        (b"plain garbage", "neither PEM nor a JWK"),
        ("{not json", "does not parse"),
        ('{"d": ' + "[" * 200_000, "does not parse"),
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "public key"),
        ({"kty": "XYZ", "d": "AA"}, "not a usable private key"),
        (12345, "not int"),
    ],
)
def test_not_a_private_key(source: Any, message: str, tmp_path: Path) -> None:
    if isinstance(source, bytes):
        path = tmp_path / "bad.pem"
        path.write_bytes(source)
        source = path
    with pytest.raises(ConfigError, match=message):
        PrivateKeyJWT("c", source)


def test_public_pem_is_not_a_private_key(rsa_key: rsa.RSAPrivateKey) -> None:
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ConfigError, match="not a private key"):
        PrivateKeyJWT("c", public)


def test_key_that_does_not_match_alg(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(ConfigError, match="RS256 needs an RSA private key, but the key is EC"):
        PrivateKeyJWT("c", ec_key, alg="RS256")
    with pytest.raises(
        ConfigError, match="ES256 needs an EC secp256r1 private key, but the key is RSA"
    ):
        PrivateKeyJWT("c", rsa_key, alg="ES256")
    with pytest.raises(ConfigError, match="ES384 needs an EC secp384r1"):
        PrivateKeyJWT("c", ec_key, alg="ES384")


def test_private_key_jwt_survives_pickle(ec_key: ec.EllipticCurvePrivateKey) -> None:
    auth = PrivateKeyJWT("c", ec_key, alg="ES256", kid="k")
    copy = pickle.loads(pickle.dumps(auth))
    assertion = _apply(copy)[1]["client_assertion"]
    assert _decode(assertion, ec_key.public_key(), "ES256")["iss"] == "c"
    provider = ClientCredentialsTokenProvider(TOKEN_URL, "c", client_auth=auth)
    assert pickle.loads(pickle.dumps(provider)).client_auth.kid == "k"


# -- resolution by name and from the environment -------------------------------------------


def test_method_names(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    assert isinstance(client_auth_for("c", SECRET, "client_secret_jwt"), ClientSecretJWT)
    with pytest.raises(ConfigError, match="needs a private key"):
        client_auth_for("c", None, "private_key_jwt")
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(_pem(rsa_key))
    auth = client_auth_for("c", None, "private_key_jwt", private_key=str(key_file))
    assert isinstance(auth, PrivateKeyJWT) and auth.alg == "RS256"
    assert isinstance(client_auth_for("c", None, "none"), NoClientAuth)


def test_environment_selects_the_method(tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(_pem(ec_key))
    base = {"H2O_AUTHN_URI": TOKEN_URL, "H2O_AUTHN_CLIENT_ID": "svc"}
    provider = provider_from_env(
        {**base, "H2O_AUTHN_PRIVATE_KEY_FILE": str(key_file), "H2O_AUTHN_PRIVATE_KEY_ID": "kid-9"}
    )
    auth = provider.client_auth
    assert isinstance(auth, PrivateKeyJWT)
    assert (auth.alg, auth.kid, auth.client_id) == ("ES256", "kid-9", "svc")
    named = provider_from_env(
        {
            **base,
            "H2O_AUTHN_CLIENT_AUTH_METHOD": "private_key_jwt",
            "H2O_AUTHN_PRIVATE_KEY_FILE": str(key_file),
        }
    )
    assert isinstance(named.client_auth, PrivateKeyJWT)
    jwt_secret = provider_from_env(
        {
            **base,
            "H2O_AUTHN_CLIENT_AUTH_METHOD": "CLIENT_SECRET_JWT",
            "H2O_AUTHN_CLIENT_SECRET": SECRET,
        }
    )
    assert isinstance(jwt_secret.client_auth, ClientSecretJWT)
    public = provider_from_env({**base, "H2O_AUTHN_CLIENT_AUTH_METHOD": "none"})
    assert isinstance(public.client_auth, NoClientAuth)
    with pytest.raises(
        ConfigError, match="Missing environment variable: H2O_AUTHN_PRIVATE_KEY_FILE"
    ):
        provider_from_env({**base, "H2O_AUTHN_CLIENT_AUTH_METHOD": "private_key_jwt"})
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match="cannot read the private key file") as caught:
        provider_from_env({**base, "H2O_AUTHN_PRIVATE_KEY_FILE": str(missing)})
    assert str(missing) in str(caught.value)  # a path from the environment is named


# -- without cryptography ------------------------------------------------------------------

_WITHOUT_CRYPTOGRAPHY = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "cryptography" or name.startswith("cryptography."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())

    import jwt
    import h2oauth_lite
    from h2oauth_lite import ClientSecretJWT, ConfigError, PrivateKeyJWT

    headers, data = {}, {}
    ClientSecretJWT("c", "s" * 48).apply("https://idp.example.test/token", headers, data)
    claims = jwt.decode(
        data["client_assertion"], "s" * 48, algorithms=["HS256"],
        audience="https://idp.example.test/token",
    )
    assert claims["sub"] == "c"
    try:
        PrivateKeyJWT("c", {"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"})
    except ConfigError as exc:
        print("ConfigError:", exc)
    else:
        raise SystemExit("PrivateKeyJWT worked without cryptography")
    assert not any(m == "cryptography" or m.startswith("cryptography.") for m in sys.modules)
    print("ok")
    """
)


def test_without_cryptography_hmac_works_and_keys_ask_for_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "install 'h2oauth-lite[crypto]'" in result.stdout
    assert result.stdout.strip().endswith("ok")


# -- against the real provider ----------------------------------------------------------


@pytest.fixture(scope="module")
def oidc_keys() -> dict[str, Any]:
    keys = Path(__file__).resolve().parent / "oidc" / "keys"
    return {path.stem: json.loads(path.read_text()) for path in keys.glob("*.json")}


@pytest.mark.interop
@pytest.mark.parametrize("name", ALL_CLIENTS)
def test_every_method_gets_a_token(oidc: OIDCServer, name: str) -> None:
    provider = ClientCredentialsTokenProvider(
        oidc.token_endpoint, name, client_auth=auth_for(oidc, name), scope="api:read"
    )
    token = provider.get_token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["client_id"] == name
    assert token.scope == "api:read"


@pytest.mark.interop
@pytest.mark.parametrize("name", ["cc-jwt", "cc-pkjwt-es256"])
def test_jwt_methods_through_discovery_and_issuer_audience(oidc: OIDCServer, name: str) -> None:
    auth = auth_for(oidc, name)
    auth.audience = oidc.issuer  # some servers want their issuer; oidc-provider takes both
    provider = ClientCredentialsTokenProvider(
        issuer_url=oidc.issuer, client_id=name, client_auth=auth, allow_insecure_http=True
    )
    assert provider.get_token().access_token


@pytest.mark.interop
@pytest.mark.parametrize(
    ("name", "wrong"),
    [
        ("cc-jwt", "basic"),
        ("cc-jwt", "post"),
        ("cc-basic", "jwt"),
        ("cc-basic", "post"),
        ("cc-post", "basic"),
        ("cc-pkjwt-rs256", "jwt"),
        ("cc-pkjwt-rs256", "es256-key"),
    ],
)
def test_server_refuses_a_method_other_than_the_registered_one(
    oidc: OIDCServer, oidc_keys: dict[str, Any], name: str, wrong: str
) -> None:
    secret = oidc.client(name).get("client_secret") or oidc.client("cc-jwt")["client_secret"]
    auth: Any
    if wrong == "basic":
        auth = ClientSecretBasic(name, secret)
    elif wrong == "post":
        auth = ClientSecretPost(name, secret)
    elif wrong == "jwt":
        auth = ClientSecretJWT(name, secret)
    else:
        auth = PrivateKeyJWT(name, oidc_keys["cc-pkjwt-es256"], alg="ES256")
    provider = ClientCredentialsTokenProvider(oidc.token_endpoint, name, client_auth=auth)
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.status_code in (400, 401)
    assert caught.value.error == "invalid_client"


@pytest.mark.interop
def test_wrong_audience_is_refused_and_the_error_says_so(oidc: OIDCServer) -> None:
    auth = PrivateKeyJWT(
        "cc-pkjwt-rs256", oidc.private_jwk("cc-pkjwt-rs256"), audience="https://elsewhere.test"
    )
    provider = ClientCredentialsTokenProvider(
        oidc.token_endpoint, "cc-pkjwt-rs256", client_auth=auth
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    message = str(caught.value)
    assert caught.value.error == "invalid_client"
    assert "aud was 'https://elsewhere.test'" in message
    assert "pass audience=" in message
    assert message.startswith("Authentication request failed (status: 401 Unauthorized)")


@pytest.mark.interop
@pytest.mark.parametrize("name", ["cc-jwt", "cc-pkjwt-rs256"])
def test_a_replayed_assertion_is_refused(oidc: OIDCServer, name: str) -> None:
    auth = auth_for(oidc, name)
    assertion = auth.assertion(oidc.token_endpoint)
    form = {
        "grant_type": "client_credentials",
        "client_id": name,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    first = requests.post(oidc.token_endpoint, data=form, timeout=10)
    assert first.status_code == 200, first.text
    replay = requests.post(oidc.token_endpoint, data=form, timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"
    # The library itself never replays: two requests, two assertions, two tokens.
    provider = ClientCredentialsTokenProvider(oidc.token_endpoint, name, client_auth=auth)
    assert provider.get_token().access_token != provider.get_token().access_token


class ExtraHeaderPost:
    """A custom method: client_secret_post plus a header the gateway in front wants."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self._secret = client_secret

    def apply(self, token_url: str, headers: dict[str, str], data: dict[str, str]) -> None:
        headers["X-Gateway-Tenant"] = "blue"
        data["client_id"] = self.client_id
        data["client_secret"] = self._secret


@pytest.mark.interop
def test_custom_method_object(oidc: OIDCServer) -> None:
    auth = ExtraHeaderPost("cc-post", oidc.client("cc-post")["client_secret"])
    provider = ClientCredentialsTokenProvider(oidc.token_endpoint, client_auth=auth)
    assert provider.client_id == "cc-post"
    assert provider.get_token().access_token


def test_custom_method_object_without_apply_is_refused() -> None:
    with pytest.raises(ConfigError, match="apply"):
        ClientCredentialsTokenProvider(TOKEN_URL, "c", client_auth=object())


def test_no_module_imports_cryptography_at_import_time() -> None:
    import ast

    import h2oauth_lite

    package = Path(h2oauth_lite.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only; TYPE_CHECKING blocks never run
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Try):
                names = [
                    alias.name
                    for inner in node.body
                    if isinstance(inner, ast.Import)
                    for alias in inner.names
                ]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] == "cryptography"
            ]
    assert offenders == []


def test_a_refusal_is_raised_as_it_came_or_explained_from_it(loopback: Any) -> None:
    from tests.support.loopback import Response

    answers = iter(
        [Response(400, {"error": "invalid_scope"}), Response(401, {"error": "invalid_client"})]
    )
    server = loopback(lambda request: next(answers))
    provider = ClientCredentialsTokenProvider(
        f"{server.url}/token", client_auth=ClientSecretJWT("svc", SECRET), retries=0
    )
    with pytest.raises(TokenEndpointError) as caught:
        provider.get_token()
    assert caught.value.error == "invalid_scope"
    assert caught.value.__cause__ is not caught.value
    with pytest.raises(TokenEndpointError) as explained:
        provider.get_token()
    assert "client_secret_jwt assertion" in str(explained.value)
    assert isinstance(explained.value.__cause__, TokenEndpointError)
    assert explained.value.__cause__ is not explained.value
