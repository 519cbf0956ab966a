"""HTTP-level guards that run before any view: private caching, conditional GETs, the request
body's size and arrival, turns at the database, query strings."""

import collections
import contextlib
import io
import logging
import math
import sys
import threading
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db import close_old_connections
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import patch_cache_control
from gunicorn.http.errors import ParseException

from core.errors import ErrorResponse, database_unavailable, error_body
from core.parsers import NOT_TEXT, charset_refusal, undecodable_query_parameter
from core.throttling import anonymous_budget_spent

logger = logging.getLogger("core.middleware")


def private_answers(get_response):
    """``Cache-Control: private, no-cache`` on every answer to a request with credentials.

    No shared cache (a CDN, a company proxy) may keep one user's tasks for another; the browser
    may keep them, and revalidates with the ETag each time (304 when nothing changed). It runs
    outside every other layer, so 304s, errors and 413s carry it too.
    """

    def middleware(request):
        response = get_response(request)
        if "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_cache=True)
        return response

    return middleware


class JsonConditionalGetMiddleware(ConditionalGetMiddleware):
    """Django's ETags and 304s for every GET, with its rare bare 412 (GET + If-Match) made JSON."""

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if response.status_code == 412 and not response.content:
            etag = response.get("ETag")
            response = ErrorResponse(
                error_body("precondition_failed", "The resource does not match If-Match."), status=412
            )
            if etag:
                response["ETag"] = etag
        return response


