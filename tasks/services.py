"""What can be done with tasks beyond plain CRUD: tags, completion, recurrence, limits, deletion.

Every write of a user's rows takes the owner's row lock first (accounts.services.user_lock),
then the rows it changes (`select_for_update`), then the owner's change counter: the one order
of locks on every path, so two writes never deadlock, and a user's writes run one at a time (two
requests completing one recurring task spawn one next occurrence, not two). Every write here is
a change of the owner's feed (core.changes): `Task.save` numbers its own, and the writes of many
rows at once take one number per owner.
"""

import functools
from collections import Counter

from django.conf import settings
from django.db import router
from django.db.models import BigIntegerField, CharField, Count, Expression, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import User
from accounts.services import user_lock
from core.changes import change_next, changes_delete
from core.db import CompiledQuery, Param
from tasks.limits import SUBTASKS_PER_TASK
from tasks.models import SCHEDULE_FIELDS, Tag, Task, TaskList, counted_touch, lists_left, tasks_counted
from tasks.positions import (
    POSITION_STEP,
    position_at_end,
    position_at_top,
    position_edge,
    position_next_to_sql,
    position_place,
)
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
    return position_at_end(caller_lists(owner.better_auth_id))


def task_siblings(*, owner_id: str, list_id: int | None, parent_id: int | None) -> QuerySet:
    """The tasks that share a manual order: a list's (or the inbox's) top-level tasks, or one task's subtasks."""
    if parent_id is not None:
        return Task.objects.filter(owner_id=owner_id, parent_id=parent_id)
    return Task.objects.filter(owner_id=owner_id, list_id=list_id, parent__isnull=True)


def task_new_position(*, owner_id: str, list_id: int | None, parent_id: int | None, top: bool = False) -> int:
    """Where a task added to its siblings goes: after the last, or before the first (`top`)."""
    group = task_siblings(owner_id=owner_id, list_id=list_id, parent_id=parent_id)
    return position_at_top(group) if top else position_at_end(group)


def task_new_position_expression(
    *, owner_id: str, list_id: int | None, parent_id: int | None, top: bool = False
) -> Expression:
    """`task_new_position` as an expression for the task's INSERT (no query of its own)."""
    edge = _siblings_edge(router.db_for_write(Task), list_id is not None, parent_id is not None, top)
    return edge.expression(
        BigIntegerField(),
        template=position_next_to_sql(top=top),
        owner_id=owner_id,
        list_id=list_id,
        parent_id=parent_id,
    )


@functools.cache
def _siblings_edge(using: str, in_list: bool, under_parent: bool, top: bool) -> CompiledQuery:
    # Compiled once for each kind of group: building and compiling the subquery on every create
    # was a fifth of its Python (bench/README.md, "Order and subtasks").
    group = task_siblings(
        owner_id=Param("owner_id", CharField()),
        list_id=Param("list_id", BigIntegerField()) if in_list else None,
        parent_id=Param("parent_id", BigIntegerField()) if under_parent else None,
    )
    return CompiledQuery(position_edge(group.using(using), top=top))


def task_move(*, task: Task, list_id: int | None, before: Task | None = None, after: Task | None = None) -> bool:
    """Moves a locked task just before or after one of its future siblings, or to the end of the
    list `list_id` (None: the inbox); its subtasks follow it to another list. Whether it moved.

    Each task written is a new version and a change of the owner's feed. The caller holds the
    owner's row and the task's; the place is read under them, so two moves never take the same
    one (tasks.positions).
    """
    following = task.subtasks.all() if task.list_id != list_id else Task.objects.none()
    list(following.select_for_update().values_list("pk"))
    group = task_siblings(owner_id=task.owner_id, list_id=list_id, parent_id=task.parent_id)
    position = position_place(
        row=task,
        group=group,
        in_group=task.list_id == list_id,
        before=before,
        after=after,
        stamp=lambda: {"change_seq": owner_change_next(owner=task.owner)},
    )
    if position is None:
        return False
    changed = ["position"]
    if task.list_id != list_id:
        changed.append("list")
        task.list_id = list_id
    task.position = position
    task.save(update_fields=changed)  # Task.save adds version, updated_at and change_seq
    subtasks_follow(parent=task, subtasks=following)
    return True


