"""Strict input fields for task bodies and list filters.

JSON clients get exactly what the schema says: strings only where a string is expected,
`true`/`false` only for booleans, RFC 3339 date-times with an explicit offset, text trimmed the
way JavaScript's `trim()` does and measured after trimming.
"""

import re
from datetime import UTC, date, datetime

from django.utils.translation import ngettext
from rest_framework import serializers

from core.openapi import names_pattern
from tasks.limits import RECURRENCE_MAX_LENGTH, TAG_MAX_LENGTH, TAGS_PER_TASK
from tasks.models import Priority
from tasks.recurrence import RRULE_PATTERN, InvalidRecurrence, recurrence_normalize
from tasks.zones import TIME_ZONE_MAX_LENGTH, TIME_ZONES, zone_named

# An offset's minutes are 00 to 59 (Python reads "+01:60" as +02:00) and its hours 00 to 23.
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$", re.ASCII
)
MAX_BIGINT = 2**63 - 1


# Month and day of any year, and the leap years (for February 29th).
_ANY_DAY = "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_LEAP_YEARS = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"


def _rfc3339_pattern() -> str:
    """What parse_rfc3339 accepts, as a JSON Schema pattern (format `date-time` alone allows more).

    In the years 0001 and 9999 only a zero offset: another may reach beyond them in UTC.
    """
    hour, minute = "(?:[01][0-9]|2[0-3])", "[0-5][0-9]"
    time = rf"[Tt]{hour}:{minute}:{minute}(?:\.[0-9]{{1,6}})?"
    years = "(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
    dates = f"(?:{years}-{_ANY_DAY}|{_LEAP_YEARS}-02-29)"
    return f"^(?:{dates}{time}(?:[Zz]|[+-]{hour}:{minute})|(?:0001|9999)-{_ANY_DAY}{time}(?:[Zz]|[+-]00:00))$"


RFC3339_PATTERN = _rfc3339_pattern()
# A calendar date, YYYY-MM-DD, of the years 1 to 9999: what StrictDateField accepts.
DATE_PATTERN = f"^(?:(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{{2}}|[1-9][0-9]{{3}})-{_ANY_DAY}|{_LEAP_YEARS}-02-29)$"

# What JavaScript's String.prototype.trim() removes, written as a regex character class that
# means the same in Python, ECMAScript and Rust, so that the server, a Next.js form and the
# OpenAPI pattern below agree on what "blank" and "200 characters" mean. (Python's own
# str.strip() also removes \x1c-\x1f and \x85, which JavaScript keeps.)
SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SPACE_AT_THE_ENDS = re.compile(rf"^[{SPACE}]+|[{SPACE}]+\Z")


def text_trim(value: str) -> str:
    return _SPACE_AT_THE_ENDS.sub("", value)


def trimmed_text_pattern(min_length: int, max_length: int | None) -> str:
    """A JSON Schema pattern for text without NUL characters, `min_length` to `max_length` long once trimmed.

    Lengths after trimming are beyond minLength/maxLength, which count the raw string.
    """
    edge = rf"[^{SPACE}\u0000]"
    inner = "*" if max_length is None else f"{{0,{max_length - 2}}}"
    text = edge if max_length == 1 else rf"{edge}(?:[^\u0000]{inner}{edge})?"
    if min_length == 0:
        text = f"(?:{text})?"
    return rf"^[{SPACE}]*{text}[{SPACE}]*$"


def parse_rfc3339(value: str) -> datetime:
    """An RFC 3339 date-time with an offset, in UTC; ValueError for anything else."""
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError("not RFC 3339")
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except OverflowError as e:  # e.g. 9999-12-31T23:00:00-05:00
        raise ValueError("out of range") from e


class StrictCharField(serializers.CharField):
    """A CharField that takes JSON strings only (no numbers).

    Text that is not Unicode (a lone surrogate) never gets here: the JSON parser refuses it
    (core/parsers.py). Surrounding whitespace is trimmed (see SPACE) before the length and blank checks.
    """

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "trim_whitespace": False})

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            data = text_trim(data)
        return super().run_validation(data)

    def openapi_request_pattern(self) -> str:
        """What the request schema says instead of minLength/maxLength (see trimmed_text_pattern)."""
        return trimmed_text_pattern(0 if self.allow_blank else 1, self.max_length)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON true and false only, not "yes" or 1."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class IntegersOnly:
    """Takes JSON integers only, not "5", 5.0 or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(IntegersOnly, serializers.IntegerField):
    """An IntegerField that takes JSON integers only."""


class StrictBigIntegerField(IntegersOnly, serializers.BigIntegerField):
    """A BigIntegerField that takes JSON integers only."""


class RelatedIdField(serializers.IntegerField):
    """A foreign key as its id: a JSON integer naming a row of the caller's (`scope()`), or null
    where the key may be empty. An id that is not the caller's is refused the same way whether
    it is another user's or nobody's, so existence is not revealed."""

    default_error_messages = {
        "invalid": "Must be an integer.",
        "does_not_exist": "No {noun} of yours has this id.",
    }

    def __init__(self, *, scope, noun: str, **kwargs):
        self.scope, self.noun = scope, noun
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        if not 1 <= data <= MAX_BIGINT or not self.scope(self.context["request"]).filter(pk=data).exists():
            self.fail("does_not_exist", noun=self.noun)
        return data


class StrictFloatField(serializers.FloatField):
    """A FloatField that takes JSON numbers only, not "5.0" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class RFC3339DateTimeField(serializers.DateTimeField):
    """A date-time that must carry its offset; stored and returned in UTC."""

    default_error_messages = {
        "invalid": "Must be an RFC 3339 date-time with an offset, e.g. 2026-01-31T09:00:00Z.",
    }

    def openapi_request_schema(self) -> dict:
        return {"pattern": RFC3339_PATTERN}

    def to_internal_value(self, value):
        try:
            return parse_rfc3339(value)
        except ValueError:
            self.fail("invalid")


