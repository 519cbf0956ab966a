"""Recurring tasks: RFC 5545 RRULEs checked before they are stored, and their next occurrence.

python-dateutil evaluates the rules. The checks here come first because dateutil accepts
rules that never end a search (INTERVAL=0 loops forever; "February 30th" scans every day up
to the year 9999), rules it cannot expand (the 53rd Monday of February raises IndexError) and
rules finer than a day, which a todo list has no use for. dateutil has no limit of its own on
how far it looks for an occurrence (dateutil/dateutil#1094, #1393), so the search for the next
one is bounded here too (SEARCH_HORIZON), through a dateutil internal that tests pin:
tests/tasks/test_recurrence.py checks both that the search stops and that it finds what
dateutil alone finds.
"""

import calendar
import re
from datetime import UTC, date, datetime, time

from dateutil.rrule import rrule, rrulestr

from tasks.limits import RECURRENCE_MAX_LENGTH
from tasks.zones import zone_named

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# The grammar: the parts a rule may use, in the order the canonical form writes them, and
# the syntax of each one's value (upper case; ASCII digits only, as client RRULE parsers
# expect). Numbers are checked against RANGES after the syntax. The OpenAPI pattern for
# `recurrence` is derived from these (RRULE_PATTERN, at the end).
# A number's digits are bounded before int() reads them (Python refuses over 4,300 of them).
NUMBER_MAX_DIGITS = 9
_NUMBER = f"[0-9]{{1,{NUMBER_MAX_DIGITS}}}"
_SIGNED = f"[+-]?{_NUMBER}"
_WEEKDAY = "|".join(WEEKDAYS)
_BYDAY_ITEM = rf"(?:[+-]?[0-9]{{1,2}})?(?:{_WEEKDAY})"
GRAMMAR = {
    "FREQ": "|".join(FREQUENCIES),
    "INTERVAL": _NUMBER,
    "BYMONTH": rf"{_NUMBER}(?:,{_NUMBER})*",
    "BYMONTHDAY": rf"{_SIGNED}(?:,{_SIGNED})*",
    "BYDAY": rf"{_BYDAY_ITEM}(?:,{_BYDAY_ITEM})*",
    "WKST": _WEEKDAY,
    "COUNT": _NUMBER,
    "UNTIL": "[0-9]{8}T[0-9]{6}Z",
}
PARTS = tuple(GRAMMAR)
# Inclusive bounds of each number (of its absolute value where a sign is allowed).
RANGES = {"INTERVAL": (1, 1000), "BYMONTH": (1, 12), "BYMONTHDAY": (1, 31), "COUNT": (1, 10_000)}
# The nth weekday of a month, or of a year.
NTH_IN_MONTH, NTH_IN_YEAR = 5, 53
BYDAY = re.compile(r"([+-]?[0-9]{1,2})?([A-Z]{2})")
# Longest days of each month, February in a leap year.
DAYS_IN_MONTH = {month: calendar.monthrange(2024, month)[1] for month in range(1, 13)}

# How far the next occurrence is looked for, in the "looks" of dateutil's search: one month at
# a time for DAILY and WEEKLY rules (one step when a step is longer), one period (INTERVAL
# months or years) at a time for MONTHLY and YEARLY ones. That covers what calendar apps offer
# (the last day of February: 12 months apart; Friday the 13th: 14; February 29th: 8 years;
# the 5th Monday of February: 28, though 40 across 2100) and keeps the costliest search about
# half a millisecond (bench/bulk_recurrence.py).
SEARCH_HORIZON = {"DAILY": 15, "WEEKLY": 15, "MONTHLY": 32, "YEARLY": 32}
# Looks one request may spend over all its searches (a bulk complete of many recurring tasks):
# each costs up to about 0.1 ms, and 500 searches across the whole horizon took 2.2 s. Common
# rules take one look each; 60 tasks at the horizon fit.
REQUEST_SEARCH_LOOKS = 2_000
HORIZON_TEXT = (
    f"{SEARCH_HORIZON['DAILY']} months for a DAILY or WEEKLY rule, "
    f"{SEARCH_HORIZON['MONTHLY']} periods for a MONTHLY or YEARLY one"
)


