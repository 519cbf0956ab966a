import re
from datetime import UTC, date, datetime
from operator import attrgetter, itemgetter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from tasks.fields import (
    MAX_BIGINT,
    TIME_ZONE_HELP,
    BoundedListField,
    PositionField,
    PriorityField,
    RecurrenceField,
    RelatedIdField,
    RFC3339DateTimeField,
    StrictBigIntegerField,
    StrictBooleanField,
    StrictCharField,
    StrictDateField,
    StrictFloatField,
    StrictIntegerField,
    TagListField,
    TimeZoneField,
)
from tasks.limits import BULK_MAX_IDS
from tasks.models import Task, TaskList
from tasks.recurrence import HORIZON_TEXT, InvalidRecurrence, recurrence_check_schedule
from tasks.services import (
    list_check_room,
    list_next_position,
    subtask_check_room,
    subtasks_follow,
    task_check_room,
    task_new_position,
    task_new_position_expression,
    task_set_completed,
    task_set_tags,
)

# What decides whether a task's recurrence can be scheduled (TaskSerializer.validate).
SCHEDULE_RULE_FIELDS = ("due_at", "due_date", "due_timezone", "recurrence")


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


# DRF's model field mapping with strict JSON types: "5" is not an integer, 1 is not a boolean, 5
# is not a string, and a date-time carries its offset. A new model field of these types is strict
# with no further edit.
STRICT_FIELDS = {
    serializers.CharField: StrictCharField,
    serializers.BooleanField: StrictBooleanField,
    serializers.IntegerField: StrictIntegerField,
    serializers.BigIntegerField: StrictBigIntegerField,
    serializers.FloatField: StrictFloatField,
    serializers.DateTimeField: RFC3339DateTimeField,
    serializers.DateField: StrictDateField,
}


def utc_datetime_text(value: datetime) -> str:
    """DRF's DateTimeField output with UTC as the current time zone: ISO 8601, "Z" for +00:00."""
    if value.tzinfo is not UTC:  # PostgreSQL's values already are (core/db.py)
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# What DRF's to_representation comes down to for these fields, given a value of the model's type.
FAST_CONVERSIONS = {
    serializers.CharField: str,
    serializers.IntegerField: int,
    serializers.BigIntegerField: int,
    serializers.BooleanField: bool,
    serializers.FloatField: float,
    serializers.DateTimeField: utc_datetime_text,
    serializers.DateField: date.isoformat,
}


def converter_of(field: serializers.Field):
    """The field's to_representation, or its plain equivalent when the field's class does not
    change DRF's and dates are shown as DRF's defaults show them (ISO 8601 in UTC)."""
    for base in type(field).__mro__:
        if base in FAST_CONVERSIONS:
            if type(field).to_representation is not base.to_representation or getattr(field, "coerce_to_string", False):
                break
            output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
            if base is serializers.DateTimeField and not (settings.TIME_ZONE == "UTC" and output_format == ISO_8601):
                break
            return FAST_CONVERSIONS[base]
    return field.to_representation


def reader_of(field: serializers.Field, *, row: bool):
    """The field's get_attribute, or a plain key or attribute read when that is all it does."""
    if type(field).get_attribute is serializers.Field.get_attribute and len(field.source_attrs) == 1:
        return (itemgetter if row else attrgetter)(field.source_attrs[0])
    return field.get_attribute


