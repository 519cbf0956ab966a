"""Better Auth's public signing keys (its JWKS), fetched with a deadline and cached.

Two layers: each process keeps the keys in memory, so a request normally costs no I/O at
all, and Django's cache shares the last fetched set between processes (Redis in
production), so a fleet of workers fetches about once per refresh, not once per worker.
"""

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.request import Request, urlopen

import jwt
from django.core.cache import caches

from accounts.settings import auth_settings

logger = logging.getLogger("accounts.jwks")

Key = dict[str, Any]  # one public JWK, as published

# JWK members that only a private key has; a set publishing them is misconfigured.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class JWKSFetchError(Exception):
    """The key set could not be fetched or is not a JWKS."""


class JWKSUnavailable(Exception):
    """No keys are known and the key set cannot be fetched right now."""

    def __init__(self, retry_after: int):
        super().__init__("The signing keys are unavailable.")
        self.retry_after = retry_after


def fetch_jwks(url: str, *, timeout: float, max_bytes: int) -> dict[str, Any]:
    """The JWKS at ``url``, read within ``timeout`` seconds overall and ``max_bytes`` at most."""
    deadline = time.monotonic() + timeout
    request = Request(url, headers={"Accept": "application/json"})
    try:
        with urlopen(request, timeout=timeout) as response:
            body = b""
            # Read in chunks so a server dripping bytes cannot hold the request past the deadline.
            while chunk := response.read(8192):
                body += chunk
                if len(body) > max_bytes:
                    raise JWKSFetchError(f"the response is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise JWKSFetchError(f"the response took longer than {timeout} seconds")
    except JWKSFetchError:
        raise
    except Exception as e:  # URLError, HTTPError, timeouts, broken connections, bad URLs
        raise JWKSFetchError(f"{e.__class__.__name__}: {e}") from e
    try:
        jwks = json.loads(body)
    except ValueError as e:
        raise JWKSFetchError("the response is not JSON") from e
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise JWKSFetchError("the response is not a JSON Web Key Set")
    return jwks


def usable_keys(jwks: dict[str, Any]) -> dict[str | None, Key]:
    """The set's signature keys by ``kid``; keys PyJWT cannot read are logged and left out."""
    keys: dict[str | None, Key] = {}
    for jwk in jwks.get("keys", []):
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        kid = jwk.get("kid")
        if any(member in jwk for member in PRIVATE_MEMBERS):
            # A secret or private key must never verify anything: whoever can read the set could sign.
            logger.warning("ignoring JWKS key %r: it carries private or symmetric key material", kid)
            continue
        try:
            jwt.PyJWK(jwk)
        except Exception as e:  # whatever a key holds (an "alg" list, say), it is skipped, never a crash
            logger.warning("ignoring JWKS key %r: %s", kid, e)
            continue
        if kid is None or isinstance(kid, str):
            keys[kid] = jwk
    return keys


def _pick(keys: dict[str | None, Key], kid: str | None) -> Key | None:
    if kid in keys:
        return keys[kid]
    # A token without kid is unambiguous only against a set of exactly one key.
    if kid is None and len(keys) == 1:
        return next(iter(keys.values()))
    return None


class StaticJWKS:
    """A key set given in settings, for deployments that cannot reach Better Auth."""

    def __init__(self, jwks: dict[str, Any]):
        self.keys = usable_keys(jwks)

    def get(self, kid: str | None) -> Key | None:
        return _pick(self.keys, kid)


class JWKSCache:
    """The key set at ``url``, refreshed every ``max_age`` seconds and on an unknown ``kid``.

    Fetches happen at most once per ``cooldown`` seconds (counting fetches by other processes
    seen through the shared cache), so a flood of made-up key ids costs no fetch storm, and a
    JWKS host that is down costs one slow request per cooldown, not one per request. While
    the host is down the keys already known keep working.
    """

    def __init__(
        self,
        url: str,
        *,
        max_age: float,
        cooldown: float,
        timeout: float,
        max_bytes: int,
        cache_alias: str = "default",
        fetch: Callable[..., dict[str, Any]] | None = None,
        clock: Callable[[], float] | None = None,
    ):
        self.url = url
        self.max_age = max_age
        self.cooldown = cooldown
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache_alias = cache_alias
        self.fetch = fetch or fetch_jwks
        self.clock = clock or time.time
        self.cache_key = "better-auth-jwks:" + hashlib.sha256(url.encode()).hexdigest()[:32]
        self.keys: dict[str | None, Key] = {}
        self.fetched_at = -math.inf
        self.last_attempt = -math.inf
        self.failing = False

    def get(self, kid: str | None) -> Key | None:
        """The key for ``kid``, or None when the set has no such key.

        Raises ``JWKSUnavailable`` when no key is known at all and the set cannot be fetched.
        """
        now = self.clock()
        key = _pick(self.keys, kid)
        if key is not None and now - self.fetched_at < self.max_age:
            return key
        # A stale set or an unknown kid (perhaps a key rotated in): another process may have
        # fetched the set already.
        self._adopt_shared()
        key = _pick(self.keys, kid)
        if key is not None and now - self.fetched_at < self.max_age:
            return key
        if now - max(self.fetched_at, self.last_attempt) >= self.cooldown:
            self._refresh(now)
            key = _pick(self.keys, kid)
        if not self.keys and self.failing:
            wait = self.cooldown - (now - self.last_attempt)
            raise JWKSUnavailable(retry_after=max(1, math.ceil(wait)))
        return key  # possibly from a stale set: better than nothing while the host is down

    def _refresh(self, now: float) -> None:
        self.last_attempt = now
        try:
            jwks = self.fetch(self.url, timeout=self.timeout, max_bytes=self.max_bytes)
        except JWKSFetchError as e:
            self.failing = True
            logger.warning("cannot fetch the JWKS from %s: %s", self.url, e)
            return
        self.keys, self.fetched_at, self.failing = usable_keys(jwks), now, False
        self._share({"jwks": jwks, "fetched_at": now})

    def _adopt_shared(self) -> None:
        entry = self._shared()
        if entry and entry["fetched_at"] > self.fetched_at:
            self.keys, self.fetched_at, self.failing = usable_keys(entry["jwks"]), entry["fetched_at"], False

    # The shared layer only saves fetches: when the cache backend fails, carry on without it.

    def _shared(self) -> dict[str, Any] | None:
        try:
            return caches[self.cache_alias].get(self.cache_key)
        except Exception:
            logger.warning("cannot read the shared JWKS cache", exc_info=True)
            return None

    def _share(self, entry: dict[str, Any]) -> None:
        try:
            # Kept without expiry: a set of any age beats none when the JWKS host is down.
            caches[self.cache_alias].set(self.cache_key, entry, timeout=None)
        except Exception:
            logger.warning("cannot write the shared JWKS cache", exc_info=True)


# One key set per configuration and process, so the cache outlives a request.
_key_sets: dict[str, StaticJWKS | JWKSCache] = {}


def key_set_from_settings() -> StaticJWKS | JWKSCache | None:
    """The process's key set as settings configure it, or None when JWKS tokens are off."""
    if not auth_settings.JWKS_ALGORITHMS:
        return None
    static, url = auth_settings.JWKS, auth_settings.JWKS_URL
    options = {
        "max_age": auth_settings.JWKS_CACHE_SECONDS,
        "cooldown": auth_settings.JWKS_REFETCH_COOLDOWN_SECONDS,
        "timeout": auth_settings.JWKS_TIMEOUT_SECONDS,
        "max_bytes": auth_settings.JWKS_MAX_BYTES,
        "cache_alias": auth_settings.JWKS_CACHE_ALIAS,
    }
    signature = json.dumps([static, url, options], sort_keys=True)
    if signature not in _key_sets:
        _key_sets[signature] = StaticJWKS(static) if static is not None else JWKSCache(url, **options)
    return _key_sets[signature]