def subtasks_follow(*, parent: Task, subtasks: QuerySet) -> None:
    """Puts a parent's (locked) subtasks in its list, in the write that saved it there: each a new
    version and the same change of the feed. The list they left is fed by the parent's save
    (tasks.models.lists_left); the one they went into comes with them in the feed."""
    subtasks.update(
        list_id=parent.list_id, updated_at=parent.updated_at, version=F("version") + 1, change_seq=parent.change_seq
    )


def tasks_move(*, tasks: list[Task], list_id: int | None) -> int:
    """Puts locked top-level tasks at the end of a list (None: the inbox), in their current order,
    their subtasks with them; each moved task a new version and a change of its owner's feed. How
    many moved."""
    moving = sorted(
        (task for task in tasks if task.list_id != list_id), key=lambda t: (t.list_id or 0, t.position, t.pk)
    )
    if not moving:
        return 0
    subtasks = Task.objects.filter(parent_id__in=[task.pk for task in moving])
    list(subtasks.select_for_update().values_list("pk"))
    # Their places are read under the owner's lock, so two moves never take the same one.
    seqs = change_numbers(tasks=moving)
    now = timezone.now()
    for owner_id, seq in seqs.items():
        owned = [task for task in moving if task.owner_id == owner_id]
        start = position_at_end(task_siblings(owner_id=owner_id, list_id=list_id, parent_id=None))
        ranks = {task.pk: start + index * POSITION_STEP for index, task in enumerate(owned)}
        whens = " ".join(f"WHEN {int(pk)} THEN {int(position)}" for pk, position in ranks.items())
        Task.objects.filter(pk__in=list(ranks)).update(
            list_id=list_id,
            position=RawSQL(f"CASE id {whens} ELSE position END", ()),
            updated_at=now,
            version=F("version") + 1,
            change_seq=seq,
        )
        subtasks.filter(parent_id__in=list(ranks)).update(
            list_id=list_id, updated_at=now, version=F("version") + 1, change_seq=seq
        )
        lists_left({task.list_id for task in owned}, seq=seq)
    return len(moving)


def subtask_check_room(*, parent_id: int, adding: int = 1) -> None:
    """Refuses a subtask past SUBTASKS_PER_TASK under one parent."""
    if Task.objects.filter(parent_id=parent_id).count() + adding > SUBTASKS_PER_TASK:
        raise LimitReached(f"A task can have at most {SUBTASKS_PER_TASK} subtasks.", code="subtask_limit_reached")


def _check_subtask_room(*, tasks: list[Task]) -> None:
    """Refuses the next occurrences of these recurring tasks when those of subtasks (which go
    under the same parent) would take a parent past SUBTASKS_PER_TASK."""
    for parent_id, adding in sorted(Counter(task.parent_id for task in tasks if task.parent_id).items()):
        subtask_check_room(parent_id=parent_id, adding=adding)


def owner_change_next(*, owner: User) -> int:
    """The owner's next change number (core.changes), under the lock on the owner's row that
    every write of theirs takes first (accounts.services.user_lock): the owner's row, then the
    rows written, then their change counter, the one order of locks on every path (no deadlock)."""
    user_lock(user_id=owner.better_auth_id)
    return change_next(user=owner)


