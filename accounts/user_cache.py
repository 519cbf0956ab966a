"""Per-process memories of recent tokens and their users, so a warm request neither verifies a
signature again nor reads a user row.

A user is remembered for `auth_settings.USER_CACHE_SECONDS` (30 s by default): an operator's
deactivation, made in another process, is seen within that time. A user entry remembers the
email and name it was synced with; a token carrying others goes through `user_sync_from_claims`,
so profile changes are written as before. A verified token's claims are remembered, under the
token's SHA-256, for `TOKEN_CACHE_SECONDS` (600 s, as long as the JWKS's keys are trusted) and
never past its `exp` (plus the leeway): a token signed once stays valid until it expires, so only
a withdrawn key argues for forgetting it sooner. With 10,000 users a process meets each about
once a minute, so a 30 s memory of tokens would verify nearly every request again. The token
memory is bounded by bytes (32 MiB as counted), so large tokens cannot grow a worker without end."""

import hashlib
import threading
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from accounts.models import User
from accounts.services import API_USER_FIELDS, profile_from_claims, user_sync_from_claims
from accounts.settings import auth_settings


class RecentUsers:
    """Users keyed by token subject, each for a few seconds; at most `max_entries` of them."""

    def __init__(self, max_entries: int = 20_000, clock=time.monotonic):
        self.max_entries, self.clock = max_entries, clock
        self._entries: dict[str, tuple[float, dict[str, str], tuple]] = {}
        self._lock = threading.Lock()

    def user_for(self, claims: dict[str, Any]) -> User:
        """The user the claims speak for: from memory when fresh and unchanged, else synced."""
        ttl = auth_settings.USER_CACHE_SECONDS
        profile = profile_from_claims(claims)
        entry = self._entries.get(claims["sub"])
        if entry is not None and entry[0] > self.clock() and entry[1] == profile:
            # A fresh instance per request: no request sees another's changes to it.
            return User.from_db(DEFAULT_DB_ALIAS, API_USER_FIELDS, entry[2])
        user = user_sync_from_claims(claims=claims)
        if ttl > 0:
            self._remember(claims["sub"], self.clock() + ttl, profile, tuple(getattr(user, f) for f in API_USER_FIELDS))
        return user

    def _remember(self, subject: str, expires: float, profile: dict[str, str], values: tuple) -> None:
        """Stores the entry last; when full, first drops the stalest (insertion order is expiry order)."""
        with self._lock:
            self._entries.pop(subject, None)
            if len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[subject] = (expires, profile, values)

    def forget(self, subject: str) -> None:
        with self._lock:
            self._entries.pop(subject, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RecentTokens:
    """Claims of tokens this process verified, keyed by the token's SHA-256; `max_bytes` of them.

    Bounded by size, not count: a token's claims take about as much memory as the token, and
    tokens may be 8 KB each (accounts.tokens.MAX_TOKEN_LENGTH).
    """

    # An entry's memory besides its claims' text (dict, digest, tuple, small claim values), on
    # the high side of what tracemalloc shows; bench/token_memory.py measures a whole process.
    ENTRY_OVERHEAD = 1_500

    def __init__(self, max_bytes: int = 32 * 2**20, clock=time.monotonic, wall_clock=time.time):
        self.max_bytes, self.clock, self.wall_clock = max_bytes, clock, wall_clock
        self._entries: dict[bytes, tuple[float, dict[str, Any], int]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @classmethod
    def cost(cls, raw: bytes) -> int:
        """What remembering the token is counted as against `max_bytes`."""
        return cls.ENTRY_OVERHEAD + len(raw)

    def claims_for(self, raw: bytes, verify) -> dict[str, Any]:
        """The token's claims: remembered while fresh, else `verify(raw)`'s (which may raise)."""
        digest = hashlib.sha256(raw).digest()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > self.clock():
            return dict(entry[1])  # a copy per request, as a fresh verification would give
        claims = verify(raw)
        lifetime = self._lifetime(claims)
        if lifetime > 0:
            self._remember(digest, (self.clock() + lifetime, claims, self.cost(raw)))
        return dict(claims)

    def _remember(self, digest: bytes, entry: tuple[float, dict[str, Any], int]) -> None:
        """Stores `entry` last, first dropping the stalest entries (the first ones) it needs room from."""
        with self._lock:
            if (replaced := self._entries.pop(digest, None)) is not None:
                self._bytes -= replaced[2]
            while self._entries and self._bytes + entry[2] > self.max_bytes:
                self._bytes -= self._entries.pop(next(iter(self._entries)))[2]
            self._entries[digest] = entry
            self._bytes += entry[2]

    def _lifetime(self, claims: dict[str, Any]) -> float:
        lifetime = auth_settings.TOKEN_CACHE_SECONDS
        if "exp" in claims:  # verified, so int() takes it (PyJWT checks exactly that)
            lifetime = min(lifetime, int(claims["exp"]) + auth_settings.LEEWAY_SECONDS - self.wall_clock())
        return lifetime

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


recent_users = RecentUsers()
recent_tokens = RecentTokens()


def forget_deleted_user(sender, instance: User, **kwargs) -> None:
    """`post_delete` receiver: the process that deletes a user forgets them at once (others
    notice on their next write, accounts.authentication.account_deleted_instead_of)."""
    if instance.better_auth_id:
        recent_users.forget(instance.better_auth_id)
