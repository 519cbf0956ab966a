"""Verification of Better Auth JWTs, kept apart from HTTP.

PyJWT does the cryptography. simplejwt's own TokenBackend cannot meet the contract: it
verifies with one algorithm per backend, requires its own ``token_type``/``jti`` claims and
has no control over how a JWKS is fetched, so the key and algorithm choice lives here.

Two kinds of key, never mixed: HS tokens are checked with the shared secret only, and
asymmetric tokens (EdDSA, ES*, RS*, PS*) with a public key from Better Auth's JWKS only.
"""

import re
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson
from django.conf import settings
from jwt.utils import base64url_decode

from accounts.jwks import JWKSCache, StaticJWKS, key_set_from_settings
from accounts.settings import auth_settings

# A Better Auth JWT with a long profile is about 1 KB; anything much larger is not one.
MAX_TOKEN_LENGTH = 8 * 1024
MAX_SUBJECT_LENGTH = 255

# What no database text column can hold: NUL (PostgreSQL refuses it) and lone UTF-16
# surrogates, which a JSON string may escape ("\ud800") but UTF-8 cannot encode.
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

# RFC 7519's NumericDate claims: JSON numbers of seconds. Past the year 9999 a value is no date
# (Python's datetime ends there; 10**309 is no float at all).
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")
LATEST_NUMERIC_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z

# RFC 7518 3.2: an HMAC key at least as long as the hash's output, in bytes.
HS_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

# Headers that would let the token choose its own key or change how it is processed.
FORBIDDEN_HEADERS = ("crit", "jku", "x5u", "jwk", "x5c")


