"""Better Auth's JWKS endpoint served in-process, and a clock the tests move by hand."""

import json
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from accounts.jwks import JWKSFetchError

# The key type each algorithm signs with; RS* and PS* share RSA keys.
KEY_TYPES = {"EdDSA": "Ed25519", "ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def private_key(alg: str, name: str = "") -> Any:
    """A private key for ``alg``, the same one for the same name and key type."""
    return _private_key(KEY_TYPES.get(alg, "RSA"), name)


@cache  # RSA keys are slow to make
def _private_key(key_type: str, name: str) -> Any:
    if key_type == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type.startswith("P-"):
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[key_type]
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: Any, alg: str, kid: str | None, declare_alg: bool = True) -> dict[str, Any]:
    """The public half of ``key`` as Better Auth publishes it: with ``alg`` and ``kid``."""
    jwk = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(key.public_key()))
    if declare_alg:
        jwk["alg"] = alg
    if kid is not None:
        jwk["kid"] = kid
    return jwk


class Clock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeJWKSHost:
    """A JWKS endpoint: the keys it publishes, how often it was fetched, and whether it is up."""

    def __init__(self):
        self.keys: dict[str | None, tuple[str, Any, bool]] = {}
        self.fetches = 0
        self.down = False

    def add_key(self, kid: str | None, alg: str = "EdDSA", declare_alg: bool = True) -> None:
        self.keys[kid] = (alg, private_key(alg, str(kid)), declare_alg)

    def retire_key(self, kid: str) -> None:
        del self.keys[kid]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(key, alg, kid, declare) for kid, (alg, key, declare) in self.keys.items()]}

    def fetch(self, url: str, *, timeout: float, max_bytes: int) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise JWKSFetchError("connection refused")
        return self.jwks()

    def sign(self, claims: dict[str, Any], kid: str | None = "key-1", headers: dict | None = None) -> str:
        """A token signed with this host's key ``kid``, as Better Auth signs it."""
        alg, key, _ = self.keys[kid]
        headers = {**({"kid": kid} if kid is not None else {}), **(headers or {})}
        return jwt.encode(claims, key, algorithm=alg, headers=headers)
