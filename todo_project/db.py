"""What differs between the databases the project runs on, in one place.

## Timestamps

Django's psycopg 3 backend registers a Python subclass of psycopg's `timestamptz` loader on
every connection, to stamp each value with Django's time zone. A Python subclass cannot use
psycopg's C implementation, so every timestamp of every row is parsed in Python: 4 of them per
task, about a fifth of a 50-task page's time. When Django's zone and the session's are both UTC
(Django sets the session's), the C loader already answers `datetime` values in
`datetime.timezone.utc`, the same values, so this registers a C-based loader carrying the
`timezone` attribute Django compares before it would register its own again
(tests/test_db.py checks the values are identical).
"""

import datetime

from django.db import connections
from psycopg.adapt import AdaptersMap, Loader
from psycopg.types.datetime import TimestamptzLoader

# The C class (psycopg[binary]), or the Python one when only the pure-Python package is installed.
_FastTimestamptzLoader = AdaptersMap()._get_optimised(TimestamptzLoader)


class UtcTimestamptzLoader(Loader):
    """Delegates to the C loader (which cannot be subclassed); `timezone` is what Django reads."""

    timezone = datetime.timezone.utc

    def __init__(self, oid: int, context=None):
        super().__init__(oid, context)
        self._load = _FastTimestamptzLoader(oid, context).load

    def load(self, data) -> datetime.datetime:
        return self._load(data)


def use_fast_timestamps(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the C loader on a UTC PostgreSQL connection."""
    if connection.vendor != "postgresql" or connection.timezone is not datetime.timezone.utc:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


def arrays_in_rows(using: str) -> bool:
    """Whether a row's own query can return a list of values (PostgreSQL's ARRAY subquery)."""
    return connections[using].vendor == "postgresql"