def portable_integer_bounds(model_field: models.IntegerField, kwargs: dict) -> dict:
    """`min_value` and `max_value` for an integer model field: the range Django documents for its
    type (what PostgreSQL stores), narrowed by the field's own validators. Not the connection's
    range: SQLite's is 64 bits for every type, which would change the API and its OpenAPI document
    with the database."""
    low, high = BaseDatabaseOperations.integer_field_ranges.get(model_field.get_internal_type(), (None, None))
    if high is None:
        return {}
    return {"min_value": max(kwargs.get("min_value", low), low), "max_value": min(kwargs["max_value"], high)}


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A ModelSerializer whose fields built from the model are strict (STRICT_FIELDS), whose
    writable fields go back to the model's default on PUT, and whose foreign keys are ids.

    A foreign key is named in `Meta.fields` by its column, `<name>_id`: it reads the stored id
    on every route (a row or an instance) and takes a JSON integer naming one of the caller's
    rows, through the related model's scoping rule (`visible_to(owner_id)` on its queryset).
    Naming the relation itself (`list`) is refused when the class is built, as is a key to a
    model without that rule: DRF's own related field reads `null` from a row and takes any id.
    """

    serializer_field_mapping = {
        model_field: STRICT_FIELDS.get(field, field)
        for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        if meta is None or not hasattr(meta, "model"):
            return
        relations = {
            field.name: field for field in meta.model._meta.get_fields() if field.is_relation and field.concrete
        }
        for name in getattr(meta, "fields", []):
            if name in cls._declared_fields:
                continue
            if name in relations:
                raise ImproperlyConfigured(
                    f"{cls.__name__}.Meta.fields names the relation {name!r}: name its id {name + '_id'!r} "
                    "instead (an integer scoped to the caller), or declare the field on the serializer."
                )
            relation = relations.get(name.removesuffix("_id")) if name.endswith("_id") else None
            if relation is not None and not hasattr(relation.related_model._default_manager, "visible_to"):
                raise ImproperlyConfigured(
                    f"{cls.__name__}.Meta.fields names {name!r}, but {relation.related_model.__name__}'s queryset "
                    "has no visible_to(owner_id) to scope it to the caller: add one, or declare the field."
                )

    def build_field(self, field_name, info, model_class, nested_depth):
        relation = info.forward_relations.get(field_name.removesuffix("_id")) if field_name.endswith("_id") else None
        if relation is not None and not relation.to_many:
            return self.build_related_id_field(field_name, relation)
        return super().build_field(field_name, info, model_class, nested_depth)

    def build_related_id_field(self, field_name, relation):
        """`<name>_id`: the id of a row of the caller's, null where the key may be empty (and then
        the default of a PUT that leaves it out)."""
        model = relation.related_model

        def scope(request):
            return model._default_manager.visible_to(request.user.better_auth_id)

        noun = model._meta.verbose_name
        kwargs = {"scope": scope, "noun": noun, "help_text": f"The id of one of the caller's {noun}s."}
        if relation.model_field.null:
            kwargs.update(allow_null=True, default=None)
        return RelatedIdField, kwargs

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if model_field.has_default() and not kwargs.get("read_only"):
            # PUT replaces the writable fields: what it leaves out goes back to the model's default.
            # (Defaults never apply to PATCH, which changes only what it sends.)
            kwargs.pop("required", None)
            kwargs["default"] = model_field.get_default()
        if isinstance(model_field, models.IntegerField) and "max_value" in kwargs:
            kwargs.update(portable_integer_bounds(model_field, kwargs))
        return field_class, kwargs


class TaskSerializer(StrictModelSerializer):
    """A task as the API reads and writes it."""

    # `Meta.fields` is the one list of a task's fields; those not declared below are built from
    # the model, so adding a plain field is the model field, its migration and its name there.

    user_id = serializers.CharField(source="owner_id", read_only=True)
    priority = PriorityField(default="none")
    tags = TagListField(source="tag_names", default=list)
    due_at = RFC3339DateTimeField(
        allow_null=True,
        default=None,
        help_text="When the task is due, an instant; exclusive with `due_date` (both set is a 400 `one_due_only`).",
    )
    due_timezone = TimeZoneField(
        allow_null=True,
        default=None,
        help_text="The IANA time zone of `due_at` for recurrence, e.g. `America/New_York`: each next occurrence "
        "keeps the wall-clock time, weekdays and dates of that zone across daylight saving (a time that does "
        "not exist on the next date moves forward by the gap; one that exists twice is the first). Null: the "
        f"rule follows UTC. {TIME_ZONE_HELP}",
    )
    position = serializers.IntegerField(
        read_only=True,
        help_text="The task's rank among its siblings (the top-level tasks of its list or of the inbox, or "
        "its parent's subtasks): `sort=position` orders by it, ascending. `/move` changes it.",
    )
    subtask_count = serializers.IntegerField(read_only=True, help_text="How many subtasks the task has.")
    open_subtask_count = serializers.IntegerField(read_only=True, help_text="How many of them are not completed.")
    recurrence = RecurrenceField(
        allow_null=True,
        default=None,
        help_text="An RFC 5545 RRULE such as `FREQ=WEEKLY;BYDAY=MO,WE`, DAILY or coarser; needs `due_at` or "
        "`due_date`. Parts in any order and case, stored canonically. A rule that breaks these is a 400 "
        "`invalid_recurrence` or `needs_due_at`, and so is one with no occurrence after the due date within "
        f"the search horizon ({HORIZON_TEXT}). The pattern is the canonical form of the rules that any "
        "due date can schedule; the server also takes other orders, lower case, an `RRULE:` prefix and "
        "further combinations (such as `BYMONTHDAY=31`, or BYDAY with a DAILY INTERVAL), and checks "
        "those against the due date.",
    )

    # A task is due at an instant or on a day, never both (`validate`): no body sends both.
    openapi_partial_rules = {
        "not": {
            "required": ["due_at", "due_date"],
            "properties": {"due_at": {"type": "string"}, "due_date": {"type": "string"}},
        }
    }
    # A recurring task needs a due date (`validate`): a create or a replace that sets `recurrence`
    # sends `due_at` or `due_date` too. A PATCH can leave it out, as the stored task's counts.
    # Inside an allOf, so generated types keep the object's required fields and enums whichever
    # branch applies (openapi-typescript makes a bare anyOf a union with `{}`).
    openapi_request_rules = {
        "allOf": [
            {
                "anyOf": [
                    {"properties": {"recurrence": {"not": {"type": "string"}}}},  # left out, or null
                    {"required": ["due_at"], "properties": {"due_at": {"type": "string"}}},
                    {"required": ["due_date"], "properties": {"due_date": {"type": "string"}}},
                ],
                **openapi_partial_rules,
            }
        ]
    }

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
            "due_date",
            "due_timezone",
            "recurrence",
            "list_id",
            "parent_id",
            "position",
            "subtask_count",
            "open_subtask_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]

    def to_representation(self, task):
        # DRF's own loop (Serializer.to_representation), with each field's read and conversion
        # planned once per class: see `representation_plan`. A task is an instance or a row.
        plan = self.representation_plan(row=isinstance(task, dict))
        return {name: None if (value := read(task)) is None else show(value) for name, read, show in plan}

    def representation_plan(self, *, row: bool) -> list[tuple]:
        """(name, read, show) for each field shown, built once per class from the fields themselves:
        a plain key or attribute read where the field does no more, and for types whose DRF
        conversion is a plain one, that conversion without the field object (FAST_CONVERSIONS).

        DRF's own loop costs a list page far more: bench/README.md, "Fast paths that stay", row
        "JSON planned from the serializer's fields"; tests/tasks/test_task_shape.py compares the
        two."""
        plans = type(self).__dict__.get("_representation_plans")
        if plans is None:
            plans = {
                kind: [
                    (field.field_name, reader_of(field, row=kind), converter_of(field))
                    for field in self._readable_fields
                ]
                for kind in (False, True)
            }
            type(self)._representation_plans = plans
        return plans[row]

    def validate(self, attrs):
        # The task as this write leaves it: what a PATCH does not send stays as it is.
        due = {name: attrs.get(name, getattr(self.instance, name, None)) for name in SCHEDULE_RULE_FIELDS}
        if due["due_at"] is not None and due["due_date"] is not None:
            message = "A task is due at a moment (due_at) or on a day (due_date), not both: set the other to null."
            error = [serializers.ErrorDetail(message, code="one_due_only")]
            raise serializers.ValidationError({"due_at": error, "due_date": error})
        if not attrs.keys().isdisjoint(SCHEDULE_RULE_FIELDS):
            try:
                recurrence_check_schedule(
                    due["recurrence"], due["due_at"], due_date=due["due_date"], due_timezone=due["due_timezone"]
                )
            except InvalidRecurrence as e:
                raise serializers.ValidationError({"recurrence": [serializers.ErrorDetail(str(e), code=e.code)]}) from e
        if "parent_id" in attrs or "list_id" in attrs:
            self._validate_nesting(attrs)
        return attrs

    def _validate_nesting(self, attrs) -> None:
        """One level deep, never its own parent; a subtask is in its parent's list (`list_id` follows it)."""
        task = self.instance
        parent_id = attrs.get("parent_id", getattr(task, "parent_id", None))
        if parent_id is None:
            return

        def refuse(field: str, message: str, code: str):
            raise serializers.ValidationError({field: [serializers.ErrorDetail(message, code=code)]})

        if task is not None and parent_id == task.pk:
            refuse("parent_id", "A task cannot be its own parent.", "own_parent")
        parent = Task.objects.only("parent_id", "list_id").get(pk=parent_id)
        if parent.parent_id is not None:
            refuse("parent_id", "A subtask cannot have subtasks: subtasks are one level deep.", "too_deep")
        if task is not None and task.parent_id is None and task.subtask_count:
            refuse(
                "parent_id", "A task with subtasks cannot become a subtask: subtasks are one level deep.", "too_deep"
            )
        if "list_id" in self.initial_data and attrs.get("list_id") != parent.list_id:
            refuse("list_id", "A subtask is in its parent's list: move the parent instead.", "follows_parent")
        attrs["list_id"] = parent.list_id

    def create(self, validated_data):
        task_check_room(owner=validated_data["owner"])
        if validated_data.get("parent_id") is not None:
            subtask_check_room(parent_id=validated_data["parent_id"])
        completed = validated_data.pop("completed", False)
        tag_names = validated_data.pop("tag_names", [])
        validated_data["position"] = task_new_position_expression(
            owner_id=validated_data["owner"].better_auth_id,
            list_id=validated_data.get("list_id"),
            parent_id=validated_data.get("parent_id"),
            top=validated_data.pop("position", "bottom") == "top",
        )
        task = Task(**validated_data).owner_locked()  # by task_check_room
        task.save(force_insert=True)
        if hasattr(task.position, "resolve_expression"):  # a database without INSERT ... RETURNING
            task.refresh_from_db(fields=["position"])
        if tag_names:
            task_set_tags(task=task, names=tag_names)
        else:
            task.tag_names = []  # nothing to link or prune, and no query to render its tags
        if completed:
            task_set_completed(task=task, completed=True)
        return task

    def update(self, task, validated_data):
        """Writes what differs from the task as it is; a write that changes nothing keeps its version."""
        completed = validated_data.pop("completed", task.completed)
        tag_names = validated_data.pop("tag_names", None)
        changed = [name for name, value in validated_data.items() if getattr(task, name) != value]
        if "parent_id" in changed and validated_data["parent_id"] is not None:
            subtask_check_room(parent_id=validated_data["parent_id"])
        following = Task.objects.none()
        for name in changed:
            setattr(task, name, validated_data[name])
        if "parent_id" in changed or "list_id" in changed:
            # A task that changes siblings goes last among its new ones; its subtasks follow it. The
            # place is read under the owner's lock (the view's locked_object took it), their rows locked after it.
            if "list_id" in changed and task.subtask_count:
                following = task.subtasks.all()
                list(following.select_for_update().values_list("pk"))
            task.position = task_new_position(owner_id=task.owner_id, list_id=task.list_id, parent_id=task.parent_id)
            changed.append("position")
        retag = tag_names is not None and {n.casefold() for n in tag_names} != {n.casefold() for n in task.tag_names}
        if changed or retag:
            task.save(update_fields=changed)  # Task.save adds version, updated_at and change_seq
            subtasks_follow(parent=task, subtasks=following)
        if retag:
            task_set_tags(task=task, names=tag_names)
        if completed != task.completed:
            task_set_completed(task=task, completed=completed)
        return task


