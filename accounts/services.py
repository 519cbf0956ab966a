from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User

# Profile fields copied from the token's claims, as (model field, claim, max length).
PROFILE_CLAIMS = (("email", "email", 254), ("name", "name", 255))


def _profile_from_claims(claims: dict[str, Any]) -> dict[str, str]:
    profile = {}
    for field_name, claim, max_length in PROFILE_CLAIMS:
        value = claims.get(claim)
        profile[field_name] = value[:max_length] if isinstance(value, str) else ""
    return profile


def user_sync_from_claims(*, claims: dict[str, Any]) -> User:
    """The user a verified token speaks for, provisioned on first sight.

    Email and name follow the claims, written only when they changed, so a steady stream of
    requests from one user costs one read and no write.
    """
    better_auth_id = claims["sub"]
    profile = _profile_from_claims(claims)
    user = User.objects.filter(better_auth_id=better_auth_id).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(better_auth_id=better_auth_id, **profile)
                user.set_unusable_password()  # Better Auth owns sign-in; never a password here.
                user.save(force_insert=True)
                return user
        except IntegrityError:
            # Two first requests raced; the other one created the row.
            user = User.objects.get(better_auth_id=better_auth_id)
    changed = [name for name, value in profile.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, profile[name])
        user.save(update_fields=changed)
    return user
