import logging
from typing import Any

from django.db import DatabaseError, IntegrityError
from rest_framework import exceptions, status
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.jwks import JWKSUnavailable
from accounts.models import User
from accounts.tokens import BetterAuthTokenVerifier, TokenError
from accounts.user_cache import recent_tokens, recent_users

logger = logging.getLogger("accounts.authentication")


class AccountDisabled(exceptions.PermissionDenied):
    """The token is valid but an operator has deactivated the account."""

    default_detail = "This account has been deactivated."
    default_code = "account_disabled"


class AccountDeleted(exceptions.AuthenticationFailed):
    """The token's user was deleted by an operator while this process still remembered them."""

    default_detail = "This account was deleted, and its data with it; signing in again starts a new, empty account."
    default_code = "account_deleted"


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


def account_deleted_instead_of(exc: Exception, request) -> Exception:
    """`AccountDeleted` for a write that failed because its user's row is gone, else `exc`.

    A process remembers a user for USER_CACHE_SECONDS (accounts/user_cache.py), so it can act
    for a user an operator deleted in another process: the first write then breaks the foreign
    key to the user. That process forgets the user, so the token's next request signs in as a
    new, empty account, as it would anywhere else.
    """
    if not isinstance(exc, IntegrityError) or request is None:
        return exc
    user = request.user
    if user is None or not user.better_auth_id:
        return exc
    try:
        if User.objects.filter(better_auth_id=user.better_auth_id).exists():
            return exc
    except DatabaseError:
        return exc
    logger.info("a deleted user's write was refused; forgetting the remembered row")
    recent_users.forget(user.better_auth_id)
    deleted = AccountDeleted()
    deleted.auth_header = BetterAuthAuthentication().authenticate_header(request)
    return deleted
