"""The time zones the API knows, and the moments an all-day due date stands for.

The zones are those of the pinned tzdata package, the same on every machine (the system's own
database varies), so the schema can state them exactly: `tz=` on the list and the stats, and a
task's `due_timezone`, all read this one list.
"""

from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

TIME_ZONES = sorted(resources.files("tzdata").joinpath("zones").read_text().split())
TIME_ZONE_NAMES = frozenset(TIME_ZONES)
TIME_ZONE_MAX_LENGTH = 64  # the longest name is 32 characters


def zone_named(name: str) -> ZoneInfo:
    """The zone of this IANA name; ValueError when the pinned database does not know it."""
    if name not in TIME_ZONE_NAMES:
        raise ValueError(f"Unknown time zone {name[:64]!r}; use an IANA name like Europe/Paris.")
    return ZoneInfo(name)


def day_in(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of `moment` in `zone` (beyond the years 1 to 9999: the first or last date)."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return date.min if moment.year == 1 else date.max


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of `day` in `zone`, in UTC: when a task due that day, all day, falls due.

    So a task due all day on `day` is due before a moment `m` exactly when `day` is earlier than
    `m`'s date in `zone` (tasks.models.TaskQuerySet relies on that)."""
    try:
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC) - timedelta(
            microseconds=1
        )
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