class NewTaskSerializer(TaskSerializer):
    """A task as `POST /api/tasks` takes it: the task's fields, and where it goes among its siblings."""

    position = PositionField(
        required=False,
        help_text='`"bottom"` (the default) puts the new task after its siblings, `"top"` before them. '
        "Shown as the task's rank (`sort=position` orders by it); `/move` changes it.",
    )


class ColorField(StrictCharField):
    """`#rrggbb`, stored in lower case."""

    default_error_messages = {"invalid_color": "Must be a color written #rrggbb."}
    PATTERN = "^#[0-9A-Fa-f]{6}$"

    def openapi_request_schema(self) -> dict:
        return {"pattern": self.PATTERN}

    def to_internal_value(self, data):
        color = super().to_internal_value(data)
        if not re.fullmatch(self.PATTERN, color):
            self.fail("invalid_color")
        return color.lower()


class TaskListSerializer(StrictModelSerializer):
    """A list as the API reads and writes it, with how many tasks it holds and how many are open."""

    color = ColorField(allow_null=True, default=None, help_text="`#rrggbb`, or null.")
    task_count = serializers.IntegerField(read_only=True, help_text="Tasks in the list.")
    open_count = serializers.IntegerField(read_only=True, help_text="Tasks in the list not completed.")

    class Meta:
        model = TaskList
        fields = ["id", "name", "color", "position", "task_count", "open_count", "created_at", "updated_at"]
        read_only_fields = ["position", "created_at", "updated_at"]

    def validate_name(self, name: str) -> str:
        same = TaskList.objects.visible_to(self.context["request"].user.better_auth_id).filter(name__iexact=name)
        if self.instance is not None:
            same = same.exclude(pk=self.instance.pk)
        if same.exists():
            raise serializers.ValidationError("You already have a list with this name.", code="unique")
        return name

    def create(self, validated_data):
        owner = validated_data["owner"]
        list_check_room(owner=owner)
        task_list = TaskList(**validated_data, position=list_next_position(owner=owner))
        self._saved(lambda: task_list.owner_locked().save(force_insert=True))  # locked by list_check_room
        task_list.task_count = task_list.open_count = 0  # counted when read (lists_with_counts); none yet
        return task_list

    def update(self, task_list, validated_data):
        """Writes what differs; a write that changes nothing keeps the version."""
        changed = [name for name, value in validated_data.items() if getattr(task_list, name) != value]
        for name in changed:
            setattr(task_list, name, validated_data[name])
        if changed:
            self._saved(lambda: task_list.save(update_fields=changed))
        return task_list

    @staticmethod
    def _saved(write):
        # Two requests naming lists alike at once: the unique index decides, and the loser is a 400.
        try:
            with transaction.atomic():
                return write()
        except IntegrityError as e:
            raise serializers.ValidationError(
                {"name": [serializers.ErrorDetail("You already have a list with this name.", code="unique")]}
            ) from e


