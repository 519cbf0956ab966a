"""What can be done with tasks beyond plain CRUD: tags, completion, recurrence, limits, deletion.

Callers that change a task hold its row lock (`select_for_update` inside a transaction), so
two requests completing one recurring task spawn one next occurrence, not two. Every write
here is a change of the owner's feed (core.changes): `Task.save` numbers its own, and the
writes of many rows at once take one number per owner.
"""

from collections import Counter

from django.conf import settings
from django.db import router
from django.db.models import F, Max, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import User
from accounts.services import user_lock
from core.changes import change_next, changes_delete
from tasks.models import Tag, Task, TaskList
from tasks.queries import caller_lists, task_count
from tasks.recurrence import SearchBudget, SearchBudgetSpent, recurrence_next_due


class LimitReached(exceptions.APIException):
    """A user's collection is full; nothing was written."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "limit_reached"


class SearchBudgetReached(LimitReached):
    """Completing these recurring tasks at once would search too long for their next occurrences."""

    default_detail = (
        "Finding the next occurrences of these recurring tasks would take too long; complete fewer at once."
    )
    default_code = "search_budget_reached"


def task_check_room(*, owner: User) -> None:
    """Refuses a new task once the owner has as many as the settings allow."""
    _check_room(owner_id=owner.better_auth_id, adding=1)


def _check_room(*, owner_id: str, adding: int) -> None:
    user_lock(user_id=owner_id)  # no other write counts the owner's tasks until this one commits
    limit = settings.TASKS["MAX_TASKS_PER_USER"]
    if task_count(owner_id, router.db_for_write(Task)) + adding > limit:
        raise LimitReached(f"A user can have at most {limit} tasks.", code="task_limit_reached")


def list_check_room(*, owner: User) -> None:
    """Refuses a new list once the owner has as many as the settings allow (as `task_check_room`)."""
    user_lock(user_id=owner.better_auth_id)  # no other write counts the owner's lists until this one commits
    limit = settings.TASKS["MAX_LISTS_PER_USER"]
    if caller_lists(owner.better_auth_id, router.db_for_write(TaskList)).count() + 1 > limit:
        raise LimitReached(f"A user can have at most {limit} lists.", code="list_limit_reached")


def list_next_position(*, owner: User) -> int:
    """Where a new list goes: after the owner's last one."""
    last = caller_lists(owner.better_auth_id).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def tasks_move(*, tasks: list[Task], list_id: int | None) -> int:
    """Puts locked tasks in a list (None: the inbox), each moved task a new version and a change
    of its owner's feed; how many moved."""
    moving = [task for task in tasks if task.list_id != list_id]
    now = timezone.now()
    for owner_id, seq in change_numbers(tasks=moving).items():
        Task.objects.filter(pk__in=[task.pk for task in moving if task.owner_id == owner_id]).update(
            list_id=list_id, updated_at=now, version=F("version") + 1, change_seq=seq
        )
    return len(moving)


def owner_change_next(*, owner: User) -> int:
    """The owner's next change number (core.changes), after the lock on the owner's row that
    every write of theirs takes first (accounts.services.user_lock): task rows, then the owner's
    row, then their change counter, the one order of locks on every path (no deadlock)."""
    user_lock(user_id=owner.better_auth_id)
    return change_next(user=owner)


def change_numbers(*, tasks: list[Task]) -> dict[str, int]:
    """A change number of each owner's feed for one write of these tasks, owner by owner in one
    order (no deadlock between two writers of several owners' tasks, the admin's)."""
    owners = User.objects.in_bulk({task.owner_id for task in tasks}, field_name="better_auth_id")
    return {owner_id: owner_change_next(owner=owners[owner_id]) for owner_id in sorted(owners)}


def tags_resolve(*, owner: User, names: list[str]) -> list[Tag]:
    """The owner's tags with these names (case-insensitively), creating the missing ones."""
    if not names:
        return []
    # Before reading the owner's tags: no other write creates or prunes them meanwhile.
    user_lock(user_id=owner.better_auth_id)
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


def tags_prune(*, owner: User | str) -> None:
    """Drops the owner's (a user or their id) tags that no task uses any more, so they stop
    counting against the limit.

    Under the owner's lock, as tags_resolve reads them: a tag another request is linking is
    either still there when it links it or pruned before it looks.
    """
    user_lock(user_id=owner if isinstance(owner, str) else owner.better_auth_id)
    Tag.objects.filter(owner=owner, tasks__isnull=True).delete()


def task_set_tags(*, task: Task, names: list[str]) -> None:
    tags = tags_resolve(owner=task.owner, names=names)
    task.tags.set(tags)
    task.tag_names = [tag.name for tag in tags]
    tags_prune(owner=task.owner)


def task_set_completed(*, task: Task, completed: bool) -> Task | None:
    """Completes or reopens a task (saving it) and returns the next occurrence it spawned, if any.

    Completing a recurring task keeps it completed and creates the next one in the series.
    Reopening it removes that occurrence while it is untouched (a misclicked completion undone),
    so completing again creates it anew; one edited or completed since stays, and completing
    again creates no second. With the owner at the task limit that is a LimitReached, before
    anything is written.
    """
    following = _following(task) if completed and not task.completed else None
    if following is not None:
        _check_room(owner_id=task.owner_id, adding=1)
    changed = ["completed", "completed_at"]
    spawned = None
    if following is not None:
        seqs = {task.owner_id: owner_change_next(owner=task.owner)}
        [spawned] = tasks_spawn_next_occurrences(following=[(task, following)], seqs=seqs)
        spawned.tag_names = task.tag_names
        task.next_occurrence = spawned
        changed.append("next_occurrence")
    if not completed and task.completed and tasks_remove_untouched_occurrences(tasks=[task]):
        task.next_occurrence = None
        changed.append("next_occurrence")
    task.set_completed(completed)
    task.save(update_fields=changed)  # Task.save adds version and updated_at
    return spawned


