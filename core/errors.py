"""One JSON error shape for every failure: API exceptions, unknown URLs and crashes.

    {"code": "validation_failed", "message": "title: This field may not be blank.",
     "fields": {"title": [{"code": "blank", "message": "This field may not be blank."}]}}

``code`` is stable and machine-readable, ``message`` is for humans, ``fields`` appears on
validation errors only and names each offending field.
"""

import itertools
import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from core.throttling import throttle_failed_authentication

logger = logging.getLogger("core.errors")

RETRY_AFTER_SECONDS = 5
# An error names at most this many fields: 6,500 unknown keys made an answer of 402 KB, six
# times the request. The first ones are enough to fix the request by.
MAX_FIELDS_LISTED = 20


class DatabaseUnavailable(exceptions.APIException):
    """The database cannot be reached; the client should retry shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; retry shortly."
    default_code = "database_unavailable"
    wait = RETRY_AFTER_SECONDS  # DRF turns `wait` into a Retry-After header.


class QueryTimeout(exceptions.APIException):
    """A query ran past the statement timeout and PostgreSQL cancelled it.

    No Retry-After: the same request would most likely run as long again, and clients retrying
    on cue would pile the same slow queries onto the database.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The request took too long at the database and was cancelled."
    default_code = "query_timeout"


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout)


def _database_error(exc: Exception) -> exceptions.APIException:
    """What a database error is answered with: a cancelled query, or an unavailable database."""
    if getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED:
        logger.warning("query cancelled by the statement timeout")
        return QueryTimeout()
    # The class and PostgreSQL's SQLSTATE say what failed; the message may quote data.
    logger.warning(
        "database unavailable: %s %s", exc.__class__.__name__, getattr(exc.__cause__, "sqlstate", None) or ""
    )
    return DatabaseUnavailable()


class RequestTooLarge(exceptions.APIException):
    """The request body is over the configured limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def _field_errors(detail: Any, path: str = "") -> dict[str, list[dict[str, str]]]:
    """Flattens DRF's nested error detail into {"tags.3": [{"code", "message"}], ...}."""
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and detail and not isinstance(detail[0], exceptions.ErrorDetail):
        items = enumerate(detail)
    else:
        errors = detail if isinstance(detail, list) else [detail]
        return {path or "non_field_errors": [{"code": e.code, "message": str(e)} for e in errors]}
    flat: dict[str, list[dict[str, str]]] = {}
    for key, value in items:
        flat.update(_field_errors(value, f"{path}.{key}" if path else str(key)))
    return flat


def _body_for(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        fields = dict(itertools.islice(_field_errors(exc.detail).items(), MAX_FIELDS_LISTED))
        first_field, first_errors = next(iter(fields.items()))
        prefix = "" if first_field == "non_field_errors" else f"{first_field}: "
        return error_body("validation_failed", prefix + first_errors[0]["message"], fields)
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:
        # simplejwt's errors carry {"detail": ..., "code": ...}.
        detail = exceptions.ErrorDetail(str(detail["detail"]), code=str(detail.get("code", exc.default_code)))
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) else None
    return error_body(code or exc.default_code, str(detail))


def _bearer_challenge(exc: exceptions.APIException) -> str | None:
    """RFC 6750 challenge: `invalid_token` with a description when a token was sent and failed."""
    header = getattr(exc, "auth_header", None)
    if header and isinstance(exc, exceptions.AuthenticationFailed):
        description = _body_for(exc)["message"].replace('"', "'").replace("\\", "/")
        return f'{header}, error="invalid_token", error_description="{description}"'
    return header


def _translated(exc: Exception, request) -> Exception:
    """`exc` as each of settings.API_EXCEPTION_TRANSLATORS sees it: the apps' own readings of a
    failure (say, a write that broke because its user was deleted), without the core importing them."""
    for path in settings.API_EXCEPTION_TRANSLATORS:
        exc = import_string(path)(exc, request)
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's handler, answering every exception in the one error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        exc = _database_error(exc)
    exc = _translated(exc, context.get("request"))
    exc = throttle_failed_authentication(exc, context.get("request"), context.get("view"))

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error", exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # An exception may add to the shape (a 412's current task) and set headers (its ETag).
    response.data = {**_body_for(exc), **getattr(exc, "extra_body", {})}
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    if challenge := _bearer_challenge(exc):
        response["WWW-Authenticate"] = challenge
    return response


class ErrorResponse(HttpResponse):
    """An error answered from outside DRF's views (middleware, Django's handlers), rendered by
    the API's renderer: the same bytes a DRF view would send for it."""

    def __init__(self, body: dict[str, Any], *, status: int):
        renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()
        super().__init__(renderer.render(body), status=status, content_type=renderer.media_type)


# Django-level handlers, for what never reaches a DRF view (unknown URLs, crashes elsewhere).


@csrf_exempt  # an unknown URL is a JSON 404 whatever the method, not the CSRF check's HTML 403
def not_found(request, exception=None) -> ErrorResponse:
    return ErrorResponse(error_body("not_found", "Not found."), status=404)


def bad_request(request, exception=None) -> ErrorResponse:
    return ErrorResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied(request, exception=None) -> ErrorResponse:
    return ErrorResponse(error_body("permission_denied", "You do not have permission to do this."), status=403)


def database_unavailable() -> ErrorResponse:
    """503 `database_unavailable` with Retry-After, from outside DRF's views."""
    response = ErrorResponse(error_body("database_unavailable", DatabaseUnavailable.default_detail), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request) -> ErrorResponse:
    # Called while Django handles the exception, so it can tell an outage from a crash.
    if isinstance(exc := sys.exc_info()[1], (OperationalError, InterfaceError)):
        error = _database_error(exc)
        response = ErrorResponse(error_body(error.default_code, error.default_detail), status=error.status_code)
        if wait := getattr(error, "wait", None):
            response["Retry-After"] = str(wait)
        return response
    return ErrorResponse(error_body("server_error", "Something went wrong on our side."), status=500)
