"""How tasks are read: the caller's scope, with each task's tag names, and a page's total."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from tasks.models import Tag, Task
from todo_project.db import arrays_in_rows


def caller_tasks(owner_id: str) -> QuerySet:
    """The tasks a caller may see: the one scoping rule of every task route."""
    return Task.objects.filter(owner_id=owner_id)


def tasks_with_tag_names(tasks: QuerySet) -> QuerySet:
    """Tasks that render their tags without a query per task: `tag_names` from the row's own
    query where the database returns arrays (one query for a page or a task), else their tags
    prefetched (a second query)."""
    if arrays_in_rows(tasks.db):
        links = Task.tags.through.objects.filter(task_id=OuterRef("pk")).values("tag__name")
        return tasks.annotate(tag_names=ArraySubquery(links))
    return tasks.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))


def with_caller_total(tasks: QuerySet, owner_id: str) -> QuerySet:
    """Each row also carries `total`, how many tasks the caller has, so that a page and its count
    are one query (todo_project.pagination reads it); an uncorrelated subquery, run once."""
    count = caller_tasks(owner_id).order_by().values("owner_id").annotate(n=Count("*")).values("n")
    return tasks.annotate(total=Coalesce(Subquery(count), 0))


def task_count(owner_id: str, using: str | None = None) -> int:
    """How many tasks the caller has."""
    return caller_tasks(owner_id).using(using).count()