def tasks_set_completed(*, tasks: list[Task], completed: bool) -> tuple[int, list[Task], list[int]]:
    """`task_set_completed` for many locked tasks: how many changed, the occurrences spawned, and
    the ids of the untouched occurrences that reopening removed.

    All of them or none: when the spawned occurrences would take an owner past the task
    limit, or their searches past REQUEST_SEARCH_LOOKS together, LimitReached before anything
    is written. The occurrences are created in a few statements and each owner's tasks change
    in one UPDATE, whatever their number.
    """
    changing = [task for task in tasks if task.completed != completed]
    budget = SearchBudget()  # for the whole request, not only each search
    try:
        following = [
            (task, after) for task in changing if completed and (after := _following(task, budget)) is not None
        ]
    except SearchBudgetSpent:
        raise SearchBudgetReached() from None
    for owner_id, adding in Counter(task.owner_id for task, _ in following).items():
        _check_room(owner_id=owner_id, adding=adding)
    # The occurrences' rows locked before the owners' (change_numbers): the order of every write.
    removed = [] if completed else tasks_remove_untouched_occurrences(tasks=changing)
    seqs = change_numbers(tasks=changing)
    spawned = tasks_spawn_next_occurrences(following=following, seqs=seqs) if following else []
    next_ids = {task.pk: new.pk for (task, _), new in zip(following, spawned, strict=True)}
    now = timezone.now()
    for owner_id, seq in seqs.items():
        owned = [task.pk for task in changing if task.owner_id == owner_id]
        links = {"next_occurrence_id": _next_occurrences({pk: next_ids[pk] for pk in owned if pk in next_ids})}
        Task.objects.filter(pk__in=owned).update(
            completed=completed,
            completed_at=now if completed else None,
            updated_at=now,
            version=F("version") + 1,
            change_seq=seq,
            **(links if any(pk in next_ids for pk in owned) else {}),
        )
    return len(changing), spawned, removed


def tasks_remove_untouched_occurrences(*, tasks: list[Task]) -> list[int]:
    """Deletes the next occurrences of these (locked) tasks that are still as their completion
    created them, never edited nor completed, and returns their ids; the tasks' links to them
    become null in the database (`on_delete=SET_NULL`). Each is a deletion in its owner's feed."""
    ids = [task.next_occurrence_id for task in tasks if task.next_occurrence_id is not None]
    if not ids:
        return []
    # Locked, then checked: an edit that commits first keeps its occurrence.
    occurrences = [t for t in Task.objects.filter(pk__in=ids).select_for_update() if t.untouched]
    if not occurrences:
        return []
    owners = User.objects.in_bulk({t.owner_id for t in occurrences}, field_name="better_auth_id")
    for owner_id in sorted(owners):
        owned = [t.pk for t in occurrences if t.owner_id == owner_id]
        tasks_delete(owner=owners[owner_id], tasks=Task.objects.filter(pk__in=owned))
    return sorted(t.pk for t in occurrences)


def _next_occurrences(links: dict[int, int]) -> RawSQL:
    """`next_occurrence_id` for an UPDATE of many tasks: CASE id WHEN task THEN its next ... END.

    Django's bulk_update builds the same CASE from a When() per task, which dominated a bulk
    complete of many recurring tasks (bench/README.md, "Bulk complete of 500 recurring tasks").
    """
    whens = " ".join(f"WHEN {int(task_id)} THEN {int(next_id)}" for task_id, next_id in links.items())
    return RawSQL(f"CASE id {whens} ELSE next_occurrence_id END", ())


def _following(task: Task, budget: SearchBudget | None = None) -> dict | None:
    if not task.spawns_next_when_completed:
        return None
    return recurrence_next_due(
        task.recurrence, due_at=task.due_at, due_date=task.due_date, due_timezone=task.due_timezone, budget=budget
    )


def tasks_spawn_next_occurrences(*, following: list[tuple[Task, dict]], seqs: dict[str, int]) -> list[Task]:
    """Creates each task's next occurrence: same fields and tags, the given schedule (due date and
    rule), stamped with its owner's change number in `seqs`.

    The caller links each task to its occurrence (`next_occurrence`) in the write that
    completes it.
    """
    spawned = Task.objects.bulk_create(
        [
            Task(**{**task.next_occurrence_values(), **schedule}, change_seq=seqs[task.owner_id])
            for task, schedule in following
        ]
    )
    links = Task.tags.through.objects
    spawned_for = {task.pk: new for (task, _), new in zip(following, spawned, strict=True)}
    tag_links = links.filter(task_id__in=list(spawned_for)).values_list("task_id", "tag_id")
    links.bulk_create([links.model(task_id=spawned_for[task_id].pk, tag_id=tag_id) for task_id, tag_id in tag_links])
    return spawned


def tasks_delete(*, owner: User, tasks: QuerySet) -> int:
    """Deletes some of the owner's tasks, each a deletion in their feed, and the tags left unused."""
    # The tasks' rows, then (in changes_delete) the owner's and their counter, as every write.
    tasks = tasks.select_for_update()
    list(tasks.values_list("pk"))
    user_lock(user_id=owner.better_auth_id)
    deleted = changes_delete(tasks, user=owner)
    tags_prune(owner=owner)
    return deleted