class TokenError(Exception):
    """A token that cannot be trusted; ``code`` is the stable code clients see."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# PyJWT's errors, most specific first, as (error class, code, message).
_PYJWT_ERRORS = [
    (jwt.ExpiredSignatureError, "token_expired", "The token has expired."),
    (jwt.ImmatureSignatureError, "token_not_yet_valid", "The token is not valid yet (iat or nbf is in the future)."),
    (jwt.InvalidAudienceError, "token_invalid_audience", "The token's audience (aud) is not accepted."),
    (jwt.InvalidIssuerError, "token_invalid_issuer", "The token's issuer (iss) is not accepted."),
    (jwt.MissingRequiredClaimError, "token_missing_claim", None),
    (jwt.InvalidSignatureError, "token_bad_signature", "The token's signature does not verify."),
    (jwt.DecodeError, "token_malformed", "The token is not a well-formed JWT."),
    (jwt.InvalidAlgorithmError, "token_algorithm_not_allowed", "The token's algorithm is not accepted."),
    (jwt.InvalidTokenError, "token_invalid_claim", None),
]


def _peek_header(raw: str) -> dict[str, Any]:
    """The JOSE header as sent, before PyJWT's checks, so a forbidden header gets its own code.

    orjson refuses nesting past 1024 levels with a ValueError, where the json module would
    recurse until Python's recursion limit; PyJWT catches that itself for the parses it makes.
    """
    try:
        header = orjson.loads(base64url_decode(raw.split(".", 1)[0]))
    except (ValueError, TypeError) as e:
        raise TokenError("The token is not a well-formed JWT.", "token_malformed") from e
    if not isinstance(header, dict):
        raise TokenError("The token is not a well-formed JWT.", "token_malformed")
    return header


@dataclass(frozen=True)
class BetterAuthTokenVerifier:
    """Checks a Better Auth JWT's header, signature and claims, and returns its claims."""

    secret: str
    hs_algorithms: list[str]
    issuer: str
    audience: list[str]
    leeway_seconds: int
    required_claims: list[str] = field(default_factory=lambda: ["exp", "iat", "sub"])
    jwks_algorithms: list[str] = field(default_factory=list)
    key_set: JWKSCache | StaticJWKS | None = None

    @classmethod
    def from_settings(cls) -> "BetterAuthTokenVerifier":
        return cls(
            secret=settings.BETTER_AUTH_SECRET,
            hs_algorithms=list(auth_settings.HS_ALGORITHMS),
            issuer=auth_settings.ISSUER,
            audience=list(auth_settings.AUDIENCE),
            leeway_seconds=auth_settings.LEEWAY_SECONDS,
            required_claims=list(auth_settings.REQUIRED_CLAIMS),
            jwks_algorithms=list(auth_settings.JWKS_ALGORITHMS),
            key_set=key_set_from_settings(),
        )

    def verify(self, raw: str | bytes) -> dict[str, Any]:
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", errors="replace")
        if len(raw) > MAX_TOKEN_LENGTH:
            raise TokenError("The token is too long to be a Better Auth JWT.", "token_malformed")
        header = self._read_unverified(raw)
        algorithm = header["alg"]
        key = self._key_for(header)
        claims = self._decode(raw, key, algorithm)
        self._check_numeric_dates(claims)
        self._check_subject(claims)
        return claims

    def _read_unverified(self, raw: str) -> dict[str, Any]:
        """The header, once the token's header and payload are known to be well formed. A
        garbled payload is refused before any key is looked up, so it never causes a JWKS fetch."""
        header = _peek_header(raw)
        for name in FORBIDDEN_HEADERS:
            if name in header:
                raise TokenError(f"The token's '{name}' header is not accepted.", "token_header_not_allowed")
        try:
            # One parse for both (PyJWT checks the header as get_unverified_header would).
            header = jwt.decode_complete(raw, options={"verify_signature": False})["header"]
        except jwt.PyJWTError as e:
            raise TokenError("The token is not a well-formed JWT.", "token_malformed") from e
        if not isinstance(header.get("alg"), str):
            raise TokenError("The token has no algorithm.", "token_malformed")
        return header

    def _key_for(self, header: dict[str, Any]) -> str | jwt.PyJWK:
        """The key that may verify a token with this header; each key serves its own algorithms only."""
        algorithm = header["alg"]
        if algorithm in self.hs_algorithms and self.secret:
            if len(self.secret.encode()) < HS_KEY_BYTES.get(algorithm, 0):
                raise TokenError(
                    f"Tokens signed with {algorithm!r} are not accepted: the shared secret is shorter than its hash.",
                    "token_algorithm_not_allowed",
                )
            return self.secret
        if algorithm in self.jwks_algorithms and self.key_set is not None:
            return self._public_key_for(algorithm, header.get("kid"))
        raise TokenError(f"Tokens signed with {algorithm!r} are not accepted.", "token_algorithm_not_allowed")

    def _public_key_for(self, algorithm: str, kid: Any) -> jwt.PyJWK:
        if kid is not None and not isinstance(kid, str):
            raise TokenError("The token's key id (kid) is not a string.", "token_malformed")
        jwk = self.key_set.get(kid)
        if jwk is None:
            raise TokenError("The token's signing key (kid) is not among Better Auth's keys.", "token_unknown_key")
        # The key decides its algorithm: the alg it declares, and its type and curve.
        if jwk.get("alg", algorithm) != algorithm:
            raise TokenError("The token's algorithm does not match its signing key.", "token_key_mismatch")
        try:
            key = jwt.PyJWK(jwk, algorithm)
            key.Algorithm.prepare_key(key.key)  # checks the key type and curve against the algorithm
        except jwt.PyJWTError as e:
            raise TokenError("The token's algorithm does not match its signing key.", "token_key_mismatch") from e
        return key

    def _decode(self, raw: str, key: Any, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                raw,
                key,
                algorithms=[algorithm],
                audience=self.audience or None,
                issuer=self.issuer or None,
                leeway=self.leeway_seconds,
                options={
                    "require": self.required_claims,
                    "verify_aud": bool(self.audience),
                    "verify_iss": bool(self.issuer),
                },
            )
        except jwt.PyJWTError as e:
            for error_class, code, message in _PYJWT_ERRORS:
                if isinstance(e, error_class):
                    raise TokenError(message or f"{e}.", code) from e
            raise TokenError("The token is not valid.", "token_invalid") from e

    def _check_numeric_dates(self, claims: dict[str, Any]) -> None:
        # PyJWT reads "1767225600" as a number and compares 10**309 without complaint.
        for name in NUMERIC_DATE_CLAIMS:
            value = claims.get(name)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not -LATEST_NUMERIC_DATE <= value <= LATEST_NUMERIC_DATE
            ):
                raise TokenError(
                    f"The token's {name} is not a NumericDate (a number of seconds).", "token_invalid_claim"
                )

    def _check_subject(self, claims: dict[str, Any]) -> None:
        subject = claims["sub"]
        # A subject that cannot be stored cannot name a user.
        if (
            not isinstance(subject, str)
            or not subject.strip()
            or len(subject) > MAX_SUBJECT_LENGTH
            or UNSTORABLE_CHARACTERS.search(subject)
        ):
            raise TokenError("The token's subject (sub) is not a valid user id.", "token_invalid_claim")


def development_token_claims(*, user_id: str, email: str = "", name: str = "", minutes: int = 15) -> dict[str, Any]:
    """Claims shaped like the ones Better Auth's jwt() plugin signs, for local use and tests."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "id": user_id,
        "sub": user_id,
        "email": email,
        "name": name,
        "emailVerified": False,
        "image": None,
        "iat": now,
        "exp": now + minutes * 60,
    }
    if auth_settings.ISSUER:
        claims["iss"] = auth_settings.ISSUER
    if auth_settings.AUDIENCE:
        claims["aud"] = auth_settings.AUDIENCE[0]
    return claims


def development_token(*, user_id: str, email: str = "", name: str = "", minutes: int = 15) -> str:
    """An HS256 token signed with BETTER_AUTH_SECRET that this server accepts."""
    if not settings.BETTER_AUTH_SECRET:
        raise ValueError("BETTER_AUTH_SECRET is not set, so no token can be signed.")
    claims = development_token_claims(user_id=user_id, email=email, name=name, minutes=minutes)
    return jwt.encode(claims, settings.BETTER_AUTH_SECRET, algorithm="HS256")
