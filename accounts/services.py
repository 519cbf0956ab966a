import functools
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import User
from accounts.tokens import UNSTORABLE_CHARACTERS
from core.db import CompiledQuery, Param

# Profile fields copied from the token's claims, as (model field, claim, max length).
PROFILE_CLAIMS = (("email", "email", 254), ("name", "name", 255))

# `last_seen_at` is written at most this often, so a burst of requests costs one write.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


# What the API reads of its caller (anything else loads on first access), in the model's field
# order, which is the order Model.from_db() expects the values in (accounts.user_cache).
API_USER_FIELDS = tuple(
    f.attname
    for f in User._meta.concrete_fields
    if f.attname in {"id", "better_auth_id", "email", "name", "is_active", "last_seen_at"}
)


@functools.cache
def _user_read(using: str) -> CompiledQuery:
    subject = Param("subject", User._meta.get_field("better_auth_id"))
    return CompiledQuery(User.objects.using(using).filter(better_auth_id=subject).only(*API_USER_FIELDS))


def user_by_subject(better_auth_id: str, using: str = DEFAULT_DB_ALIAS) -> User | None:
    """The user a token subject names, with API_USER_FIELDS loaded; compiled once per process
    (bench/README.md, "Fast paths that stay": "The user read compiled once")."""
    users = _user_read(using).instances(subject=better_auth_id)
    return users[0] if users else None


def profile_from_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The email and name a token carries, cut to what the user row holds."""
    profile = {}
    for field_name, claim, max_length in PROFILE_CLAIMS:
        value = claims.get(claim)
        # Better Auth never signs characters a database cannot store, but a 500 would be worse.
        profile[field_name] = UNSTORABLE_CHARACTERS.sub("", value)[:max_length] if isinstance(value, str) else ""
    return profile


def user_sync_from_claims(*, claims: dict[str, Any]) -> User:
    """The user a verified token speaks for, provisioned on first sight.

    Email and name follow the claims, written only when they changed, and `last_seen_at` only
    every few minutes, so a steady stream of requests from one user costs one read and no write.
    """
    better_auth_id = claims["sub"]
    profile = profile_from_claims(claims)
    now = timezone.now()
    user = user_by_subject(better_auth_id)
    if user is None:
        try:
            with transaction.atomic():
                user = User(better_auth_id=better_auth_id, last_seen_at=now, **profile)
                user.set_unusable_password()  # Better Auth owns sign-in; never a password here.
                user.save(force_insert=True)
                return user
        except IntegrityError:
            # Two first requests raced; the other one created the row.
            user = User.objects.get(better_auth_id=better_auth_id)
    changed = [name for name, value in profile.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, profile[name])
    if user.last_seen_at is None or now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
        user.last_seen_at = now
        changed.append("last_seen_at")
    if changed:
        user.save(update_fields=changed)
    return user


@functools.cache
def _user_lock(using: str) -> CompiledQuery:
    subject = Param("subject", User._meta.get_field("better_auth_id"))
    return CompiledQuery(
        User.objects.using(using).filter(better_auth_id=subject).values("pk").select_for_update(no_key=True)
    )


def user_lock(*, user_id: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Locks the user's row until the transaction ends (it must be in one).

    Every write that counts a user's rows against a limit takes it before counting, so two
    requests that each see room for one more run one after the other: 16 creates at once
    stay within the limit. Removing a user's rows that another request may be reusing (unused
    tags) takes it too. SQLite has no row locks: there every transaction takes the database's
    write lock when it begins (`transaction_mode` IMMEDIATE in settings.py), with the same
    effect, and this does nothing. Compiled once, as the user read is: it is on every create.
    FOR NO KEY UPDATE: lockers wait for each other, while inserts that only reference the user
    (their foreign key's KEY SHARE) do not wait.
    """
    connection = connections[using]
    if not connection.features.has_select_for_update:
        return
    if not connection.in_atomic_block:
        raise TransactionManagementError("user_lock() holds the lock until the transaction ends: call it in one.")
    _user_lock(using).value(subject=user_id)
