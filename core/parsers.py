"""How requests are read: JSON bodies, and query strings, as text the database can store.

JSON lets a string carry a lone UTF-16 surrogate ("\\ud800"), which is not Unicode text:
PostgreSQL refuses it, and no JSON answer can echo it. Python's parser lets it through, so
the API refuses it here, once for every field and key, with the field named. A query string
carries bytes instead, where the same mistake is bytes that are not UTF-8.
"""

import codecs
import re
from urllib.parse import unquote, unquote_to_bytes

from django.utils.http import parse_header_parameters
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

# A pair "\ud83d\ude00" is decoded to one character (U+1F600); what remains is alone.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NOT_TEXT = "Contains characters that are not valid Unicode text (a lone UTF-16 surrogate or invalid UTF-8)."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deep for Python's parser, or holding a lone
    surrogate in any string or key, a 400 instead of a crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if (path := _lone_surrogate_at(data)) is not None:
            error = [ErrorDetail(NOT_TEXT, code="invalid_characters")]
            raise ValidationError({path: error} if path else error)
        return data


def _lone_surrogate_at(data) -> str | None:
    """Where the first string (or key) holding a lone surrogate is, as "tags.0"; "" for the
    whole body; None when there is none."""
    pending = [("", data)]  # not recursive: the body may be nested as deep as the parser allows
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                shown = key.encode("utf-8", "backslashreplace").decode()
                item_path = f"{path}.{shown}" if path else shown
                if LONE_SURROGATE.search(key):
                    return item_path
                pending.append((item_path, item))
        elif isinstance(value, list):
            pending.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))
    return None


def undecodable_query_parameter(query_string: bytes) -> str | None:
    """The name of the first parameter of a raw query string whose name or value is not UTF-8
    once percent-decoded; None when all are. Django would read those with U+FFFD in place of
    what was sent (core.middleware.QueryStringMiddleware refuses them)."""
    if _is_utf8(query_string):
        return None
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if not (_is_utf8(name) and _is_utf8(value)):
            return unquote(name.decode("latin-1").replace("+", " "), errors="replace")
    return None


def _is_utf8(encoded: bytes) -> bool:
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# JSON is UTF-8 (RFC 8259); ASCII is a subset of it.
JSON_CHARSETS = {"utf-8", "ascii"}


def charset_refusal(content_type: str) -> tuple[int, str, str] | None:
    """Why a body declared with this Content-Type cannot be read, as (status, code, message);
    None when it can. A charset Python does not know, or one that is no text encoding
    (`rot13`, `base64`), is a 400: Django's form parsers crash on them. A JSON body in
    another charset than UTF-8 is a 415: UTF-7 would turn `+ADw-` into `<` after every check
    on the bytes."""
    media_type, parameters = parse_header_parameters(content_type)
    charset = parameters.get("charset")
    if charset is None:
        return None
    try:
        "".encode(charset)  # LookupError for unknown names and for codecs that are not text encodings
        name = codecs.lookup(charset).name
    except (LookupError, ValueError):
        return 400, "bad_request", "The charset of the Content-Type is unknown or not a text encoding."
    if (media_type == "application/json" or media_type.endswith("+json")) and name not in JSON_CHARSETS:
        return 415, "unsupported_media_type", "A JSON body must be UTF-8."
    return None
