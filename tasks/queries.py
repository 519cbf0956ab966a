"""How tasks are read: the caller's scope, each task with its tag names, and the hot reads.

The hot reads (a page of the default list, one task, one task locked for a write, a caller's
task count) are the same querysets every time but for the caller's id, the task id and the page
bounds, so each is compiled once per process with those as `Param`s (core.db) and run
with the request's values; the list page and one task come back as values() rows, which cost
less than model instances. What keeps them: bench/README.md, "Fast paths that stay", the row "hot reads
compiled" and the paragraph under it.
"""

import functools

from django.contrib.postgres.expressions import ArraySubquery
from django.db import router
from django.db.models import BigIntegerField, CharField, Count, OuterRef, Prefetch, QuerySet, Subquery

from core.db import CompiledQuery, Param, arrays_in_rows
from tasks.models import Tag, Task, TaskList, tasks_counted


def caller_tasks(owner_id, using: str | None = None) -> QuerySet:
    """The tasks a caller may see (Task.objects.visible_to): where every task read starts, the
    default page, one task, the locked task of a write, filtered lists, stats and bulk alike.
    The compiled reads below are built from it, once per process."""
    return Task.objects.using(using).visible_to(owner_id)


def caller_lists(owner_id, using: str | None = None) -> QuerySet:
    """The lists a caller may see (TaskList.objects.visible_to): where every list read starts."""
    return TaskList.objects.using(using).visible_to(owner_id)


def lists_with_counts(lists: QuerySet) -> QuerySet:
    """Lists with `task_count` and `open_count`, counted by the read (subqueries, no GROUP BY, so a
    row can still be locked): every read that shows a list reads it through here."""
    return lists.annotate(task_count=tasks_counted("list_id"), open_count=tasks_counted("list_id", open_only=True))


def tasks_with_tag_names(tasks: QuerySet) -> QuerySet:
    """Tasks that render their tags without a query per task: `tag_names` from the row's own
    query where the database returns arrays (one query for a page or a task), else their tags
    prefetched (a second query)."""
    if arrays_in_rows(tasks.db):
        return tasks.annotate(tag_names=_tag_names())
    return tasks.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))


def task_rows(tasks: QuerySet) -> QuerySet:
    """`tasks` as values() rows of every column a task has and its annotations, carrying
    `tag_names` where the database returns arrays (else `with_tag_names` reads them for a page
    in one query)."""
    columns = [*(field.attname for field in Task._meta.concrete_fields), *tasks.query.annotations]
    if arrays_in_rows(tasks.db):
        return tasks.values(*columns, tag_names=_tag_names())
    return tasks.values(*columns)


def with_tag_names(rows: list[dict]) -> list[dict]:
    """The rows of `task_rows`, each with its `tag_names`."""
    if not rows or "tag_names" in rows[0]:
        return rows
    names = {row["id"]: [] for row in rows}
    for task_id, name in Task.tags.through.objects.filter(task_id__in=list(names)).values_list("task_id", "tag__name"):
        names[task_id].append(name)
    return [{**row, "tag_names": names[row["id"]]} for row in rows]


def _tag_names() -> ArraySubquery:
    return ArraySubquery(Task.tags.through.objects.filter(task_id=OuterRef("pk")).values("tag__name"))


def _count_of(tasks: QuerySet) -> QuerySet:
    """COUNT(*) of `tasks` as a one-column queryset; no row at all when there are none."""
    return tasks.order_by().values("owner_id").annotate(n=Count("*")).values("n")


OWNER = Param("owner_id", CharField())
TASK = Param("task_id", BigIntegerField())

SHAPES = {
    # The default list in the model's order; each row also carries the caller's total (run once,
    # uncorrelated), so that a page with more after it needs no second query.
    "page": lambda using: task_rows(
        caller_tasks(OWNER, using).annotate(total=Subquery(_count_of(caller_tasks(OWNER, using))))
    ),
    "task": lambda using: task_rows(caller_tasks(OWNER, using).filter(pk=TASK)),
    # The task a write is about, its row locked until the transaction ends.
    "locked task": lambda using: tasks_with_tag_names(caller_tasks(OWNER, using)).filter(pk=TASK).select_for_update(),
    "count": lambda using: _count_of(caller_tasks(OWNER, using)),
}
SUFFIXES = {"page": " LIMIT %(limit)s OFFSET %(offset)s"}


@functools.cache
def _compiled(shape: str, using: str) -> CompiledQuery:
    return CompiledQuery(SHAPES[shape](using), suffix=SUFFIXES.get(shape, ""))


class DefaultPage:
    """The caller's tasks in the default order as rows with their tag names, sliced like a
    queryset by the pagination; each row also carries `total`, the caller's task count."""

    def __init__(self, owner_id: str):
        self.owner_id = owner_id

    def __getitem__(self, page: slice) -> list[dict]:
        start = page.start or 0
        compiled = _compiled("page", router.db_for_read(Task))
        return with_tag_names(compiled.rows(owner_id=self.owner_id, limit=page.stop - start, offset=start))

    def count(self) -> int:
        return task_count(self.owner_id, router.db_for_read(Task))

    def total_in(self, page: list[dict]) -> int | None:
        """The caller's task count, which every row of a page carries (core.pagination.CarriesTotal)."""
        return page[0]["total"] if page else None


def caller_task_row(owner_id: str, task_id: int) -> dict | None:
    """The caller's task with this id as a row with its tag names, if there is one."""
    rows = _compiled("task", router.db_for_read(Task)).rows(owner_id=owner_id, task_id=task_id)
    return with_tag_names(rows)[0] if rows else None


def caller_task_locked(owner_id: str, task_id: int) -> Task | None:
    """The caller's task with this id, its row locked until the transaction ends, if there is one."""
    found = _compiled("locked task", router.db_for_write(Task)).instances(owner_id=owner_id, task_id=task_id)
    return found[0] if found else None


def task_count(owner_id: str, using: str | None = None) -> int:
    """How many tasks the caller has."""
    return _compiled("count", using or router.db_for_read(Task)).value(owner_id=owner_id) or 0