class InvalidRecurrence(ValueError):
    """A rule this API does not accept; the message says why, `code` is the API's error code."""

    def __init__(self, message: str, code: str = "invalid_recurrence"):
        super().__init__(message)
        self.code = code


class BeyondHorizon(Exception):
    """The search for an occurrence went past SEARCH_HORIZON."""


class SearchBudgetSpent(Exception):
    """A request's searches together took more than their SearchBudget's looks."""


class SearchBudget:
    """The looks a request's searches may spend together (REQUEST_SEARCH_LOOKS)."""

    def __init__(self, looks: int = REQUEST_SEARCH_LOOKS):
        self.looks_left = looks

    def spend(self) -> None:
        self.looks_left -= 1
        if self.looks_left < 0:
            raise SearchBudgetSpent()


def _numbers(part: str, value: str, *, signed: bool = False) -> list[int]:
    low, high = RANGES[part]
    numbers = [int(item) for item in value.split(",")]
    if any(not low <= abs(number) <= high or (number < 0 and not signed) for number in numbers):
        raise InvalidRecurrence(f"{part} values must be between {low} and {high}.")
    return numbers


def _parse(rule: str) -> dict[str, str]:
    if len(rule) > RECURRENCE_MAX_LENGTH:  # before any work on it, stored rules included
        raise InvalidRecurrence(f"A rule is at most {RECURRENCE_MAX_LENGTH} characters.")
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    parts: dict[str, str] = {}
    for item in filter(None, rule.upper().split(";")):
        name, equals, value = item.partition("=")
        if not equals or not value:
            raise InvalidRecurrence(f"'{item}' is not NAME=VALUE.")
        if name not in GRAMMAR:
            raise InvalidRecurrence(f"{name} is not supported; a rule may use {', '.join(PARTS)}.")
        if name in parts:
            raise InvalidRecurrence(f"{name} appears twice.")
        parts[name] = value
    return parts


# What a part whose value breaks GRAMMAR is told; the other parts are lists of numbers.
SYNTAX_ERRORS = {
    "FREQ": f"FREQ must be one of {', '.join(FREQUENCIES)}; tasks recur at most daily.",
    "BYDAY": "BYDAY must list weekdays such as MO,WE or 1MO,-1FR.",
    "WKST": "WKST must be a weekday (MO to SU).",
    "UNTIL": "UNTIL must be a UTC date-time such as 20261231T235959Z.",
}


def _check_syntax(parts: dict[str, str]) -> None:
    for name, value in parts.items():
        if not re.fullmatch(GRAMMAR[name], value):
            raise InvalidRecurrence(
                SYNTAX_ERRORS.get(
                    name,
                    f"{name} must be a comma-separated list of numbers (0-9), each of at most "
                    f"{NUMBER_MAX_DIGITS} digits.",
                )
            )


