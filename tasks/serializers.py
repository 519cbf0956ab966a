import copy
from datetime import datetime, timezone

from django.db import models
from rest_framework import serializers

from tasks.fields import (
    BoundedListField,
    PriorityField,
    RecurrenceField,
    RFC3339DateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TagListField,
)
from tasks.models import Priority, Task
from tasks.queries import TASK_ROW_FIELDS
from tasks.recurrence import HORIZON_TEXT, InvalidRecurrence, recurrence_check_schedule
from tasks.services import task_check_room, task_set_completed, task_set_tags


class StrictSerializerMixin:
    """Rejects body fields the client cannot write, so a typo is never silently dropped.

    Read-only fields (`id`, timestamps...) are refused too, which keeps the request schema
    exact (`additionalProperties: false`) for generated clients.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {
                str(key): [self._not_writable(key)]
                for key in sorted(data, key=str)
                if key not in self.fields or self.fields[key].read_only
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _not_writable(self, key) -> serializers.ErrorDetail:
        if key in self.fields:
            return serializers.ErrorDetail("This field is read-only.", code="read_only_field")
        return serializers.ErrorDetail("Unknown field.", code="unknown_field")


class TaskSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A task as the API reads and writes it."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }

    user_id = serializers.CharField(source="owner_id", read_only=True)
    priority = PriorityField(default="none")
    tags = TagListField(default=list)
    due_at = RFC3339DateTimeField(allow_null=True, default=None)
    recurrence = RecurrenceField(
        allow_null=True,
        default=None,
        help_text="An RFC 5545 RRULE such as `FREQ=WEEKLY;BYDAY=MO,WE`, DAILY or coarser; needs `due_at`. "
        "Parts in any order and case, stored canonically. A rule that breaks these is a 400 "
        "`invalid_recurrence` or `needs_due_at`, and so is one with no occurrence after `due_at` within "
        f"the search horizon ({HORIZON_TEXT}).",
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "completed",
            "completed_at",
            "priority",
            "tags",
            "due_at",
            "recurrence",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]
        # PUT replaces the writable fields: what it leaves out goes back to its default.
        # (Defaults never apply to PATCH, which changes only what it sends.)
        extra_kwargs = {
            "description": {"default": ""},
            "completed": {"default": False},
        }

    def get_fields(self):
        # ModelSerializer rebuilds every field from the model for each instance, a fifth of a
        # create's Python; the fields depend on the class only, so build them once per class and
        # hand each serializer a deep copy, as DRF itself does with declared fields.
        template = type(self).__dict__.get("_fields_template")
        if template is None:
            template = super().get_fields()
            type(self)._fields_template = template
        return copy.deepcopy(template)

    def validate(self, attrs):
        if "recurrence" in attrs or "due_at" in attrs:
            recurrence = attrs.get("recurrence", getattr(self.instance, "recurrence", None))
            due_at = attrs.get("due_at", getattr(self.instance, "due_at", None))
            try:
                recurrence_check_schedule(recurrence, due_at)
            except InvalidRecurrence as e:
                raise serializers.ValidationError({"recurrence": [serializers.ErrorDetail(str(e), code=e.code)]}) from e
        return attrs

    def create(self, validated_data):
        task_check_room(owner=validated_data["owner"])
        completed = validated_data.pop("completed", False)
        tag_names = validated_data.pop("tags", [])
        task = Task.objects.create(**validated_data)
        if tag_names:
            task_set_tags(task=task, names=tag_names)
        else:
            # A new task without tags: nothing to link or prune, and no query to render its tags.
            task.tag_names = []
        if completed:
            task_set_completed(task=task, completed=True)
        return task

    def to_representation(self, instance):
        # The row path's JSON, without building a field object per value; tests/tasks/test_task_rows.py
        # checks it against ModelSerializer's own rendering.
        return task_json(instance)

    def update(self, instance, validated_data):
        completed = validated_data.pop("completed", None)
        tag_names = validated_data.pop("tags", None)
        task = super().update(instance, validated_data)
        if tag_names is not None:
            task_set_tags(task=task, names=tag_names)
        if completed is not None:
            task_set_completed(task=task, completed=completed)
        return task


# The fast JSON of lists, single tasks and write answers: TaskSerializer's output built from
# rows (tasks.queries.task_rows) or an instance's values, without a field object per value.
# tests/tasks/test_task_rows.py proves both agree.
PRIORITY_LABELS = dict(Priority.choices)


def task_json(task: Task) -> dict:
    """A task instance as TaskSerializer renders it: its `tag_names` if it carries them (see
    `tasks_with_tag_names`), else its tags, prefetched or read."""
    row = {name: getattr(task, name) for name in TASK_ROW_FIELDS}
    tag_names = getattr(task, "tag_names", None)
    row["tag_names"] = tag_names if tag_names is not None else [tag.name for tag in task.tags.all()]
    return task_rows_json([row])[0]


def _datetime_json(value: datetime | None) -> str | None:
    # DRF's DateTimeField output: ISO 8601 in UTC (the current time zone), "Z" for +00:00.
    if value is None:
        return None
    if value.tzinfo is timezone.utc:  # every value read from PostgreSQL (todo_project/db.py)
        return value.isoformat()[:-6] + "Z"
    text = value.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_rows_json(rows: list[dict]) -> list[dict]:
    """Rows of `task_rows` as TaskSerializer renders tasks."""
    if rows and "tag_names" in rows[0]:
        tags = {row["id"]: row["tag_names"] for row in rows}
    else:
        tags = {row["id"]: [] for row in rows}
        if rows:
            links = Task.tags.through.objects.filter(task_id__in=list(tags)).values_list("task_id", "tag__name")
            for task_id, name in links:
                tags[task_id].append(name)
    return [
        {
            "id": row["id"],
            "user_id": row["owner_id"],
            "title": row["title"],
            "description": row["description"],
            "completed": row["completed"],
            "completed_at": _datetime_json(row["completed_at"]),
            "priority": PRIORITY_LABELS[row["priority"]],
            "tags": sorted(tags[row["id"]], key=str.casefold),
            "due_at": _datetime_json(row["due_at"]),
            "recurrence": row["recurrence"],
            "created_at": _datetime_json(row["created_at"]),
            "updated_at": _datetime_json(row["updated_at"]),
        }
        for row in rows
    ]


class TaskCompleteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of `/complete`: empty to toggle, or `{"completed": bool}` to set."""

    completed = StrictBooleanField(required=False)


class BulkActionSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of `/api/tasks/bulk`: one action over up to 500 of the caller's tasks."""

    action = serializers.ChoiceField(choices=["complete", "reopen", "delete"])
    ids = BoundedListField(child=StrictIntegerField(), min_length=1, max_length=500)


class BulkResultSerializer(serializers.Serializer):
    """What a bulk action did."""

    action = serializers.ChoiceField(choices=["complete", "reopen", "delete"])
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="The tasks acted on, without repeats.")
    changed = serializers.IntegerField(help_text="How many of them changed (completing a completed task does not).")
    created = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the next occurrences that completing recurring tasks created."
    )


class TagSerializer(serializers.Serializer):
    """A tag of the caller's and how many of their tasks carry it."""

    name = serializers.CharField()
    count = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    """The caller's counters for a TodoMVC-style footer and a dashboard."""

    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    completed = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_today = serializers.IntegerField()
