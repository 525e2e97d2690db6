"""What a signed client assertion costs: microseconds per assertion for each algorithm,
and key loading once. Run with ``python -m tests.bench.assertions``; prints figures only."""

from __future__ import annotations

import time
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from h2oauth_lite import ClientSecretJWT, PrivateKeyJWT

URL = "https://idp.example.test/token"
ROUNDS = 300


def _per_call(function: Callable[[], Any], rounds: int = ROUNDS) -> float:
    function()  # first call pays for lazy imports
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            function()
        best = min(best, (time.perf_counter() - started) / rounds)
    return best * 1e6


def _apply(auth: Any) -> Callable[[], None]:
    def run() -> None:
        auth.apply(URL, {}, {})

    return run


def main() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys: dict[str, Any] = {
        "RS256": rsa_key,
        "PS256": rsa_key,
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }
    print(f"{'method':<26} {'us per assertion':>18}")
    hmac = _per_call(_apply(ClientSecretJWT("c", "s" * 48)))
    print(f"{'client_secret_jwt HS256':<26} {hmac:>18.1f}")
    for alg, key in keys.items():
        auth = PrivateKeyJWT("c", key, alg=alg)
        print(f"{'private_key_jwt ' + alg:<26} {_per_call(_apply(auth)):>18.1f}")
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    load = _per_call(lambda: PrivateKeyJWT("c", pem), rounds=50)
    print(f"{'load RSA-2048 PEM':<26} {load:>18.1f}")


if __name__ == "__main__":
    main()