class CompletedTaskSerializer(TaskSerializer):
    """The answer of `/complete`: the task, and the next occurrence this completion created."""

    next_occurrence = TaskSerializer(
        source="created_occurrence",
        read_only=True,
        allow_null=True,
        help_text="The next occurrence of a recurring task that this request created by completing it; "
        "null when it created none (not recurring, the series ended, reopening, or created before).",
    )

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "next_occurrence"]


class TaskCompleteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of `/complete`: empty to toggle, or `{"completed": bool}` to set."""

    completed = StrictBooleanField(required=False)


def _caller_tasks_field(**kwargs) -> RelatedIdField:
    return RelatedIdField(
        scope=lambda request: Task.objects.visible_to(request.user.better_auth_id),
        noun=Task._meta.verbose_name,
        **kwargs,
    )


def _caller_list_field(**kwargs) -> RelatedIdField:
    return RelatedIdField(
        scope=lambda request: TaskList.objects.visible_to(request.user.better_auth_id),
        noun=TaskList._meta.verbose_name,
        **kwargs,
    )


class MoveSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of `/move`: where the row goes, just `before` or just `after` a sibling (not both);
    neither puts it last."""

    openapi_request_rules = {"not": {"required": ["before", "after"]}}  # what `validate` says

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError(
                {"after": [serializers.ErrorDetail("Send `before` or `after`, not both.", code="unexpected")]}
            )
        return attrs


