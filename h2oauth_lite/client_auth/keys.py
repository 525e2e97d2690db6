"""Private keys for signing: loaded from PEM, JWK or a file, and matched to an algorithm.

``cryptography`` is imported only when a private key is loaded, so the plain
install (``requests`` and ``PyJWT``) never touches it; without it, loading a
key is a ConfigError naming the ``[crypto]`` extra.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import ConfigError

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "HMAC_ALGORITHMS",
    "PrivateKeySource",
    "check_alg",
    "check_key_matches",
    "default_alg_for",
    "key_from_der",
    "key_to_der",
    "load_private_key",
]

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
EDDSA_ALGORITHMS = ("EdDSA",)
ASYMMETRIC_ALGORITHMS = (*RSA_ALGORITHMS, *EC_ALGORITHMS, *EDDSA_ALGORITHMS)

PrivateKeySource = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any], Any]

_CRYPTO_MISSING = (
    "signing with a private key needs the cryptography package: pip install 'h2oauth-lite[crypto]'"
)


def check_alg(alg: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(alg, str) or not alg:
        raise ConfigError(f"{what} needs an alg, one of {', '.join(allowed)}")
    if alg.lower() == "none":
        raise ConfigError("alg='none' is refused: an unsigned assertion proves nothing")
    if alg not in allowed:
        raise ConfigError(f"{what} does not sign with {alg!r}; use one of {', '.join(allowed)}")
    return alg


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise ConfigError(_CRYPTO_MISSING) from None
    import jwt.algorithms

    if not jwt.algorithms.has_crypto:  # PyJWT was imported while cryptography was missing
        raise ConfigError(_CRYPTO_MISSING)


# -- private keys -------------------------------------------------------------------


def _read_key_file(path: Union[str, os.PathLike[str]]) -> bytes:
    try:
        return Path(path).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        if isinstance(path, str):
            # A string may be the key itself (a PEM body without its header lines,
            # say), and base64 has "/" in it: no test tells the two apart, so the
            # string is never quoted.
            raise ConfigError(
                "the private key is not PEM text, a JWK or a readable file (a string of "
                f"{len(path)} characters; cannot read the private key file it would name: "
                f"{reason})"
            ) from None
        raise ConfigError(
            f"cannot read the private key file {os.fspath(path)!r}: {reason}"
        ) from None


def _from_jwk(jwk: Mapping[str, Any]) -> tuple[Any, Optional[str]]:
    import jwt

    if "d" not in jwk:
        raise ConfigError("the JWK is a public key (no 'd' member); a private JWK is needed")
    data = {name: value for name, value in jwk.items() if name != "alg"}
    try:
        # Without 'alg' PyJWT picks the key class from kty/crv; the alg check follows.
        loaded = jwt.PyJWK(data)
    except jwt.exceptions.PyJWTError as exc:
        raise ConfigError(f"the JWK is not a usable private key ({type(exc).__name__})") from None
    kid = jwk.get("kid")
    return loaded.key, kid if isinstance(kid, str) and kid else None


def _from_pem(pem: bytes, password: Optional[Union[str, bytes]]) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    secret = password.encode("utf-8") if isinstance(password, str) else password
    try:
        return load_pem_private_key(pem, password=secret)
    except TypeError:
        # cryptography says TypeError both for a missing and for a needless password.
        if secret is None:
            raise ConfigError(
                "the private key is encrypted; pass its passphrase as private_key_password"
            ) from None
        raise ConfigError(
            "private_key_password was given but the private key is not encrypted"
        ) from None
    except ValueError:
        if secret is not None and b"ENCRYPTED" in pem:
            raise ConfigError(
                "could not decrypt the private key: wrong private_key_password?"
            ) from None
        raise ConfigError("the PEM data is not a private key this library can load") from None
    except Exception as exc:  # e.g. cryptography's UnsupportedAlgorithm
        raise ConfigError(f"the private key could not be loaded ({type(exc).__name__})") from None


def load_private_key(
    private_key: PrivateKeySource, *, password: Optional[Union[str, bytes]] = None
) -> tuple[Any, Optional[str]]:
    """A ``cryptography`` private key and the ``kid`` it names (JWKs only), from
    PEM text or bytes, a path to a PEM or JWK file, a JWK dict or JSON text, or
    a key object. ConfigError for everything that is not a usable private key.
    """
    _require_cryptography()
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(private_key, Mapping):
        if password is not None:
            raise ConfigError("private_key_password applies to PEM keys, not to a JWK")
        return _from_jwk(private_key)
    if isinstance(private_key, (bytes, bytearray)):
        data = bytes(private_key)
    elif isinstance(private_key, str):
        looks_inline = "-----BEGIN" in private_key or private_key.lstrip().startswith("{")
        data = private_key.encode("utf-8") if looks_inline else _read_key_file(private_key)
    elif isinstance(private_key, os.PathLike):
        data = _read_key_file(private_key)
    elif isinstance(
        private_key,
        (
            rsa.RSAPrivateKey,
            ec.EllipticCurvePrivateKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PrivateKey,
        ),
    ):
        return private_key, None
    else:
        raise ConfigError(
            "private_key must be PEM text, a key file path, a JWK dict or a private key object, "
            f"not {type(private_key).__name__}"
        )
    if data.lstrip().startswith(b"{"):
        try:
            jwk = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ConfigError("the private key looks like JSON but does not parse") from None
        if not isinstance(jwk, Mapping):
            raise ConfigError("a JSON private key must be a JWK object")
        return load_private_key(jwk, password=password)
    if b"-----BEGIN" not in data:
        raise ConfigError("the private key is neither PEM nor a JWK")
    return _from_pem(data, password), None


def _key_kind(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return "EdDSA"
    return type(key).__name__


def default_alg_for(key: Any) -> str:
    """The usual algorithm for a key: RS256 for RSA, ES256/384/512 by curve, EdDSA."""
    kind = _key_kind(key)
    if kind == "RSA":
        return "RS256"
    for alg, curve in EC_ALGORITHMS.items():
        if kind == f"EC {curve}":
            return alg
    if kind == "EdDSA":
        return "EdDSA"
    raise ConfigError(f"no signing algorithm for a {kind} key")


def check_key_matches(key: Any, alg: str) -> None:
    """ConfigError when ``key`` cannot sign with ``alg`` (an EC key for RS256, say)."""
    import jwt.algorithms

    kind = _key_kind(key)
    if alg in RSA_ALGORITHMS:
        wanted = "RSA"
    elif alg in EC_ALGORITHMS:
        wanted = f"EC {EC_ALGORITHMS[alg]}"
    else:
        wanted = "EdDSA"
        if "EdDSA" not in jwt.algorithms.get_default_algorithms():
            raise ConfigError("this PyJWT cannot sign with EdDSA; upgrade PyJWT")
    if kind != wanted:
        raise ConfigError(f"alg {alg} needs an {wanted} private key, but the key is {kind}")


# -- pickling ------------------------------------------------------------------------


def key_to_der(key: Any) -> bytes:
    """A private key as unencrypted PKCS#8 DER: ``cryptography`` keys cannot be pickled,
    so objects that hold one pickle this instead."""
    from cryptography.hazmat.primitives import serialization

    der: bytes = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return der


def key_from_der(der: bytes) -> Any:
    """The inverse of :func:`key_to_der`."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)
