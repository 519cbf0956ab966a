from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils import timezone

from accounts.services import user_lock
from core.changes import change_next
from core.models import IdempotencyKey
from tasks.limits import (
    DESCRIPTION_MAX_LENGTH,
    LIST_NAME_MAX_LENGTH,
    RECURRENCE_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from tasks.zones import TIME_ZONE_MAX_LENGTH, day_in, zone_named

# What the next occurrence of a recurring task gets anew (tasks.recurrence.recurrence_next_due).
SCHEDULE_FIELDS = ("due_at", "due_date", "recurrence")


def owner_field(*, related_name: str) -> models.ForeignKey:
    """The user a row belongs to, keyed by the Better Auth id: the row carries the id the
    frontend knows (`user_id`) without a join."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        to_field="better_auth_id",
        db_column="user_id",
        related_name=related_name,
    )


class Priority(models.IntegerChoices):
    """Stored as a number so that sorting is by urgency, not alphabet; the API speaks the names."""

    NONE = 0, "none"
    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"


class Tag(models.Model):
    """A label of one user's, shared by their tasks; names are unique regardless of case."""

    owner = owner_field(related_name="tags")
    name = models.CharField(max_length=TAG_MAX_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="tag_owner_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Versioned:
    """A model whose every save is a new `version` (its ETag, core.conditional), `updated_at`
    stamped with the write's moment; `stamp()` sets what else that moment decides."""

    def stamp(self) -> None:
        pass

    def save(self, *args, **kwargs):
        self.updated_at = self.created_at if self._state.adding else timezone.now()
        self.stamp()
        if self._state.adding:
            return super().save(*args, **kwargs)
        if (update_fields := kwargs.get("update_fields")) is not None:
            kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        # Incremented by the database, so even a writer without the row lock (the admin) never
        # reuses a version; the copy in memory is what this writer's own change made it.
        saved_version = self.version
        self.version = models.F("version") + 1
        try:
            super().save(*args, **kwargs)
        finally:
            self.version = saved_version
        self.version += 1


class Fed:
    """A model of an owner's change feed (core.changes): every save is a change, numbered under the
    owner's row lock, which every write of theirs takes before their change counter.

    A writer that has taken the owner's lock in this transaction says so (`owner_locked`), and the
    save then takes it no second time (a query fewer on every create and write of the API).
    """

    def owner_locked(self):
        """Marks the owner's row as locked by this transaction, for the next save; returns the row."""
        self._owner_locked = True
        return self

    def save(self, *args, **kwargs):
        # No savepoint: a failed save fails the writer's whole transaction, as any error does.
        with transaction.atomic(savepoint=False):
            if not self.__dict__.pop("_owner_locked", False):
                user_lock(user_id=self.owner_id)
            self.change_seq = change_next(user=self.owner)
            if not self._state.adding and (update_fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {*update_fields, "change_seq"}
            return super().save(*args, **kwargs)


class TaskListQuerySet(models.QuerySet):
    def visible_to(self, owner_id) -> TaskListQuerySet:
        """The lists a caller may see: the one scoping rule of every list route (tasks.queries.caller_lists)
        and of a task's `list_id`."""
        return self.filter(owner_id=owner_id)


class TaskList(Fed, Versioned, models.Model):
    """A user's named group of tasks (a project, in other apps); tasks without one are in the inbox."""

    owner = owner_field(related_name="lists")
    name = models.CharField(max_length=LIST_NAME_MAX_LENGTH)
    color = models.CharField(max_length=7, null=True, blank=True, help_text="#rrggbb")
    # Its rank in the owner's manual order (tasks.positions): a new list goes last.
    position = models.BigIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Its tasks' counts (`task_count`, `open_count`) are counted by the read that shows them
    # (tasks.queries.lists_with_counts): a toggle of one of its tasks writes no list row.
    # Goes up by one with every write; its ETag is made from it and its counts (etag_version).
    version = models.PositiveIntegerField(default=1, editable=False)
    # The change of its owner's feed that last wrote it, or that took a task out of it (lists_left);
    # a change of a task in it carries it into the feed page that reports the task (core.changes).
    change_seq = models.BigIntegerField(default=0, db_default=0, editable=False)
    # The Idempotency-Key that created the list: deleting the list forgets it and its stored answer.
    idempotency_keys = GenericRelation(IdempotencyKey, object_id_field="created_id", content_type_field="created_type")

    objects = TaskListQuerySet.as_manager()

    class Meta:
        verbose_name = "list"
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint("owner", Lower("name"), name="list_owner_name_ci_unique")]
        # The change feed finds a user's changed lists through this index too (a user has at most
        # MAX_LISTS_PER_USER): none on change_seq, so that a task leaving a list (lists_left)
        # changes no indexed column (an update in place, no index entry).
        indexes = [models.Index(fields=["owner", "position", "id"], name="list_owner_position")]

    def __str__(self) -> str:
        return self.name

    @property
    def etag_version(self) -> str:
        """Its version as a client sees it (core.conditional): its counts, read with it, are part of
        its body, so a task added, removed, completed or reopened changes its ETag. Read through
        tasks.queries.lists_with_counts (a list read without its counts has no ETag)."""
        return f"{self.version}.{self.task_count}.{self.open_count}"


def zone_validate(name: str) -> None:
    """Refuses a time zone the pinned tz database does not know (operators' edits in the admin)."""
    try:
        zone_named(name)
    except ValueError as e:
        raise ValidationError(str(e), code="invalid") from e


class TaskQuerySet(models.QuerySet):
    """Which tasks a caller may see (`visible_to`), and rules about when tasks are due, for the list
    filters, the stats and the admin.

    A task is due at `due_at`, or, all day on `due_date`, at the last moment of that day in the
    caller's zone (tasks.zones.day_end): before a moment exactly when its date is earlier than
    that moment's date in the zone.
    """

    def visible_to(self, owner_id) -> TaskQuerySet:
        """The tasks a caller may see: the one scoping rule of every task route and fast path
        (tasks.queries.caller_tasks), and of a task's `list_id` checks elsewhere."""
        return self.filter(owner_id=owner_id)

    def due_before(self, moment: datetime, zone: ZoneInfo) -> TaskQuerySet:
        return self.filter(Q(due_at__lt=moment) | Q(due_date__lt=day_in(moment, zone)))

    def due_from(self, moment: datetime, zone: ZoneInfo) -> TaskQuerySet:
        """Due at or after `moment`."""
        return self.filter(Q(due_at__gte=moment) | Q(due_date__gte=day_in(moment, zone)))

    def overdue(self, now: datetime, zone: ZoneInfo) -> TaskQuerySet:
        return self.filter(self.overdue_q(now, zone))

    @staticmethod
    def overdue_q(now: datetime, zone: ZoneInfo) -> Q:
        """Open and due before `now`."""
        return Q(completed=False) & (Q(due_at__lt=now) | Q(due_date__lt=day_in(now, zone)))

    @staticmethod
    def due_today_q(now: datetime, zone: ZoneInfo) -> Q:
        """Open and due on `now`'s date in `zone`."""
        today = day_in(now, zone)
        start = datetime.combine(today, time.min, tzinfo=zone)
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
        return Q(completed=False) & (Q(due_at__gte=start, due_at__lt=end) | Q(due_date=today))


class Task(Fed, Versioned, models.Model):
    """One item on a user's todo list."""

    owner = owner_field(related_name="tasks")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NONE)
    # Deleting a list deletes its tasks (as Todoist, Google Tasks and To Do do): a SET_NULL
    # would change them without a new version.
    list = models.ForeignKey(TaskList, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    # A subtask's parent (one level deep: tasks.serializers checks it); deleting a task deletes
    # its subtasks. A subtask is always in its parent's list.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="subtasks")
    # Its subtasks and those not completed: written by every write that changes them (counted_touch),
    # so a page of tasks counts nothing (a list's counts are counted when read: a few lists a read,
    # where a page holds 50 tasks).
    subtask_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    open_subtask_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Its rank among its siblings (same list, same parent) in the manual order: tasks.positions.
    # The database default lets code without the field (a release being rolled out) still insert.
    position = models.BigIntegerField(default=0, db_default=0, editable=False)
    tags = models.ManyToManyField(Tag, related_name="tasks", blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # An all-day due date, instead of `due_at` (TaskSerializer.validate keeps them apart).
    due_date = models.DateField(
        null=True,
        blank=True,
        default=None,
        help_text="An all-day due date, `YYYY-MM-DD`, instead of `due_at`. Filters and stats count it as due at "
        "the end of that day in the zone of their `tz` parameter (default UTC).",
    )
    # The zone whose wall-clock time a recurring `due_at` keeps (tasks.recurrence).
    due_timezone = models.CharField(
        max_length=TIME_ZONE_MAX_LENGTH, null=True, blank=True, default=None, validators=[zone_validate]
    )
    recurrence = models.CharField(
        max_length=RECURRENCE_MAX_LENGTH, null=True, blank=True, help_text="An RFC 5545 RRULE."
    )
    # The occurrence spawned when this recurring task was completed: one per task, ever.
    next_occurrence = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="previous_occurrence", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Stamped by save(), with the same moment as the write's other timestamps.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Goes up by one with every write; the task's ETag (core.conditional) is made from it.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The change of its owner's feed that last wrote it (core.changes): /api/changes reads by it.
    change_seq = models.BigIntegerField(default=0, db_default=0, editable=False)
    # The Idempotency-Key that created the task: deleting the task forgets it and its stored answer.
    idempotency_keys = GenericRelation(IdempotencyKey, object_id_field="created_id", content_type_field="created_type")

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The default list: one user's tasks, newest first.
            models.Index(fields=["owner", "-created_at", "-id"], name="task_owner_created"),
            # Due-date sorting, overdue and due-today counts.
            models.Index(fields=["owner", "due_at"], name="task_owner_due"),
            models.Index(fields=["owner", "due_date"], name="task_owner_due_date"),
            # Sync: what changed since the last poll.
            models.Index(fields=["owner", "-updated_at"], name="task_owner_updated"),
            # sort=priority and sort=title (tasks.filters.sort_ordering): without these, a user
            # with 100,000 tasks had every one of them read and sorted for a page of 50.
            models.Index(fields=["owner", "-priority", "-id"], name="task_owner_priority"),
            models.Index(F("owner"), Lower("title"), F("id").desc(), name="task_owner_title"),
            # sort=position within a list, and a move's neighbours.
            models.Index(fields=["owner", "list", "position", "id"], name="task_owner_list_position"),
            models.Index(fields=["parent", "position", "id"], name="task_parent_position"),
            # The change feed: one user's tasks in the order they changed.
            models.Index(fields=["owner", "change_seq", "id"], name="task_owner_change"),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        task = super().from_db(db, field_names, values)
        task._counted_as = task._counted()
        return task

    def _counted(self) -> tuple | None:
        # What the counts of its list and of its parent see of it, when loaded.
        if all(name in self.__dict__ for name in ("list_id", "completed", "parent_id")):
            return (self.list_id, self.completed, self.parent_id)
        return None

    def save(self, *args, **kwargs):
        """Saves the task as a new version (Versioned) and a change of its owner's feed (Fed).
        The parent whose counts it changes (`subtask_count`, `open_subtask_count`) is changed with
        it, a new version and a change of the feed too (counted_touch); a list it left is fed again
        (lists_left); the list it is in comes with it in the feed."""
        with transaction.atomic(savepoint=False):
            adding = self._state.adding
            before = None if adding else self.__dict__.get("_counted_as")
            saved = super().save(*args, **kwargs)
            after = self._counted()
            if before != after:
                if after is not None and (before is not None or adding):
                    counted_shift(before=before, after=after, seq=self.change_seq)
                else:  # what it was is not known: count again, and feed the lists it may have left
                    before = before or (None, None, None)
                    counted_touch(parent_ids={before[2], after and after[2]}, seq=self.change_seq)
                    lists_left({before[0]} - {after and after[0]}, seq=self.change_seq)
            self._counted_as = after
            return saved

    def stamp(self) -> None:
        """A write that completes the task sets `completed_at` to its moment."""
        if self.completed and self.completed_at is None:
            self.completed_at = self.updated_at

    @property
    def tag_names(self) -> list[str]:
        """The names of the task's tags: as its query brought them (tasks.queries), else from its
        (prefetched) tags."""
        names = self.__dict__.get("_tag_names")
        return names if names is not None else [tag.name for tag in self.tags.all()]

    @tag_names.setter
    def tag_names(self, names: list[str]) -> None:
        self._tag_names = names

    def next_occurrence_values(self) -> dict:
        """What the next occurrence of this task copies: every field a client or an operator
        writes (owner included), but its completion; the caller gives the next due date and rule."""
        return {
            field.attname: getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if field.editable and not field.primary_key and field.name not in ("completed", *SCHEDULE_FIELDS)
        }

    @property
    def spawns_next_when_completed(self) -> bool:
        """A recurring task creates its next occurrence on its first completion only."""
        return bool(self.recurrence and (self.due_at or self.due_date) and self.next_occurrence_id is None)

    @property
    def untouched(self) -> bool:
        """Neither edited nor completed since it was created (its first version)."""
        return self.version == 1 and not self.completed

    def set_completed(self, completed: bool) -> None:
        """Marks the task done or open; ``completed_at`` follows when it is saved."""
        if not (completed and self.completed):  # stamped anew when completing, cleared when reopening
            self.completed_at = None
        self.completed = completed


def counted_touch(*, parent_ids=(), seq: int) -> None:
    """Parent tasks whose counts a write changed (`subtask_count`, `open_subtask_count`): their
    bodies changed, so each is a new version (its ETag) and a change `seq` of its owner's feed. The
    writer holds the owner's row lock, which every write of theirs takes before any other row's
    (no deadlock with a write of these rows). The counts are counted again here, after the
    write's other changes, in the same UPDATE."""
    if ids := [pk for pk in parent_ids if pk is not None]:
        Task.objects.filter(pk__in=ids).update(
            version=F("version") + 1,
            updated_at=timezone.now(),
            change_seq=seq,
            subtask_count=tasks_counted("parent_id"),
            open_subtask_count=tasks_counted("parent_id", open_only=True),
        )


def counted_shift(*, before: tuple | None, after: tuple, seq: int) -> None:
    """`counted_touch` for one task's save, by difference: its parent before the write (None: a
    new task) loses it, the one after gains it, each count moved by one (no counting), each row
    changed a new version and a change `seq`; never below zero. A list it left is fed again
    (lists_left)."""
    shifts = {}  # parent id: [tasks, open tasks]
    for sign, counted in ((-1, before), (1, after)):
        if counted is not None and (parent_id := counted[2]) is not None:
            shift = shifts.setdefault(parent_id, [0, 0])
            shift[0] += sign
            shift[1] += sign * (not counted[1])
    now = timezone.now()
    for pk, (tasks, open_tasks) in shifts.items():
        if tasks or open_tasks:
            Task.objects.filter(pk=pk).update(
                version=F("version") + 1,
                updated_at=now,
                change_seq=seq,
                subtask_count=Greatest(F("subtask_count") + tasks, 0),
                open_subtask_count=Greatest(F("open_subtask_count") + open_tasks, 0),
            )
    if before is not None and before[0] != after[0]:
        lists_left({before[0]}, seq=seq)


def lists_left(list_ids, *, seq: int) -> None:
    """Lists a write took tasks out of (a move, a deletion): their counts changed, and no task
    still in them says so, so each is a change `seq` of its owner's feed, read again with its
    counts. A list a task is in, or went into, comes with that task (TASK_CHANGES carries it); a
    list's ETag follows its counts (TaskList.etag_version), so no version is written here."""
    if ids := [pk for pk in list_ids if pk is not None]:
        TaskList.objects.filter(pk__in=ids).update(change_seq=seq)


def tasks_counted(key: str, *, open_only: bool = False) -> Coalesce:
    """COUNT(*) of the tasks whose `key` (list_id, parent_id) is the outer query's row (the one an
    UPDATE writes, or a read annotates), as a subquery."""
    tasks = Task.objects.filter(**{key: OuterRef("pk")}, **({"completed": False} if open_only else {}))
    return Coalesce(Subquery(tasks.order_by().values(key).annotate(n=Count("*")).values("n")), 0)
