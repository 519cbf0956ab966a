"""What differs between the databases the project runs on, and querysets compiled once.

## Timestamps

Django's psycopg 3 backend registers a Python subclass of psycopg's `timestamptz` loader on
every connection, to stamp each value with Django's time zone. A Python subclass cannot use
psycopg's C implementation, so every timestamp of every row is parsed in Python, 4 of them per
task (bench/README.md, "Fast paths that stay", row "timestamps through psycopg's C loader"). When Django's
zone and the session's are both UTC (Django sets the session's), the C loader already answers
`datetime` values in `datetime.timezone.utc`, the same values, so this registers a C-based
loader carrying the `timezone` attribute Django compares before it would register its own
again (tests/test_db.py checks the values are identical).

## Compiled querysets

Building and compiling a queryset costs more Python than the database spends running a small
query. `CompiledQuery` keeps the SQL the ORM compiles for a queryset whose varying values are
`Param`s (named parameters), and runs it with the request's values: as model instances
built as the ORM builds them, or as the values() rows it would give, converters included
(tasks/queries.py; bench/README.md, "Fast paths that stay", row "hot reads compiled").
"""

import datetime
import logging
import re

import psycopg
from django.conf import settings
from django.db import connections
from django.db.models import Expression, Field, QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL
from psycopg.adapt import AdaptersMap, Loader
from psycopg.types.datetime import TimestamptzLoader
from psycopg_pool import PoolTimeout

logger = logging.getLogger("core.db")

# The C class (psycopg[binary]), or the Python one when only the pure-Python package is installed.
_FastTimestamptzLoader = AdaptersMap()._get_optimised(TimestamptzLoader)


class UtcTimestamptzLoader(Loader):
    """Delegates to the C loader (which cannot be subclassed); `timezone` is what Django reads."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context=None):
        super().__init__(oid, context)
        self._load = _FastTimestamptzLoader(oid, context).load

    def load(self, data) -> datetime.datetime:
        return self._load(data)


def use_fast_timestamps(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the C loader on a UTC PostgreSQL connection."""
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


def arrays_in_rows(using: str) -> bool:
    """Whether a row's own query can return a list of values (PostgreSQL's ARRAY subquery)."""
    return connections[using].vendor == "postgresql"


class Param(Expression):
    """A value a compiled query is given each time it runs: `%(name)s` in its SQL."""

    def __init__(self, name: str, output_field: Field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return f"%({self.name})s", []


class CompiledQuery:
    """A queryset's SQL, compiled by the ORM once, run with values for its `Param`s."""

    def __init__(self, queryset: QuerySet, *, suffix: str = ""):
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        # Values the queryset itself holds (a rule such as `exclude(title=...)`) become named
        # parameters too, bound on every run: the SQL takes named parameters only.
        constants = iter(range(len(params)))
        sql = re.sub(r"%([%s])", lambda m: "%%" if m[1] == "%" else f"%(_constant_{next(constants)})s", sql)
        self.constants = {f"_constant_{n}": value for n, value in enumerate(params)}
        self.sql, self.queryset, self.compiler = sql + suffix, queryset, compiler
        # The same SQL with positional parameters, to sit inside a statement the ORM compiles.
        self.positional_names = []
        self.positional_sql = re.sub(r"%\((\w+)\)s", lambda m: self.positional_names.append(m[1]) or "%s", self.sql)
        # As the ORM reads values() rows: the names in select order, and each column's converters.
        query = queryset.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.converters = list(
            compiler.get_converters([column for column, *_ in compiler.select[: compiler.col_count]]).items()
        )

    def rows(self, **values) -> list[dict]:
        """The values() queryset's rows, as the ORM would give them."""
        return [dict(zip(self.names, row, strict=True)) for row in self._fetch(values)]

    def _fetch(self, values: dict) -> list:
        connection = connections[self.queryset.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, {**self.constants, **values})
            rows = cursor.fetchall()
        if self.converters:
            rows = [self._converted(list(row), connection) for row in rows]
        return rows

    def _converted(self, row: list, connection) -> list:
        for position, (converters, expression) in self.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        return row

    def instances(self, **values) -> list:
        """The queryset's model instances, annotations and prefetches included, built as the
        ORM's ModelIterable builds them."""
        select, model_fields = self.compiler.select, self.compiler.klass_info["select_fields"]
        start, end = model_fields[0], model_fields[-1] + 1
        init_list = [column.target.attname for column, *_ in select[start:end]]
        instances = []
        for row in self._fetch(values):
            instance = self.queryset.model.from_db(self.queryset.db, init_list, row[start:end])
            for name, position in self.compiler.annotation_col_map.items():
                setattr(instance, name, row[position])
            instances.append(instance)
        prefetch_related_objects(instances, *self.queryset._prefetch_related_lookups)
        return instances

    def expression(self, output_field: Field, *, template: str = "({})", **values) -> RawSQL:
        """The query's first column as a subquery of another statement (an INSERT's value), run
        with these values; `template` places the subquery's SQL in an SQL expression."""
        given = {**self.constants, **values}
        params = [given[name] for name in self.positional_names]
        return RawSQL(template.format(self.positional_sql), params, output_field=output_field)

    def value(self, **values):
        """The first column of the first row, or None without a row."""
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(self.sql, {**self.constants, **values})
            row = cursor.fetchone()
        return row[0] if row else None


def open_pool(seconds: float) -> None:
    """Opens this process's pool of database connections and waits up to `seconds` until it
    holds all of them, so its first requests find them ready (gunicorn.conf.py runs it in each
    new worker). A database that does not answer is logged; requests then connect as they come.

    Behind a transaction-mode pooler the statement timeout is the role's setting: one that is
    off or longer than DATABASE_STATEMENT_TIMEOUT_MS is logged as a warning.
    """
    pool = connections["default"].pool if connections["default"].vendor == "postgresql" else None
    if pool is None:
        return
    try:
        pool.open(wait=True, timeout=seconds)
        if settings.DATABASE_POOLED and (wanted := settings.DATABASE_STATEMENT_TIMEOUT_MS):
            with pool.connection() as conn:
                (actual,) = conn.execute(
                    "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
                ).fetchone()
            if not actual or actual > wanted:
                logger.warning(
                    "the database role's statement_timeout is %s ms, not %s ms: behind a pooler a query on a locked "
                    "table runs until DATABASE_QUERY_TIMEOUT (%s s). Set it: ALTER ROLE <role> SET statement_timeout = %s",
                    actual,
                    wanted,
                    settings.DATABASE_QUERY_TIMEOUT,
                    wanted,
                )
    except (PoolTimeout, psycopg.Error) as error:
        logger.warning("the database connections could not be opened at start: %s", error)
