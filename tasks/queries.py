"""How tasks are read: the caller's scope, rows for the fast JSON, and the hot reads compiled once.

Building and compiling a queryset costs about a millisecond of Python per request, more than
PostgreSQL spends running it. A page of the default list, one task and a caller's task count
are the same statements every time but for the caller's id, the task id and the page bounds,
so each is compiled once per process, from the same querysets the other paths use, with
placeholders where those values go, then run with the request's values
(tests/tasks/test_queries.py compares the results with the ORM's). PostgreSQL only: elsewhere
`task_rows` needs a second query for tags anyway, and the ORM runs as usual.
"""

import functools

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from tasks.models import Tag, Task
from todo_project.db import CompiledRows, prepared

# The values of a task its JSON shows (tasks.serializers.task_rows_json), in that order.
TASK_ROW_FIELDS = (
    "id", "owner_id", "title", "description", "completed", "completed_at",
    "priority", "due_at", "recurrence", "created_at", "updated_at",
)


def caller_tasks(owner_id: str) -> QuerySet:
    """The tasks a caller may see: the one scoping rule of every task route."""
    return Task.objects.filter(owner_id=owner_id)


def task_rows(tasks: QuerySet) -> QuerySet:
    """`tasks` as values() rows for `task_rows_json`, with `version` for the ETag.

    On PostgreSQL each row brings its tag names along (an ARRAY subquery, evaluated only for
    the rows a page returns), so a page is one query instead of two; elsewhere
    `task_rows_json` reads the page's tags in a second query.
    """
    if connections[tasks.db].vendor != "postgresql":
        return tasks.values(*TASK_ROW_FIELDS, "version")
    return tasks.values(*TASK_ROW_FIELDS, "version", tag_names=_tag_names())


def tasks_with_tag_names(tasks: QuerySet) -> QuerySet:
    """Tasks for `task_json`: carrying `tag_names` from the same query on PostgreSQL, else with
    their tags prefetched. Only for tasks whose tags the caller leaves as they are."""
    if connections[tasks.db].vendor != "postgresql":
        return tasks.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    return tasks.annotate(tag_names=_tag_names())


def _tag_names() -> ArraySubquery:
    return ArraySubquery(Task.tags.through.objects.filter(task_id=OuterRef("pk")).values("tag__name"))


# Values no real parameter can equal: they mark where the request's values go.
OWNER = "\x00owner"
TASK_ID = -1


def _count_of(tasks: QuerySet) -> QuerySet:
    """COUNT(*) of `tasks` as a one-column queryset; no row at all when there are none."""
    return tasks.order_by().values("owner_id").annotate(n=Count("*")).values("n")


SHAPES = {
    # The model's default order; each row also carries the caller's total (an uncorrelated
    # subquery PostgreSQL runs once), so a page with more after it needs no second query.
    "page": lambda: task_rows(caller_tasks(OWNER)).annotate(
        total=Coalesce(Subquery(_count_of(caller_tasks(OWNER))), 0)
    ),
    "one": lambda: task_rows(caller_tasks(OWNER).filter(pk=TASK_ID)),
    # The task a write is about, locked until the transaction ends, with its tag names.
    "locked": lambda: tasks_with_tag_names(caller_tasks(OWNER).filter(pk=TASK_ID)).select_for_update(),
    "count": lambda: _count_of(caller_tasks(OWNER)),
}


@functools.cache
def _compiled(shape: str, using: str) -> CompiledRows:
    return CompiledRows(SHAPES[shape]().using(using), using)


class DefaultPage:
    """The caller's tasks in the default order as `task_rows`, sliced like a queryset by
    TaskPagination; each row also carries `total`, the caller's task count."""

    def __init__(self, owner_id: str, using: str):
        self.owner_id, self.using = owner_id, using

    def __getitem__(self, page: slice) -> list[dict]:
        start = page.start or 0
        return _compiled("page", self.using).fetch(
            {OWNER: self.owner_id}, suffix=" LIMIT %s OFFSET %s", extra=(page.stop - start, start)
        )

    def count(self) -> int:
        return task_count(self.owner_id, self.using)


def one_task_row(owner_id: str, task_id: int, using: str) -> dict | None:
    rows = _compiled("one", using).fetch({OWNER: owner_id, TASK_ID: task_id})
    return rows[0] if rows else None


# A Task's columns in the order its SQL selects them, which Model.from_db expects.
TASK_ATTNAMES = [field.attname for field in Task._meta.concrete_fields]


def locked_task(owner_id: str, task_id: int, using: str) -> Task | None:
    """The caller's task, its row locked (inside a transaction), carrying `tag_names`; compiled."""
    _, rows = _compiled("locked", using).fetch_tuples({OWNER: owner_id, TASK_ID: task_id})
    if not rows:
        return None
    *values, tag_names = rows[0]
    task = Task.from_db(using, TASK_ATTNAMES, values)
    task.tag_names = tag_names
    return task


def task_count(owner_id: str, using: str) -> int:
    """How many tasks the caller has."""
    if not prepared(using):
        return caller_tasks(owner_id).using(using).count()
    rows = _compiled("count", using).fetch({OWNER: owner_id})
    return rows[0]["n"] if rows else 0
