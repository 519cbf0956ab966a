"""One log line per request, and the request id on every record made while it runs.

The JSON form writes only the fields named here (never a header, a body or a query string),
so no token or secret can reach the logs by way of a record's extras.
"""

import json
import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.utils.functional import SimpleLazyObject

logger = logging.getLogger("todo_project.requests")

# Ids a client or proxy may choose: bounded and plain, so they cannot forge a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# The per-request fields a record may carry, in the order they are written.
REQUEST_FIELDS = ("user_id", "method", "route", "status", "duration_ms")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is sane, a fresh one otherwise."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _better_auth_id(request) -> str | None:
    # DRF puts the API user it authenticated on the Django request. The admin's session user
    # is a lazy object left unevaluated (operators have no Better Auth id), so this costs no query.
    user = getattr(request, "user", None)
    if user is None or isinstance(user, SimpleLazyObject):
        return None
    return getattr(user, "better_auth_id", None)


def _route(request) -> str | None:
    # The URL pattern's name (`task-detail`, `admin:tasks_task_change`), never the path with ids.
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else None


class RequestLogMiddleware:
    """Tags the request with an id (echoed in X-Request-ID) and logs one line when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id_from(request.headers.get("X-Request-ID"))
        token = request_id_var.set(request.id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            fields = {
                "user_id": _better_auth_id(request),
                "method": request.method,
                "route": _route(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            logger.log(level, "%(method)s %(route)s %(status)s %(duration_ms)sms", fields, extra=fields)
            return response
        finally:
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """A record as one JSON object a line: time, level, logger, message, request fields, stack."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        line.update((name, getattr(record, name)) for name in REQUEST_FIELDS if hasattr(record, name))
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, default=str)
