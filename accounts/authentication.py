from typing import Any

from rest_framework import exceptions, status
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.jwks import JWKSUnavailable
from accounts.models import User
from accounts.tokens import BetterAuthTokenVerifier, TokenError
from accounts.user_cache import recent_tokens, recent_users


class AccountDisabled(exceptions.PermissionDenied):
    """The token is valid but an operator has deactivated the account."""

    default_detail = "This account has been deactivated."
    default_code = "account_disabled"


class SigningKeysUnavailable(exceptions.APIException):
    """Better Auth's JWKS cannot be fetched and no key is cached: a 503 to retry, not a 401."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The token's signing keys cannot be fetched from Better Auth right now; retry shortly."
    default_code = "jwks_unavailable"

    def __init__(self, wait: int):
        super().__init__()
        self.wait = wait  # DRF turns `wait` into a Retry-After header.


class BetterAuthAuthentication(JWTAuthentication):
    """Authenticates ``Authorization: Bearer <jwt>`` with a token issued by Better Auth.

    Verification comes from ``BetterAuthTokenVerifier``. Returns ``None`` without an
    Authorization header, so the request is answered 401 by the permission check; raises
    ``AuthenticationFailed`` (401) for a header that is not ``Bearer <token>`` and for a bad
    token, ``AccountDisabled`` (403) for a deactivated user, and ``SigningKeysUnavailable``
    (503) when the JWKS is needed but cannot be fetched.
    """

    www_authenticate_realm = "api"

    def get_raw_token(self, header: bytes) -> bytes | None:
        """The token of a ``Bearer <token>`` header, the scheme in any case (RFC 7235).

        This API knows no other scheme, so another one is a client's mistake worth naming
        rather than the anonymous request simplejwt would make of it.
        """
        parts = header.split()
        if not parts:
            return None
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'.", code="bad_authorization_header"
            )
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> dict[str, Any]:
        try:
            # A token this process verified moments ago is not verified again (accounts/user_cache.py).
            return recent_tokens.claims_for(raw_token, lambda raw: BetterAuthTokenVerifier.from_settings().verify(raw))
        except TokenError as e:
            raise exceptions.AuthenticationFailed(e.message, code=e.code) from e
        except JWKSUnavailable as e:
            raise SigningKeysUnavailable(wait=e.retry_after) from e

    def get_user(self, validated_token: dict[str, Any]) -> User:
        # Warm requests read the user from this process's memory (accounts/user_cache.py).
        user = recent_users.user_for(validated_token)
        if not user.is_active:
            raise AccountDisabled()
        return user