def owners_lock(*, owner_ids) -> None:
    """Locks these owners' rows, in one order (no deadlock between two writers of several owners'
    rows, the admin's): what every write of their rows takes first."""
    for owner_id in sorted(set(owner_ids)):
        user_lock(user_id=owner_id)


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
        _check_room(owner_id=task.owner_id, adding=1 + task.subtask_count)
        _check_subtask_room(tasks=[task])
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
    subtasks = _subtask_counts([task.pk for task, _ in following])
    adding = Counter()
    for task, _ in following:
        adding[task.owner_id] += 1 + subtasks.get(task.pk, 0)
    for owner_id, count in adding.items():
        _check_room(owner_id=owner_id, adding=count)
    _check_subtask_room(tasks=[task for task, _ in following])
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
        counted_touch(
            parent_ids={task.parent_id for task in changing if task.owner_id == owner_id} - set(owned),
            seq=seq,  # a parent changing is written anyway
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


def _subtask_counts(task_ids: list[int]) -> dict[int, int]:
    if not task_ids:
        return {}
    counts = Task.objects.filter(parent_id__in=task_ids).values("parent_id").annotate(n=Count("*"))
    return dict(counts.values_list("parent_id", "n"))


def tasks_spawn_next_occurrences(*, following: list[tuple[Task, dict]], seqs: dict[str, int]) -> list[Task]:
    """Creates each task's next occurrence: same fields, tags and subtasks (reopened), the given
    schedule (due date and rule), at the end of its siblings, stamped with its owner's change
    number in `seqs`.

    The caller links each task to its occurrence (`next_occurrence`) in the write that
    completes it.
    """
    ends = {}

    def at_end(task: Task) -> int:
        key = (task.owner_id, task.list_id, task.parent_id)
        if key not in ends:
            ends[key] = task_new_position(owner_id=task.owner_id, list_id=task.list_id, parent_id=task.parent_id)
        else:
            ends[key] += POSITION_STEP
        return ends[key]

    spawned = Task.objects.bulk_create(
        [
            Task(
                **{**task.next_occurrence_values(), **schedule, "position": at_end(task)},
                change_seq=seqs[task.owner_id],
            )
            for task, schedule in following
        ]
    )
    copies = {task.pk: new for (task, _), new in zip(following, spawned, strict=True)}
    # Their subtasks, reopened, under the new occurrence, each with its own schedule as it was.
    subtasks = list(Task.objects.filter(parent_id__in=list(copies)).order_by("position", "id"))
    subtask_copies = Task.objects.bulk_create(
        [
            Task(
                **{
                    **subtask.next_occurrence_values(),
                    "parent_id": copies[subtask.parent_id].pk,
                    "list_id": copies[subtask.parent_id].list_id,
                    **{name: getattr(subtask, name) for name in SCHEDULE_FIELDS},
                    "position": subtask.position,
                },
                change_seq=seqs[subtask.owner_id],
            )
            for subtask in subtasks
        ]
    )
    copies.update({subtask.pk: new for subtask, new in zip(subtasks, subtask_copies, strict=True)})
    if subtask_copies:  # the new occurrences' counts of their copied subtasks, all open
        Task.objects.filter(pk__in={copy.parent_id for copy in subtask_copies}).update(
            subtask_count=tasks_counted("parent_id"), open_subtask_count=tasks_counted("parent_id", open_only=True)
        )
    # The parents of a recurring subtask's next occurrence, counted again (the lists they went into
    # come with them in the feed).
    for owner_id, seq in seqs.items():
        counted_touch(parent_ids={new.parent_id for new in spawned if new.owner_id == owner_id}, seq=seq)
    links = Task.tags.through.objects
    tag_links = links.filter(task_id__in=list(copies)).values_list("task_id", "tag_id")
    links.bulk_create([links.model(task_id=copies[task_id].pk, tag_id=tag_id) for task_id, tag_id in tag_links])
    return spawned


def tasks_delete(*, owner: User, tasks: QuerySet) -> int:
    """Deletes some of the owner's tasks, each a deletion in their feed, and the tags left unused."""
    # The owner's row, the tasks', then (in changes_delete) their counter, as every write.
    # Their subtasks go with them (Task.parent: CASCADE), each a deletion in the feed too.
    user_lock(user_id=owner.better_auth_id)
    ids = list(tasks.select_for_update().values_list("pk", flat=True))
    tasks = Task.objects.filter(Q(pk__in=ids) | Q(parent_id__in=ids)).select_for_update()
    list(tasks.values_list("pk"))
    counted_in = list(tasks.values_list("list_id", "parent_id"))
    deleted = changes_delete(tasks, user=owner)
    if deleted:
        seq = change_next(user=owner)
        counted_touch(parent_ids={parent_id for _, parent_id in counted_in} - set(ids), seq=seq)  # not those deleted
        lists_left({list_id for list_id, _ in counted_in}, seq=seq)
    tags_prune(owner=owner)
    return deleted


def lists_delete(*, owner: User, lists: QuerySet) -> int:
    """Deletes some of the owner's lists and their tasks, each list and task a deletion in their
    feed. Locks as every write takes them: the owner's row, then the tasks' and the lists'."""
    ids = list(lists.values_list("pk", flat=True))
    tasks_delete(owner=owner, tasks=Task.objects.filter(owner=owner, list_id__in=ids))
    return changes_delete(TaskList.objects.filter(owner=owner, pk__in=ids), user=owner)
