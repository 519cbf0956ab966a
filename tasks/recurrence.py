"""Recurring tasks: RFC 5545 RRULEs checked before they are stored, and their next occurrence.

python-dateutil evaluates the rules. The checks here come first because dateutil accepts
rules that never end a search (INTERVAL=0 loops forever; "February 30th" scans every day up
to the year 9999) and rules finer than a day, which a todo list has no use for.
"""

import calendar
import re
from datetime import datetime, timezone

from dateutil.rrule import rrulestr

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# The parts a rule may use, in the order the canonical form writes them.
PARTS = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "WKST", "COUNT", "UNTIL")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
UNTIL = re.compile(r"^\d{8}T\d{6}Z$")
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
# Longest days of each month, February in a leap year.
DAYS_IN_MONTH = {month: calendar.monthrange(2024, month)[1] for month in range(1, 13)}


class InvalidRecurrence(ValueError):
    """A rule this API does not accept; the message says why."""


def _integers(part: str, value: str, low: int, high: int, *, allow_negative: bool = False) -> list[int]:
    numbers = []
    for item in value.split(","):
        if not re.fullmatch(r"[+-]?[0-9]{1,5}", item):
            raise InvalidRecurrence(f"{part} must be a comma-separated list of numbers.")
        number = int(item)
        if not (low <= abs(number) <= high) or (number < 0 and not allow_negative):
            raise InvalidRecurrence(f"{part} values must be between {low} and {high}.")
        numbers.append(number)
    return numbers


def _parse(rule: str) -> dict[str, str]:
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:"):]
    parts: dict[str, str] = {}
    for item in filter(None, rule.upper().split(";")):
        name, equals, value = item.partition("=")
        if not equals or not value:
            raise InvalidRecurrence(f"'{item}' is not NAME=VALUE.")
        if name not in PARTS:
            raise InvalidRecurrence(f"{name} is not supported; a rule may use {', '.join(PARTS)}.")
        if name in parts:
            raise InvalidRecurrence(f"{name} appears twice.")
        parts[name] = value
    return parts


def _check(parts: dict[str, str]) -> None:
    freq = parts.get("FREQ")
    if freq is None:
        raise InvalidRecurrence("FREQ is required.")
    if freq not in FREQUENCIES:
        raise InvalidRecurrence(f"FREQ must be one of {', '.join(FREQUENCIES)}; tasks recur at most daily.")
    if "INTERVAL" in parts:
        _integers("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL)
    if "COUNT" in parts:
        _integers("COUNT", parts["COUNT"], 1, MAX_COUNT)
        if "UNTIL" in parts:
            raise InvalidRecurrence("COUNT and UNTIL cannot both end a rule.")
    if "UNTIL" in parts and not UNTIL.match(parts["UNTIL"]):
        raise InvalidRecurrence("UNTIL must be a UTC date-time such as 20261231T235959Z.")
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise InvalidRecurrence("WKST must be a weekday (MO to SU).")
    for item in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = BYDAY.match(item)
        if not match:
            raise InvalidRecurrence("BYDAY must list weekdays such as MO,WE or 1MO,-1FR.")
        if match.group(1) is not None:
            if freq not in ("MONTHLY", "YEARLY"):
                raise InvalidRecurrence("A numbered BYDAY (like 1MO) needs FREQ=MONTHLY or YEARLY.")
            if not 1 <= abs(int(match.group(1))) <= (5 if freq == "MONTHLY" else 53):
                raise InvalidRecurrence("A numbered BYDAY is out of range.")
            if "BYMONTHDAY" in parts:  # "the 5th Monday on the 1st" never happens
                raise InvalidRecurrence("A numbered BYDAY cannot be combined with BYMONTHDAY.")
    months = _integers("BYMONTH", parts["BYMONTH"], 1, 12) if "BYMONTH" in parts else list(DAYS_IN_MONTH)
    if "BYMONTHDAY" in parts:
        days = _integers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, allow_negative=True)
        if not any(abs(day) <= DAYS_IN_MONTH[month] for day in days for month in months):
            raise InvalidRecurrence("BYMONTH and BYMONTHDAY never meet (like February 30th).")