class StrictDateField(serializers.DateField):
    """A calendar date written `YYYY-MM-DD`, nothing else (not `2026-3-8`, not a date-time)."""

    default_error_messages = {"invalid": "Must be a date written YYYY-MM-DD, e.g. 2026-03-08."}

    def openapi_request_schema(self) -> dict:
        return {"pattern": DATE_PATTERN}

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
            self.fail("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:  # February 30th
            self.fail("invalid")


# The zones' names as one pattern, for the schema (a closed set too large for an enum).
TIME_ZONE_PATTERN = names_pattern(TIME_ZONES)
TIME_ZONE_HELP = "The pattern lists the names the server knows (the tz database of its tzdata package)."


class TimeZoneField(StrictCharField):
    """An IANA time zone name the pinned tz database knows, such as `Europe/Paris`."""

    default_error_messages = {"unknown_zone": "Unknown time zone; use an IANA name like Europe/Paris."}

    def __init__(self, **kwargs):
        super().__init__(max_length=TIME_ZONE_MAX_LENGTH, **kwargs)

    def openapi_request_schema(self) -> dict:
        return {"pattern": TIME_ZONE_PATTERN, "maxLength": self.max_length}

    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        try:
            zone_named(name)
        except ValueError:
            self.fail("unknown_zone")
        return name


PRIORITY_LABELS = dict(Priority.choices)


class PriorityField(serializers.ChoiceField):
    """`"none"`, `"low"`, `"medium"` or `"high"` in JSON; a number sorted by urgency in the database."""

    def __init__(self, **kwargs):
        super().__init__(choices=Priority.labels, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in Priority.labels:
            self.fail("invalid_choice", input=data)
        return Priority[data.upper()].value

    def to_representation(self, value):
        return PRIORITY_LABELS[value]

    def get_default(self):
        # The default is written as the API spells it ("none"), and stored as its number.
        return self.to_internal_value(super().get_default())


class RecurrenceField(StrictCharField):
    """An RFC 5545 RRULE, stored in a canonical form."""

    def __init__(self, **kwargs):
        super().__init__(max_length=RECURRENCE_MAX_LENGTH, **kwargs)

    def openapi_request_schema(self) -> dict:
        """The rules any due date can schedule, canonically written (see RRULE_PATTERN)."""
        # No space around a canonical rule, so maxLength counts it as the server does.
        return {"pattern": RRULE_PATTERN, "maxLength": self.max_length}

    def to_internal_value(self, data):
        rule = super().to_internal_value(data)
        try:
            return recurrence_normalize(rule)
        except InvalidRecurrence as e:
            raise serializers.ValidationError(str(e), code="invalid_recurrence") from e


class BoundedListField(serializers.ListField):
    """A ListField that refuses an overlong list before checking its items.

    DRF checks every item first: a 64 KiB body of 30,000 bad items would answer with an
    error for each, a response twenty times the request.
    """

    def __init__(self, **kwargs):
        # DRF's own say "Ensure this field has at least 1 elements."
        messages = {
            bound: ngettext(
                f"Must have at {word} {{{bound}}} item.", f"Must have at {word} {{{bound}}} items.", kwargs[bound]
            )
            for bound, word in (("min_length", "least"), ("max_length", "most"))
            if kwargs.get(bound) is not None
        }
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.max_length is not None and isinstance(data, list) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class TagListField(BoundedListField):
    """Tag names in, tag names out: at most TAGS_PER_TASK, each 1 to TAG_MAX_LENGTH characters once trimmed.

    Names that differ only in case are one tag; the first spelling sent wins.
    """

    child = StrictCharField(max_length=TAG_MAX_LENGTH)

    def __init__(self, **kwargs):
        super().__init__(max_length=TAGS_PER_TASK, **kwargs)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        unique: dict[str, str] = {}
        for name in names:
            unique.setdefault(name.casefold(), name)
        return list(unique.values())

    def to_representation(self, names):
        return sorted(names, key=str.casefold)
