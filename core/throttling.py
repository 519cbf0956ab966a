"""Request budgets: per user for reads and for writes, per client address without a valid token.

Counters live in Django's default cache (Redis, or the database without it), so every process
of every instance spends from one budget; their keys carry a hash of the user or address, so
they have one length whatever the identity. Each budget is a fixed window of N requests per
period, counted with `add` and `incr`, which Redis does atomically. Health checks have none.
"""

import functools
import hashlib
import logging
import time
from collections.abc import Sequence

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger("core.throttling")

# When the shared cache last failed this process (monotonic seconds): other users of Redis on a
# request's path (the change feed's hint, core.changes) then leave it alone for a while, so that a
# frozen Redis costs a request one timeout, its throttle's, not one per use.
_cache_failed_at = float("-inf")


def cache_failed() -> None:
    global _cache_failed_at
    _cache_failed_at = time.monotonic()


def cache_failing(within: float = 10.0) -> bool:
    """Whether the shared cache failed in this process within the last `within` seconds."""
    return time.monotonic() - _cache_failed_at < within


class FixedWindowThrottle(SimpleRateThrottle):
    """At most `rate` requests per window for each key `get_cache_key` gives."""

    def get_rate(self) -> str | None:
        # Read on every request (not once at import), so the rates follow the settings.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.seconds_left = (window + 1) * self.duration - now
        counter = f"throttle:{self.scope}:{bounded(key)}:{window}"
        peek = view.throttle_peek(request) if hasattr(view, "throttle_peek") else ()
        try:
            count, peeked = window_count(counter, timeout=self.duration + 1, peek=peek)
        except Exception:
            # A budget is a guard, not a dependency: without its cache, serve the request.
            cache_failed()
            logger.warning("throttle cache unavailable; letting the request through", exc_info=True)
            return True
        if peek and peeked is not None:
            request.throttle_peeked = dict(zip(peek, peeked, strict=True))
        return count <= self.num_requests

    def wait(self) -> float:
        return self.seconds_left


def bounded(identity: str) -> str:
    """A fixed-length stand-in for a user id or client address in a cache key.

    Subjects run to 255 characters and a forwarded address is whatever the client wrote; the
    database cache's keys hold 255 and memcached's 250, and a key they refuse lets every
    request through.
    """
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def window_count(counter: str, *, timeout: int, peek: Sequence[str] = ()) -> tuple[int, list | None]:
    """Adds one to a window's counter, created at 0 if missing, and returns the new count, with
    the raw values of the cache keys `peek` names, read in the same round trip (None for a key
    Redis does not hold; None for the list without Redis).

    A view whose answer may hang on such a key (the change feed's hint, core.changes) names it
    in `throttle_peek(request)`, and finds what was read in `request.throttle_peeked`.
    """
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Django's add then incr costs three round trips (SET NX, EXISTS, INCR) on every
        # request; as one script, the same two commands cost one. Django stores ints as Redis
        # integers, so cache.get() reads the counter as before.
        keys = [cache.make_and_validate_key(name) for name in (counter, *peek)]
        client, script = _redis_counter(cache._cache)
        answer = script(keys=keys, args=[timeout], client=client)
        # One flat array, the count first: a nested one costs the client a second parse.
        return (answer[0], answer[1:]) if peek else (answer, [])
    cache.add(counter, 0, timeout=timeout)
    return cache.incr(counter), None


WINDOW_COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
if #KEYS == 1 then
    return count
end
return {count, unpack(redis.call('MGET', unpack(KEYS, 2)))}
"""


@functools.lru_cache(maxsize=64)
def _redis_counter(cache_client):
    """A Redis client on the cache's write pool and the counting script, made once per cache client.

    Django makes a new client object on every call, and a client or a pipeline copies redis-py's
    table of response callbacks when made: a tenth of a list request's time before this.
    """
    client = cache_client.get_client(write=True)  # Django's client writes to its first server only
    return client, client.register_script(WINDOW_COUNT_SCRIPT)


class UserReadThrottle(FixedWindowThrottle):
    """Reads (GET, HEAD, OPTIONS) of one signed-in user."""

    scope = "read"

    def get_cache_key(self, request, view) -> str | None:
        if request.user is None or request.method not in SAFE_METHODS:
            return None
        return request.user.better_auth_id


class UserWriteThrottle(FixedWindowThrottle):
    """Writes (POST, PUT, PATCH, DELETE) of one signed-in user."""

    scope = "write"

    def get_cache_key(self, request, view) -> str | None:
        if request.user is None or request.method in SAFE_METHODS:
            return None
        return request.user.better_auth_id


class AnonymousThrottle(FixedWindowThrottle):
    """Requests without a valid token, by client address (NUM_PROXIES says which one)."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        # A Django request that no view has seen yet has no `user`: it is anonymous too.
        return self.get_ident(request) if getattr(request, "user", None) is None else None


def anonymous_budget_spent(request) -> float | None:
    """Counts a request refused before any view against its address's anonymous budget:
    None while within it, else the seconds to wait."""
    throttle = AnonymousThrottle()
    return None if throttle.allow_request(request, None) else throttle.wait()


def throttle_failed_authentication(exc: Exception, request, view) -> Exception:
    """A 401 counts against the client address's budget; over it, the answer is a 429.

    DRF checks throttles only after authentication succeeds, so without this a client could
    try tokens at full speed.
    """
    if not isinstance(exc, (NotAuthenticated, AuthenticationFailed)) or request is None or view is None:
        return exc
    if getattr(view, "throttle_classes", None) == []:
        return exc
    throttle = AnonymousThrottle()
    if throttle.allow_request(request, view):
        return exc
    return Throttled(wait=throttle.wait())