def _check(parts: dict[str, str]) -> None:
    if "FREQ" not in parts:
        raise InvalidRecurrence("FREQ is required.")
    _check_syntax(parts)
    freq = parts["FREQ"]
    if "INTERVAL" in parts:
        _numbers("INTERVAL", parts["INTERVAL"])
    if "COUNT" in parts:
        _numbers("COUNT", parts["COUNT"])
        if "UNTIL" in parts:
            raise InvalidRecurrence("COUNT and UNTIL cannot both end a rule.")
    months = _numbers("BYMONTH", parts["BYMONTH"]) if "BYMONTH" in parts else list(DAYS_IN_MONTH)
    for item in parts["BYDAY"].split(",") if "BYDAY" in parts else []:
        nth = BYDAY.fullmatch(item).group(1)
        if nth is None:
            continue
        if freq not in ("MONTHLY", "YEARLY"):
            raise InvalidRecurrence("A numbered BYDAY (like 1MO) needs FREQ=MONTHLY or YEARLY.")
        # With BYMONTH, a YEARLY rule's numbered BYDAY counts within each month (RFC 5545).
        within_month = freq == "MONTHLY" or "BYMONTH" in parts
        highest = NTH_IN_MONTH if within_month else NTH_IN_YEAR
        if not 1 <= abs(int(nth)) <= highest:
            raise InvalidRecurrence(
                f"A numbered BYDAY counts 1 to {highest} (or -1 to -{highest}) weekdays within a "
                f"{'month' if within_month else 'year'}."
            )
        if "BYMONTHDAY" in parts:  # "the 5th Monday on the 1st" never happens
            raise InvalidRecurrence("A numbered BYDAY cannot be combined with BYMONTHDAY.")
    if "BYMONTHDAY" in parts:
        days = _numbers("BYMONTHDAY", parts["BYMONTHDAY"], signed=True)
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
        rrulestr(canonical, dtstart=datetime(2026, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError) as e:
        raise InvalidRecurrence(f"Not a valid RRULE: {e}") from e
    return canonical


class _LookCounter:
    """Stands in for a dateutil rrule's `_bynweekday` (its numbered BYDAYs), which dateutil's
    search reads once each time it looks at a new month or period: after `horizon` looks it
    stops the search."""

    def __init__(self, numbered_weekdays, horizon: int, budget: SearchBudget | None = None):
        self.numbered_weekdays = numbered_weekdays
        self.looks_left = horizon
        self.budget = budget

    def __bool__(self) -> bool:
        self.looks_left -= 1
        if self.looks_left < 0:
            raise BeyondHorizon()
        if self.budget is not None:
            self.budget.spend()
        return bool(self.numbered_weekdays)

    def __iter__(self):
        return iter(self.numbered_weekdays or ())


def _bounded_after(parts: dict[str, str], start: datetime, budget: SearchBudget | None) -> datetime | None:
    """dateutil's next occurrence after `start`, its search bounded by SEARCH_HORIZON (and the budget)."""
    dates = rrulestr(_format(parts), dtstart=start)
    assert isinstance(dates, rrule)
    dates._bynweekday = _LookCounter(dates._bynweekday, SEARCH_HORIZON[parts["FREQ"]], budget)
    return dates.after(start)


def recurrence_start(*, due_at: datetime | None, due_date: date | None, due_timezone: str | None) -> datetime | None:
    """Where a task's series starts, as dateutil expands it: `due_at` on the wall clock of
    `due_timezone` (of UTC when it is null), or an all-day `due_date` as a midnight (in UTC, which
    only lends the date its calendar).

    On a zone's wall clock a daily 09:00 stays 09:00 across daylight saving, and BYDAY and
    BYMONTHDAY are that zone's weekdays and dates. dateutil builds each occurrence from the
    start's wall time and zone: a time that does not exist on that date (spring forward) is read
    with the offset before the change, so it moves forward by the gap; one that exists twice
    (fall back) is the first, as RFC 5545 (3.3.5) says; zoneinfo does both (fold=0).
    """
    if due_date is not None:
        return datetime.combine(due_date, time.min, tzinfo=UTC)
    if due_at is None:
        return None
    try:
        zone = zone_named(due_timezone) if due_timezone else UTC
    except ValueError:  # not through the API, which checks the name: the UTC schedule
        zone = UTC
    return due_at.astimezone(zone)


def recurrence_next_due(
    rule: str,
    *,
    due_at: datetime | None,
    due_date: date | None,
    due_timezone: str | None,
    budget: SearchBudget | None = None,
) -> dict | None:
    """The schedule of the occurrence after this one (`due_at`, `due_date`, `recurrence`), in the
    shape the task has (an instant in UTC, or a date), or None when the series has ended."""
    start = recurrence_start(due_at=due_at, due_date=due_date, due_timezone=due_timezone)
    found = recurrence_next(rule, start, budget) if start is not None else None
    if found is None:
        return None
    following, rule = found
    if due_date is not None:
        return {"due_at": None, "due_date": following.date(), "recurrence": rule}
    return {"due_at": following.astimezone(UTC), "due_date": None, "recurrence": rule}


def recurrence_next(rule: str, start: datetime, budget: SearchBudget | None = None) -> tuple[datetime, str] | None:
    """The occurrence after `start` and the rule for the series from there, or None when it has ended.

    COUNT counts the occurrences left including the current one, so it goes down by one for
    the next; UNTIL stays as it is and ends the series on its own. A rule stored before the
    current checks, that dateutil cannot expand or whose next occurrence lies beyond the
    horizon, ends its series too: completing such a task never fails. A `budget` shared by
    several searches raises SearchBudgetSpent once they have spent it.
    """
    try:
        return recurrence_following(rule, start, budget)
    except InvalidRecurrence:
        return None


def recurrence_following(rule: str, start: datetime, budget: SearchBudget | None = None) -> tuple[datetime, str] | None:
    """`recurrence_next`, raising InvalidRecurrence where it gives up."""
    parts = _parse(rule)
    _check(parts)
    count = int(parts.pop("COUNT")) if "COUNT" in parts else None
    if count is not None and count <= 1:
        return None
    try:
        next_due = _bounded_after(parts, start, budget)
    except BeyondHorizon:
        raise InvalidRecurrence(
            f"The rule has no occurrence within the search horizon after the due date ({HORIZON_TEXT})."
        ) from None
    except (ValueError, TypeError, IndexError, OverflowError) as e:
        raise InvalidRecurrence(f"The rule cannot be expanded from the due date: {e}") from e
    if next_due is None:
        return None
    if count is not None:
        parts["COUNT"] = str(count - 1)
    return next_due, _format(parts)


def recurrence_check_schedule(
    rule: str | None, due_at: datetime | None = None, *, due_date: date | None = None, due_timezone: str | None = None
) -> None:
    """Refuses a rule that cannot be the schedule of a task due then: one without a due date
    (`due_at` or `due_date`), or one whose next occurrence cannot be found (see recurrence_following)."""
    if not rule:
        return
    start = recurrence_start(due_at=due_at, due_date=due_date, due_timezone=due_timezone)
    if start is None:
        raise InvalidRecurrence("A recurring task needs due_at or due_date.", code="needs_due_at")
    recurrence_following(rule, start)


# The OpenAPI pattern for `recurrence`: the rules every due date can schedule, in canonical form.
#
# JSON Schema cannot say "parts in any order, each once", nor "has an occurrence after this
# due date", so the pattern states a part of what recurrence_normalize accepts, one that is
# accepted with any due date: parts in canonical order (as responses carry them), each number
# within its RANGES, and only those combinations that every period of the frequency can fulfil
# within the SEARCH_HORIZON (a month always has a 28th and four of each weekday, a year 52).
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


def _rrule_pattern() -> str:
    weekday = "(?:{})".format("|".join(WEEKDAYS))
    interval = f"(?:;INTERVAL={_one_to(RANGES['INTERVAL'][1])})?"
    months = f";BYMONTH={_listed(_one_to(RANGES['BYMONTH'][1]))}"
    month_days = f";BYMONTHDAY={_listed('-?' + _one_to(SHORTEST_MONTH))}"
    weekdays = f";BYDAY={_listed(weekday)}"

    def nth_weekdays(highest: int) -> str:
        # Numbered and plain weekdays in one BYDAY meet in dateutil only on days that are both
        # (the first Monday that is a Tuesday), never: the pattern keeps them apart.
        return f"{weekdays}|;BYDAY={_listed(f'[+-]?{_one_to(highest)}{weekday}')}"

    frequencies = [
        # A series stepping by several days may never land on a given weekday: INTERVAL or BYDAY.
        f"DAILY(?:;INTERVAL={_one_to(RANGES['INTERVAL'][1])}|{weekdays})?",
        f"WEEKLY{interval}(?:{weekdays})?",
        f"MONTHLY{interval}(?:{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_MONTH)})?",
        f"YEARLY{interval}(?:{months}(?:{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_MONTH)})?"
        f"|{month_days}|{nth_weekdays(WEEKDAYS_IN_EVERY_YEAR)})?",
    ]
    day = "(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
    until = f"[1-9][0-9]{{3}}{day}T(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z"
    end = f"(?:;WKST={weekday})?(?:;COUNT={_one_to(RANGES['COUNT'][1])}|;UNTIL={until})?"
    return "^FREQ=(?:{}){}$".format("|".join(frequencies), end)


RRULE_PATTERN = _rrule_pattern()
