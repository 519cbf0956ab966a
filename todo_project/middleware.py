"""HTTP-level guards that run before any view: conditional GETs, the request body limit, query strings."""

import io

from django.conf import settings
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.middleware.http import ConditionalGetMiddleware

from todo_project.errors import ErrorResponse, error_body
from todo_project.parsers import NOT_TEXT, undecodable_query_parameter


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
    """Answers 413 to a request body over ``API_MAX_BODY_BYTES`` before anything parses it."""

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
        elif request.META.get("wsgi.input_terminated"):
            # A chunked body has no length up front. The server (gunicorn) ends the stream with
            # the body, so read one byte past the limit at most, and hand Django what was read;
            # without this Django would see no body at all.
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return self.too_large(limit)
            if body:
                request.META["CONTENT_LENGTH"] = str(len(body))
                request._stream = io.BytesIO(body)
        return self.get_response(request)

    @staticmethod
    def too_large(limit: int) -> ErrorResponse:
        return ErrorResponse(error_body("request_too_large", f"The request body is larger than {limit} bytes."), status=413)


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