class BodySizeLimitMiddleware:
    """Reads a request's body before anything else runs: 413 over ``API_MAX_BODY_BYTES``, 408
    when it has not arrived within ``API_BODY_TIMEOUT_SECONDS``.

    Reading it here, before authentication and before any query, means a client that sends its
    body slowly holds no database connection while it does, and is dropped in bounded time.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            if not declared.isdigit():
                return ErrorResponse(error_body("bad_request", "Content-Length is not a number."), status=400)
            if int(declared) > limit:
                return self.too_large(limit)
            size = int(declared)
        elif request.META.get("wsgi.input_terminated"):
            # A chunked body has no length up front. The server (gunicorn) ends the stream with
            # the body, so read one byte past the limit at most; without a length set below
            # Django would see no body at all.
            size = limit + 1
        else:
            size = 0
        if size:
            try:
                with arrival_deadline(settings.API_BODY_TIMEOUT_SECONDS):
                    body = request.META["wsgi.input"].read(size)
            except TimeoutError:
                message = f"The request body did not arrive within {settings.API_BODY_TIMEOUT_SECONDS} seconds."
                return ErrorResponse(error_body("request_timeout", message), status=408)
            except (ParseException, OSError) as e:
                return self.malformed(request, e)
            if len(body) > limit:
                return self.too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
        return self.get_response(request)

    @staticmethod
    def malformed(request, error: Exception) -> ErrorResponse:
        """A body the server could not read (a bad chunk, a forbidden trailer, a client gone
        mid-body): a 400, spent from the address's anonymous budget like a failed sign-in.

        gunicorn closes the connection after it (where the next request would start is
        unknown); a WSGI app may not send `Connection` itself."""
        logger.warning("unreadable request body: %s", error.__class__.__name__)
        if (wait := anonymous_budget_spent(request)) is not None:
            response = ErrorResponse(error_body("throttled", "Too many bad requests."), status=429)
            response["Retry-After"] = str(math.ceil(wait))
        else:
            response = ErrorResponse(error_body("bad_request", "The request body could not be read."), status=400)
        return response

    @staticmethod
    def too_large(limit: int) -> ErrorResponse:
        return ErrorResponse(
            error_body("request_too_large", f"The request body is larger than {limit} bytes."), status=413
        )


class FairTurns:
    """At most `size` holders at once; the others are served in the order they came.

    A freed turn goes straight to the oldest waiter. threading's and gevent's semaphores let a
    request that arrives at that moment take it instead, so under a steady load a few waiters
    lost every race and waited seconds (bench/README.md, "Fair database turns").
    """

    def __init__(self, size: int):
        self.free = size
        self.waiting = collections.deque()
        self.lock = threading.Lock()

    def take(self, timeout: float, *, first: bool = False) -> bool:
        """Waits up to `timeout` seconds for a turn, behind every waiter or (`first`) before them;
        False when none came in time. A turn taken must be given back with `release()`."""
        with self.lock:
            if self.free and (first or not self.waiting):
                self.free -= 1
                return True
            turn = threading.Event()
            if first:
                self.waiting.appendleft(turn)
            else:
                self.waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self.lock:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self.waiting.remove(turn)
        return False

    def release(self) -> None:
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()  # handed over: `free` stays as it is
            else:
                self.free += 1


# Liveness: answered without a turn, however long the database keeps the turns.
LIVENESS_PATHS = frozenset({"/healthz", "/healthz/"})
READINESS_PATHS = frozenset({"/readyz", "/readyz/"})


class DatabaseTurns:
    """At most ``DATABASE_POOL_SIZE`` requests of this process run the app at once; the rest
    wait here for their turn, in arrival order, as they would for a thread, for at most
    ``DATABASE_TURN_TIMEOUT`` seconds: then 503 ``database_unavailable`` (the turns are held by
    requests a hung database keeps waiting).

    Each of these requests can count on one of the pool's connections, so a busy moment never
    ends in the pool's 503. The connection goes back to the pool when the answer is built,
    not once a slow client has read it. ``/healthz`` takes no turn; ``/readyz`` goes before
    the waiting requests and waits at most ``DATABASE_READY_TIMEOUT``, so it answers 503 when
    the turns stay taken.
    """

    def __init__(self, get_response):
        if not settings.DATABASE_POOL_SIZE:
            raise MiddlewareNotUsed
        self.get_response = get_response
        # gevent's locks and events under the gevent worker (it patches threading).
        self.turns = FairTurns(settings.DATABASE_POOL_SIZE)

    def __call__(self, request):
        path = request.path_info
        if path in LIVENESS_PATHS:
            return self.get_response(request)
        if path in READINESS_PATHS:
            request.ready_deadline = time.monotonic() + settings.DATABASE_READY_TIMEOUT
            taken = self.turns.take(settings.DATABASE_READY_TIMEOUT, first=True)
        else:
            taken = self.turns.take(settings.DATABASE_TURN_TIMEOUT)
        if not taken:
            return database_unavailable()
        try:
            return self.get_response(request)
        finally:
            close_old_connections()
            self.turns.release()


def arrival_deadline(seconds: float):
    """Interrupts a read still waiting for the client after ``seconds`` with ``TimeoutError``.

    Only the gevent worker (gunicorn.conf.py) reads from a client while the app waits; the
    timeout raises inside gunicorn's body reader, which then closes the connection after the
    answer. Elsewhere (the test client) the body is already in memory.
    """
    if not _cooperative_sockets():
        return contextlib.nullcontext()
    import gevent

    return gevent.Timeout(seconds, TimeoutError("the request body did not arrive in time"))


def _cooperative_sockets() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


class QueryStringMiddleware:
    """Answers 400, naming the parameter, to a query string that is not UTF-8 once percent-decoded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query_string = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
        if query_string and (name := undecodable_query_parameter(query_string)) is not None:
            fields = {name: [{"code": "invalid_characters", "message": NOT_TEXT}]}
            return ErrorResponse(error_body("validation_failed", f"{name}: {NOT_TEXT}", fields), status=400)
        return self.get_response(request)


class CharsetMiddleware:
    """Refuses a body whose declared charset cannot be read (core.parsers.charset_refusal)
    before any view, the admin's included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        # Most bodies name no charset ("application/json"): nothing to parse.
        if "charset" in content_type.lower() and (refusal := charset_refusal(content_type)) is not None:
            status, code, message = refusal
            return ErrorResponse(error_body(code, message), status=status)
        return self.get_response(request)
