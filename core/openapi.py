"""How the OpenAPI document describes this API beyond what drf-spectacular infers.

Operation ids are stable names for generated clients; every operation lists the error
statuses it can really answer, in the one `Error` shape; request bodies refuse unknown
properties as the server does.
"""

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.models import IDEMPOTENCY_KEY_MAX_LENGTH

# Client-facing verbs of the viewset actions; a viewset names its resource (`operation_noun`),
# and the Phase II routes get a `User` variant: listTasks, createUserTask, getList...
OPERATION_VERBS = {
    "list": "list",
    "create": "create",
    "retrieve": "get",
    "update": "replace",
    "partial_update": "update",
    "destroy": "delete",
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `validation_failed` (with `fields`) or `parse_error`.",
    401: "No token, or a token that failed verification (`not_authenticated`, `token_expired`, ...).",
    403: "`account_disabled`, or on `/api/{user_id}/...` routes `path_user_mismatch`.",
    404: "`not_found`: nothing with this id among the caller's (other users' data is never revealed).",
    409: "`task_limit_reached`, `tag_limit_reached` or `list_limit_reached`: nothing was written; on a create "
    "with an "
    "`Idempotency-Key`, `idempotency_request_in_progress` while the first request with that key runs.",
    408: "`request_timeout`: the body did not arrive within the configured time; the connection is closed.",
    410: "`cursor_expired`: the cursor is older than the deletions the server keeps; start again without one.",
    413: "`request_too_large`: the body is over the configured limit.",
    415: "`unsupported_media_type`: bodies are `application/json` only.",
    422: "`idempotency_key_reused`: this `Idempotency-Key` came with another body before.",
    429: "`throttled`: too many requests; `Retry-After` says when to retry.",
    500: "`server_error`: an unexpected failure, logged on the server.",
    503: "`database_unavailable` or `jwks_unavailable`; `Retry-After` says when to retry. "
    "`query_timeout`, without `Retry-After`: the request ran past the database's statement timeout.",
}


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `blank`, `max_length`.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error answer."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `validation_failed`, `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=FieldErrorSerializer(many=True),
        required=False,
        help_text="Validation errors by field (`tags.3` for an item of a list); only on `validation_failed`.",
    )

    class Meta:
        ref_name = "Error"


def names_pattern(names: list[str]) -> str:
    """A pattern that matches exactly these names (of letters, digits, `/_+-`), grouped by their
    first segment to keep it short: a closed set too large for an enum in generated clients."""
    areas: dict[str, list[str]] = {}
    for name in sorted(names):
        area, slash, rest = name.replace("+", "\\+").partition("/")
        areas.setdefault(area + slash, []).append(rest)
    options = [area + (f"(?:{'|'.join(rests)})" if area.endswith("/") else "") for area, rests in areas.items()]
    return "^(?:{})$".format("|".join(options))


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]) for status in statuses}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema with readable operation ids and filters declared by hand."""

    def get_operation_id(self) -> str:
        """`<verb><User?><Noun>` from the viewset's `operation_noun`; the plural noun for `list`."""
        action = getattr(self.view, "action", None)
        noun = getattr(self.view, "operation_noun", None)
        if action is None or noun is None:
            return super().get_operation_id()
        user = "User" if "{user_id}" in self.path else ""
        if action == "list":
            noun = getattr(self.view, "operation_noun_plural", f"{noun}s")
        verb = OPERATION_VERBS.get(action) or "".join(
            word if i == 0 else word.capitalize() for i, word in enumerate(action.split("_"))
        )
        return f"{verb}{user}{noun}"

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._document_conditional_writes(path.rstrip("/"), method.lower(), operation)
        return operation

    def _document_conditional_writes(self, path: str, method: str, operation: dict) -> None:
        """If-Match, If-None-Match, 412 and ETags on the `{id}` writes of a view that checks them
        (core.conditional.ConditionalWrites); Idempotency-Key on a create that honours it."""
        responses = operation["responses"]
        conditional = getattr(self.view, "conditional_writes", False)
        if conditional and method != "get" and "{id}" in path:
            operation.setdefault("parameters", []).extend([IF_MATCH, IF_NONE_MATCH_ON_WRITE])
            shown = self.get_serializer_name(self.view.get_serializer_class()(), "response").removesuffix("Serializer")
            responses["412"] = {
                "description": "It changed since the client read it; nothing was written.",
                "headers": {"ETag": ETAG},
                "content": {"application/json": {"schema": precondition_failed(shown)}},
            }
        handler = getattr(self.view, getattr(self.view, "action", None) or "", None)
        if getattr(handler, "idempotent", False):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses["201"].setdefault("headers", {})["Idempotent-Replayed"] = _header(
                "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`."
            )
            responses.setdefault("409", _error_response(409))
            responses["422"] = _error_response(422)
        if conditional and method != "get":
            for status in ("200", "201") if "{id}" in path else ("201",):
                if status in responses:
                    responses[status].setdefault("headers", {})["ETag"] = ETAG

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and isinstance(serializer, serializers.ModelSerializer):
            # A model's representation shows every field, always (null where it has no value).
            schema["required"] = list(schema["properties"])
        elif direction == "request":
            # Rules across fields that a serializer states for its create and replace bodies
            # (`openapi_request_rules`) and for its PATCH bodies (`openapi_partial_rules`); put in
            # place by postprocess_schema, after drf-spectacular has named the enums.
            rules = "openapi_partial_rules" if self.method == "PATCH" else "openapi_request_rules"
            if hasattr(serializer, rules):
                schema[REQUEST_RULES] = getattr(serializer, rules)
        return schema

    def get_filter_backends(self):
        # The list parameters are declared on the view, with their formats and enums.
        return []

    def get_paginated_name(self, serializer_name: str) -> str:
        return f"{serializer_name}Page"  # pages are plain arrays (see ApiPagination)

    def get_tags(self) -> list[str]:
        return [self.view.__module__.split(".")[0].replace("core", "health")]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and hasattr(field, "openapi_request_schema"):
            schema.pop("minLength", None)
            schema.update(field.openapi_request_schema())
        elif direction == "request" and hasattr(field, "openapi_request_pattern"):
            # Text is trimmed before its length is checked: only a pattern can say that exactly.
            schema.pop("minLength", None)
            schema["pattern"] = field.openapi_request_pattern()
            length = f"at most {field.max_length}" if field.allow_blank else f"1 to {field.max_length}"
            schema.setdefault(
                "description", f"Trimmed as JavaScript's `trim()` does; {length} characters after trimming; no NUL."
            )
        return schema

    def _insert_field_validators(self, field, schema):
        if hasattr(field, "openapi_request_pattern") and "pattern" in schema:
            return  # the schema above already holds the length limits
        super()._insert_field_validators(field, schema)


