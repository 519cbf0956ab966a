"""How the OpenAPI document describes this API beyond what drf-spectacular infers.

Operation ids are stable names for generated clients; every operation lists the error
statuses it can really answer, in the one `Error` shape; request bodies refuse unknown
properties as the server does.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# Client-facing names for each viewset action; the Phase II routes get a `User` variant.
OPERATION_NAMES = {
    "list": "list{}Tasks",
    "create": "create{}Task",
    "retrieve": "get{}Task",
    "update": "replace{}Task",
    "partial_update": "update{}Task",
    "destroy": "delete{}Task",
    "complete": "complete{}Task",
}

# Response components whose every property is always present.
ALWAYS_COMPLETE_RESPONSES = {"Task", "Me", "Stats", "Tag", "BulkResult"}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `validation_failed` (with `fields`) or `parse_error`.",
    401: "No token, or a token that failed verification (`not_authenticated`, `token_expired`, ...).",
    403: "`account_disabled`, or on `/api/{user_id}/...` routes `path_user_mismatch`.",
    404: "`not_found`: no such task among the caller's (other users' tasks are never revealed).",
    409: "`task_limit_reached` or `tag_limit_reached`: nothing was written.",
    413: "`request_too_large`: the body is over the configured limit.",
    415: "`unsupported_media_type`: bodies are `application/json` only.",
    429: "`throttled`: too many requests; `Retry-After` says when to retry.",
    500: "`server_error`: an unexpected failure, logged on the server.",
    503: "`database_unavailable` or `jwks_unavailable`; `Retry-After` says when to retry.",
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


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]) for status in statuses}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema with readable operation ids and filters declared by hand."""

    def get_operation_id(self) -> str:
        action = getattr(self.view, "action", None)
        if action in OPERATION_NAMES:
            return OPERATION_NAMES[action].format("User" if "{user_id}" in self.path else "")
        return super().get_operation_id()

    def get_filter_backends(self):
        # The list parameters are declared on the view, with their formats and enums.
        return []

    def get_paginated_name(self, serializer_name: str) -> str:
        return f"{serializer_name}List"  # pages are plain arrays (see TaskPagination)

    def get_tags(self) -> list[str]:
        return [self.view.__module__.split(".")[0].replace("todo_project", "health")]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and hasattr(field, "openapi_request_pattern"):
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
            return  # the pattern above already holds the length limits
        super()._insert_field_validators(field, schema)


def _error_response(status: int) -> dict:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def postprocess_schema(result, generator, request, public):
    """Adds the errors every operation can answer, and closes request bodies to unknown fields.

    Paths are written without their optional trailing slash, as Next.js calls them.
    """
    result["paths"] = {path.rstrip("/") or "/": operations for path, operations in result["paths"].items()}
    for path, operations in result["paths"].items():
        for operation in operations.values():
            statuses = [500]
            if operation.get("security"):
                statuses += [401, 403, 429, 503]
            if "{id}" in path:
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 413, 415]
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(str(status), _error_response(status))
            operation["responses"] = dict(sorted(responses.items()))
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if component.get("type") != "object":
            continue
        if name.endswith("Request"):
            component["additionalProperties"] = False
        if name.startswith("Patched"):
            # A PATCH leaves out what it does not change: no defaults apply.
            for field in component["properties"].values():
                field.pop("default", None)
        if name in ALWAYS_COMPLETE_RESPONSES:
            component["required"] = list(component["properties"])
    return result
