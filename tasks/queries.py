"""The two reads clients make all the time, through SQL the ORM compiled once per process.

Building and compiling a queryset costs about a millisecond of Python per request, more than
PostgreSQL spends running it. A page of the default list and one task are the same statements
every time but for the caller's id, the task id and the page bounds, so each is compiled once,
from the same `task_rows` queryset the other reads use, with placeholders where those values
go, then run with the request's values (tests/tasks/test_queries.py compares the rows with the
ORM's). PostgreSQL only: elsewhere `task_rows` needs a second query for tags anyway.
"""

import functools

from django.db import connections

from tasks.models import Task
from tasks.serializers import task_rows

# Values no real parameter can equal: they mark where the request's values go.
OWNER = "\x00owner"
TASK_ID = -1


def caller_tasks(owner_id: str):
    """The tasks a caller may see: the one scoping rule of every task route."""
    return Task.objects.filter(owner_id=owner_id)


class CompiledRows:
    """A `task_rows` queryset's SQL, run with new values for its placeholders."""

    def __init__(self, queryset, using: str):
        self.using = using
        self.sql, self.params = queryset.query.get_compiler(using).as_sql()

    def fetch(self, values: dict, *, suffix: str = "", extra: tuple = ()) -> list[dict]:
        params = [values.get(param, param) for param in self.params]
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql + suffix, [*params, *extra])
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]


@functools.cache
def _compiled(shape: str, using: str) -> CompiledRows:
    tasks = caller_tasks(OWNER)
    if shape == "one":
        tasks = tasks.filter(pk=TASK_ID)
    return CompiledRows(task_rows(tasks.using(using)), using)


def prepared(using: str) -> bool:
    """Whether these reads run compiled on this database (PostgreSQL)."""
    return connections[using].vendor == "postgresql"


class DefaultPage:
    """The caller's tasks in the default order as `task_rows`, sliced like a queryset by TaskPagination."""

    def __init__(self, owner_id: str, using: str):
        self.owner_id, self.using = owner_id, using

    def __getitem__(self, page: slice) -> list[dict]:
        start = page.start or 0
        return _compiled("page", self.using).fetch(
            {OWNER: self.owner_id}, suffix=" LIMIT %s OFFSET %s", extra=(page.stop - start, start)
        )

    def count(self) -> int:
        return caller_tasks(self.owner_id).using(self.using).count()


def one_task_row(owner_id: str, task_id: int, using: str) -> dict | None:
    rows = _compiled("one", using).fetch({OWNER: owner_id, TASK_ID: task_id})
    return rows[0] if rows else None