# Answers that tell the client when to come back (DRF's `wait`, in seconds).
RETRY_AFTER_STATUSES = {409, 429, 503}


def _error_response(status: int) -> dict:
    response = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in RETRY_AFTER_STATUSES:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
        }
    return response


def _header(description: str, schema: dict | None = None) -> dict:
    return {"schema": schema or {"type": "string"}, "description": description}


def _header_parameter(name: str, description: str, schema: dict | None = None) -> dict:
    return {"in": "header", "name": name, **_header(description, schema)}


ETAG = _header("The current version of what the body shows; send it back in `If-None-Match` or `If-Match`.")
IF_NONE_MATCH = _header_parameter(
    "If-None-Match", "An ETag received earlier: 304 without a body when it is still current."
)
IF_MATCH = _header_parameter(
    "If-Match", "The ETag as last read: 412 and nothing written when it changed since (no lost updates)."
)
IF_NONE_MATCH_ON_WRITE = _header_parameter("If-None-Match", "412 and nothing written when it names the current ETag.")
IDEMPOTENCY_KEY = _header_parameter(
    "Idempotency-Key",
    f"A key of the client's choosing (1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters) that makes "
    "retries safe: the same key with the same body within 24 hours answers the first response again and "
    "creates nothing; with another body it is a 422.",
    {"type": "string", "pattern": f"^[\\u0020-\\u007e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"},
)


REQUEST_RULES = "x-request-rules"


def precondition_failed(component: str) -> dict:
    """A 412's body: the error, and in `current` the row as it is now, shown as `component`."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {
                "type": "object",
                "properties": {"current": {"$ref": f"#/components/schemas/{component}"}},
                "required": ["current"],
            },
        ],
        "description": "`precondition_failed`, with what it is now in `current`.",
    }


def _document_conditional_reads(method: str, operation: dict) -> None:
    """If-None-Match, 304 and ETag on every read: core.middleware answers them for any GET."""
    if method != "get":
        return
    operation.setdefault("parameters", []).append(IF_NONE_MATCH)
    operation["responses"]["304"] = {
        "description": "Not modified: `If-None-Match` names the current ETag.",
        "headers": {"ETag": ETAG},
    }
    if "200" in operation["responses"]:
        operation["responses"]["200"].setdefault("headers", {})["ETag"] = ETAG


# A path parameter of digits only (a row's id, `[0-9]{1,18}` in its route) is a number to clients.
DIGITS_ONLY = re.compile(r"\^\[0-9\]\{1,([0-9]+)\}\$")


def _type_path_ids(operation: dict) -> None:
    for parameter in operation.get("parameters", []):
        digits = parameter["in"] == "path" and DIGITS_ONLY.fullmatch(parameter["schema"].get("pattern", ""))
        if digits:
            parameter["schema"] = {
                "type": "integer",
                "format": "int64",
                "minimum": 0,
                "maximum": 10 ** int(digits[1]) - 1,
            }


def postprocess_schema(result, generator, request, public):
    """Adds the errors every operation can answer and conditional reads, and closes request
    bodies to unknown fields.

    Paths are written without their optional trailing slash, as Next.js calls them.
    """
    result["paths"] = {path.rstrip("/") or "/": operations for path, operations in result["paths"].items()}
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            _document_conditional_reads(method, operation)
            _type_path_ids(operation)
            statuses = [500]
            if operation.get("security"):
                statuses += [401, 403, 429, 503]
            if "{id}" in path:
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 408, 413, 415]
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(str(status), _error_response(status))
            operation["responses"] = dict(sorted(responses.items()))
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if component.get("type") != "object":
            continue
        if name.endswith("Request"):
            component["additionalProperties"] = False
        component.update(component.pop(REQUEST_RULES, {}))
        if name.startswith("Patched"):
            # A PATCH leaves out what it does not change: no defaults apply.
            for field in component["properties"].values():
                field.pop("default", None)
    return result