class TaskMoveSerializer(MoveSerializer):
    """Body of `POST /api/tasks/{id}/move`."""

    before = _caller_tasks_field(required=False, help_text="Put the task just before this sibling.")
    after = _caller_tasks_field(required=False, help_text="Put the task just after this sibling.")
    list_id = _caller_list_field(
        allow_null=True,
        required=False,
        help_text="The list the task goes to (null: the inbox); alone, it goes last there. "
        "Left out: the task stays in its list. Not for a subtask, which follows its parent.",
    )


class ListMoveSerializer(MoveSerializer):
    """Body of `POST /api/lists/{id}/move`."""

    before = _caller_list_field(required=False, help_text="Put the list just before this one.")
    after = _caller_list_field(required=False, help_text="Put the list just after this one.")


BULK_ACTIONS = ["complete", "reopen", "delete", "move"]


class BulkActionSerializer(StrictSerializerMixin, serializers.Serializer):
    """Body of `/api/tasks/bulk`: one action over up to 500 of the caller's tasks; `move` takes
    the `list_id` to put them in (null: the inbox)."""

    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    ids = BoundedListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_BIGINT), min_length=1, max_length=BULK_MAX_IDS
    )
    list_id = _caller_list_field(
        allow_null=True,
        required=False,
        help_text="With `move` only (and required there): one of the caller's lists, or null for the inbox. "
        "The tasks go last there, in their current order, their subtasks with them.",
    )
    include_subtasks = StrictBooleanField(
        required=False,
        help_text="With `complete` or `reopen` only: `true` acts on the subtasks of these tasks too "
        "(completing a task alone leaves its subtasks as they are).",
    )

    # What `validate` says, for the schema: `list_id` with `move` and only there;
    # `include_subtasks` with `complete` or `reopen` only.
    openapi_request_rules = {
        "allOf": [
            {
                "anyOf": [
                    {"required": ["list_id"], "properties": {"action": {"enum": ["move"]}}},
                    {
                        "properties": {
                            "action": {"enum": [a for a in BULK_ACTIONS if a != "move"]},
                            "list_id": {"not": {}},
                        }
                    },
                ]
            },
            {
                "anyOf": [
                    {"properties": {"action": {"enum": ["complete", "reopen"]}}},
                    {"properties": {"include_subtasks": {"not": {}}}},
                ]
            },
        ]
    }

    def validate(self, attrs):
        if attrs["action"] not in ("complete", "reopen") and "include_subtasks" in attrs:
            raise serializers.ValidationError(
                {"include_subtasks": [serializers.ErrorDetail("Only with `complete` or `reopen`.", code="unexpected")]}
            )
        if attrs["action"] == "move" and "list_id" not in attrs:
            raise serializers.ValidationError(
                {"list_id": [serializers.ErrorDetail("Required with `move`.", code="required")]}
            )
        if attrs["action"] != "move" and "list_id" in attrs:
            raise serializers.ValidationError(
                {"list_id": [serializers.ErrorDetail("Only with `move`.", code="unexpected")]}
            )
        return attrs


class BulkResultSerializer(serializers.Serializer):
    """What a bulk action did."""

    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="The tasks acted on, without repeats.")
    changed = serializers.IntegerField(
        help_text="How many of them changed (completing a completed task, or moving a task where it is, does not)."
    )
    created = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the next occurrences that completing recurring tasks created.",
    )
    removed = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the next occurrences that reopening removed: those the completion of a reopened task "
        "had created and that nobody had edited or completed since.",
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