def _format(parts: dict[str, str]) -> str:
    return ";".join(f"{name}={parts[name]}" for name in PARTS if name in parts)


def recurrence_normalize(rule: str) -> str:
    """Checks a rule and returns its canonical form: upper case, no `RRULE:` prefix, parts in order."""
    parts = _parse(rule)
    _check(parts)
    canonical = _format(parts)
    try:
        rrulestr(canonical, dtstart=datetime(2026, 1, 1, tzinfo=timezone.utc))
    except (ValueError, TypeError) as e:
        raise InvalidRecurrence(f"Not a valid RRULE: {e}") from e
    return canonical


def recurrence_next(rule: str, due_at: datetime) -> tuple[datetime, str] | None:
    """The occurrence after `due_at` and the rule for the series from there, or None when it has ended.

    COUNT counts the occurrences left including the current one, so it goes down by one for
    the next; UNTIL stays as it is and ends the series on its own.
    """
    parts = _parse(rule)
    count = int(parts.pop("COUNT")) if "COUNT" in parts else None
    if count is not None and count <= 1:
        return None
    next_due = rrulestr(_format(parts), dtstart=due_at).after(due_at)
    if next_due is None:
        return None
    if count is not None:
        parts["COUNT"] = str(count - 1)
    return next_due, _format(parts)


# The OpenAPI pattern for `recurrence`: the rules every due date can schedule, in canonical form.
#
# JSON Schema cannot say "parts in any order, each once", nor "has an occurrence after this
# due date", so the pattern states a part of what recurrence_normalize accepts, one that is
# accepted with any due date: parts in canonical order (as responses carry them), each number
# within its range above, and only those combinations that every period of the frequency can
# fulfil (a month always has a 28th and four of each weekday, a year 52).
SHORTEST_MONTH = min(calendar.monthrange(2023, month)[1] for month in range(1, 13))
WEEKDAYS_IN_EVERY_MONTH = SHORTEST_MONTH // 7
WEEKDAYS_IN_EVERY_YEAR = 365 // 7


def _one_to(high: int) -> str:
    """A regular expression for the whole numbers 1 to `high`, without leading zeros."""
    digits = str(high)

    def any_digits(count: int) -> str:
        return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"

    # The numbers with fewer digits; then, digit by digit, those as long that stay below `high`.
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 2 else "[1-9]"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest, below = (1 if position == 0 else 0), int(digit) - 1
        if below >= lowest:
            choice = str(lowest) if below == lowest else f"[{lowest}-{below}]"
            options.append(digits[:position] + choice + any_digits(len(digits) - position - 1))
    return "(?:{})".format("|".join([*options, digits]))


def _listed(item: str) -> str:
    return f"{item}(?:,{item})*"


def recurrence_pattern() -> str:
    """The pattern the OpenAPI document gives `recurrence` (see above)."""
    weekday = "(?:{})".format("|".join(WEEKDAYS))
    interval = f"(?:;INTERVAL={_one_to(MAX_INTERVAL)})?"
    months = f";BYMONTH={_listed(_one_to(12))}"
    month_days = f";BYMONTHDAY={_listed('-?' + _one_to(SHORTEST_MONTH))}"
    weekdays = f";BYDAY={_listed(weekday)}"

    def nth_weekdays(highest: int) -> str:
        return f";BYDAY={_listed(f'(?:[+-]?{_one_to(highest)})?{weekday}')}"

    frequencies = [
        # A series stepping by several days may never land on a given weekday: INTERVAL or BYDAY.
        f"DAILY(?:;INTERVAL={_one_to(MAX_INTERVAL)}|{weekdays})?",
        f"WEEKLY{interval}(?:{weekdays})?",
        f"MONTHLY{interval}(?:{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_MONTH)})?",
        f"YEARLY{interval}(?:{months}(?:{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_MONTH)})?"
        f"|{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_YEAR)})?",
    ]
    day = "(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    until = f"[1-9][0-9]{{3}}{day}T(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z"
    end = f"(?:;WKST={weekday})?(?:;COUNT={_one_to(MAX_COUNT)}|;UNTIL={until})?"
    return "^FREQ=(?:{}){}$".format("|".join(frequencies), end)
