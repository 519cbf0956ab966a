"""What can be done with tasks beyond plain CRUD: tags, completion, recurrence, limits.

Callers that change a task hold its row lock (`select_for_update` inside a transaction), so
two requests completing one recurring task spawn one next occurrence, not two.
"""

from django.conf import settings
from django.db import router
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import User
from tasks.models import Tag, Task
from tasks.queries import task_count
from tasks.recurrence import recurrence_next


class LimitReached(exceptions.APIException):
    """A user's collection is full; nothing was written."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "limit_reached"


def task_check_room(*, owner: User) -> None:
    """Refuses a new task once the owner has as many as the settings allow."""
    limit = settings.TASKS["MAX_TASKS_PER_USER"]
    if task_count(owner.better_auth_id, router.db_for_write(Task)) >= limit:
        raise LimitReached(f"A user can have at most {limit} tasks.", code="task_limit_reached")


def tags_resolve(*, owner: User, names: list[str]) -> list[Tag]:
    """The owner's tags with these names (case-insensitively), creating the missing ones."""
    if not names:
        return []
    wanted = {name.casefold(): name for name in names}

    def existing() -> dict[str, Tag]:
        tags = Tag.objects.filter(owner=owner).annotate(key=Lower("name")).filter(key__in=[n.lower() for n in names])
        return {tag.name.casefold(): tag for tag in tags}

    found = existing()
    missing = [name for key, name in wanted.items() if key not in found]
    if missing:
        limit = settings.TASKS["MAX_TAGS_PER_USER"]
        if Tag.objects.filter(owner=owner).count() + len(missing) > limit:
            raise LimitReached(f"A user can have at most {limit} tags.", code="tag_limit_reached")
        # A concurrent request may create the same tag: ignore the conflict and read it back.
        Tag.objects.bulk_create([Tag(owner=owner, name=name) for name in missing], ignore_conflicts=True)
        found = existing()
    return [found[key] for key in wanted if key in found]


def tags_prune(*, owner: User) -> None:
    """Drops the owner's tags that no task uses any more, so they stop counting against the limit."""
    Tag.objects.filter(owner=owner, tasks__isnull=True).delete()


def task_set_tags(*, task: Task, names: list[str]) -> None:
    tags = tags_resolve(owner=task.owner, names=names)
    task.tags.set(tags)
    task.tag_names = [tag.name for tag in tags]
    tags_prune(owner=task.owner)


def task_set_completed(*, task: Task, completed: bool) -> Task | None:
    """Completes or reopens a task (saving it) and returns the next occurrence it spawned, if any.

    Completing a recurring task keeps it completed and creates the next one in the series,
    once: reopening and completing again does not spawn a second.
    """
    spawns = completed and not task.completed and task.spawns_next_when_completed
    task.set_completed(completed)
    task.save(update_fields=["completed", "completed_at"])  # Task.save adds version and updated_at
    return task_spawn_next_occurrence(task=task) if spawns else None


def tasks_set_completed(*, tasks: list[Task], completed: bool) -> tuple[int, list[Task]]:
    """`task_set_completed` for many locked tasks: how many changed, and the occurrences spawned.

    Tasks that spawn go one by one; the rest change in a single UPDATE.
    """
    changing = [task for task in tasks if task.completed != completed]
    one_by_one = [task for task in changing if completed and task.spawns_next_when_completed]
    in_one_update = [task.pk for task in changing if task not in one_by_one]
    now = timezone.now()
    Task.objects.filter(pk__in=in_one_update).update(
        completed=completed, completed_at=now if completed else None, updated_at=now, version=F("version") + 1
    )
    spawned = [task_set_completed(task=task, completed=True) for task in one_by_one]
    return len(changing), [task for task in spawned if task is not None]


def task_spawn_next_occurrence(*, task: Task) -> Task | None:
    following = recurrence_next(task.recurrence, task.due_at)
    if following is None:
        return None
    due_at, rule = following
    spawned = Task.objects.create(**{**task.next_occurrence_values(), "due_at": due_at, "recurrence": rule})
    spawned.tags.set(task.tags.all())
    task.next_occurrence = spawned
    task.save(update_fields=["next_occurrence"])
    return spawned
