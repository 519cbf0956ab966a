"""List filters and sort for `GET /api/tasks` (and the Phase II list route).

Every parameter is validated: a bad value is a 400 that names the parameter, never ignored,
and so is an empty one (`?status=`), except where empty has a meaning (`search=`, `sort=`).
Parameters this list does not know are ignored (frontends add cache busters).

The OpenAPI document's parameters are built from `TaskFilter` (`TASK_LIST_PARAMETERS`): each
form field states its own schema, each filter its description.
"""

from datetime import UTC, date
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Count, DateTimeField, F, Func, Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from tasks.fields import (
    RFC3339_PATTERN,
    TIME_ZONE_HELP,
    TIME_ZONE_PATTERN,
    parse_rfc3339,
    text_trim,
    trimmed_text_pattern,
)
from tasks.limits import SEARCH_MAX_LENGTH, TAG_MAX_LENGTH, TAGS_PER_FILTER
from tasks.models import Priority, Tag, Task
from tasks.queries import caller_lists, caller_tasks
from tasks.zones import day_end, zone_named

# `name__lower`: LOWER(name), the expression the tag's unique index holds.
Tag._meta.get_field("name").register_lookup(Lower)

# Parameters whose empty value means something: no search, the default sort.
MAY_BE_EMPTY = {"search", "sort"}
DATE_TIME = "RFC 3339 date-time with an offset, e.g. `2026-01-31T09:00:00Z`."


class RepeatedValuesWidget(forms.Widget):
    """Reads every value of a repeated query parameter: `?tag=a&tag=b`."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)


class RFC3339FormField(forms.Field):
    default_error_messages = {
        "invalid": "Must be an RFC 3339 date-time with an offset, e.g. 2026-01-31T09:00:00Z.",
    }
    openapi_schema = {"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        # An unencoded "+01:00" offset arrives as " 01:00"; put the plus back.
        if len(value) > 6 and value[-6] == " ":
            value = value[:-6] + "+" + value[-5:]
        try:
            return parse_rfc3339(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class TimeZoneFormField(forms.Field):
    """An IANA time zone name the pinned tz database knows; UTC when left out."""

    default_error_messages = {"invalid": "Unknown time zone; use an IANA name like Europe/Paris."}
    openapi_schema = {"type": "string", "pattern": TIME_ZONE_PATTERN, "default": "UTC"}

    def to_python(self, value):
        if value is None:
            return UTC
        try:
            return zone_named(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFormField(forms.Field):
    default_error_messages = {"invalid": "Must be true or false."}
    openapi_schema = OpenApiTypes.BOOL

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value == "true"


class PriorityListFormField(forms.Field):
    """One or several priorities: `?priority=high&priority=medium` or `?priority=high,medium`."""

    widget = RepeatedValuesWidget
    openapi_schema = {"type": "array", "items": {"type": "string", "enum": Priority.labels}}

    def to_python(self, value):
        names = [name.strip() for item in value or [] for name in item.split(",") if name.strip()]
        unknown = [name for name in names if name not in Priority.labels]
        if unknown:
            raise forms.ValidationError(
                f"Unknown priority {unknown[0]!r}; use {', '.join(Priority.labels)}.", code="invalid_choice"
            )
        return [Priority[name.upper()].value for name in names]


class TagListFormField(forms.Field):
    """Repeatable `?tag=`: tasks having all of them. Names are trimmed as task tags are."""

    widget = RepeatedValuesWidget
    max_tags, max_length = TAGS_PER_FILTER, TAG_MAX_LENGTH
    openapi_schema = {
        "type": "array",
        "maxItems": max_tags,
        "items": {"type": "string", "pattern": trimmed_text_pattern(1, max_length)},
    }

    def to_python(self, value):
        names = [text_trim(name) for name in value or []]
        if len(names) > self.max_tags:
            raise forms.ValidationError(f"At most {self.max_tags} tags.", code="max_length")
        if any(not name or len(name) > self.max_length or "\x00" in name for name in names):
            raise forms.ValidationError(
                f"Each tag is 1 to {self.max_length} characters, without NUL characters.", code="invalid"
            )
        return names


class ListIdsFormField(forms.Field):
    """Repeatable `?list=`: a list id, or `none` for the tasks in no list (the inbox)."""

    widget = RepeatedValuesWidget
    max_lists = 100
    openapi_schema = {
        "type": "array",
        "maxItems": max_lists,
        "items": {"type": "string", "pattern": "^(?:none|[1-9][0-9]{0,17})$"},
    }

    def to_python(self, value):
        values = value or []
        if len(values) > self.max_lists:
            raise forms.ValidationError(f"At most {self.max_lists} lists.", code="max_length")
        ids = []
        for item in values:
            if item == "none":
                ids.append(None)
            elif item.isascii() and item.isdigit() and len(item) <= 18 and int(item) > 0:
                ids.append(int(item))
            elif item:
                raise forms.ValidationError("Each is a list id or `none`.", code="invalid")
        return ids


class ParentFormField(forms.Field):
    """`?parent=`: a task id (its subtasks), or `none` (top-level tasks only)."""

    openapi_schema = {"type": "string", "pattern": "^(?:none|[1-9][0-9]{0,17})$"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value == "none":
            return "none"
        if value.isascii() and value.isdigit() and len(value) <= 18 and int(value) > 0:
            return int(value)
        raise forms.ValidationError("A task id or `none`.", code="invalid")


class SearchFormField(forms.CharField):
    """Text to look for, trimmed as task text is."""

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)

    @property
    def openapi_schema(self) -> dict:
        return {"type": "string", "pattern": trimmed_text_pattern(0, self.max_length)}

    def to_python(self, value):
        return text_trim(super().to_python(value))


class DayEnd(Func):
    """The last moment of a date in a zone, in UTC (tasks.zones.day_end, in SQL): when an all-day task is due."""

    output_field = DateTimeField()

    def __init__(self, day, zone: ZoneInfo):
        super().__init__(day, Value(str(zone)))  # a ZoneInfo's key; UTC's name

    def as_postgresql(self, compiler, connection, **extra):
        template = "((((%(expressions)s)::date + 1)::timestamp AT TIME ZONE %(zone)s) - INTERVAL '1 microsecond')"
        day, zone = (compiler.compile(expression) for expression in self.source_expressions)
        return template % {"expressions": day[0], "zone": zone[0]}, (*day[1], *zone[1])

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function=SQLITE_DAY_END, **extra)


SQLITE_DAY_END = "tasks_day_end"


def sqlite_day_end(day: str | None, zone: str) -> str | None:
    """DayEnd on SQLite, as a value in the form Django stores date-times there (UTC)."""
    if day is None:
        return None
    return day_end(date.fromisoformat(day), zone_named(zone)).replace(tzinfo=None).isoformat(" ")


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the Python functions the task queries call on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_DAY_END, 2, sqlite_day_end, deterministic=True)


def due_moment(zone: ZoneInfo, *, all_day: bool = True):
    """When a task is due, for sorting: `due_at`, or the end of its `due_date` in `zone`.

    No index holds that expression, so a page sorts all of the caller's tasks (bench/README.md,
    "Sort by due date with all-day tasks"); a caller without all-day tasks sorts by `due_at`
    alone, in the order the index (owner, due_at) gives."""
    return Coalesce(F("due_at"), DayEnd(F("due_date"), zone)) if all_day else F("due_at")


# Each sort key: (its expression, given the caller's zone and whether all-day tasks are among
# those sorted; whether its natural direction is descending).
SORT_KEYS = {
    "created": (lambda zone, all_day: F("created_at"), True),
    "updated": (lambda zone, all_day: F("updated_at"), True),
    "title": (lambda zone, all_day: Lower("title"), False),
    "due_date": (lambda zone, all_day: due_moment(zone, all_day=all_day), False),
    "priority": (lambda zone, all_day: F("priority"), True),
    "position": (lambda zone, all_day: F("position"), False),
}


class SortFormField(forms.CharField):
    """`sort=priority,due_date`: each key in its natural direction, `-` reverses it."""

    openapi_schema = {"type": "string", "pattern": "^(-?({0})(,-?({0}))*)?$".format("|".join(SORT_KEYS))}

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return []
        keys = value.split(",")
        for key in keys:
            if key.removeprefix("-") not in SORT_KEYS:
                raise forms.ValidationError(
                    f"Unknown sort key {key!r}; use {', '.join(SORT_KEYS)}, each optionally with a leading '-'.",
                    code="invalid_choice",
                )
        return keys


def sort_ordering(keys: list[str], zone: ZoneInfo = UTC, *, all_day: bool = True) -> list:
    """ORDER BY for sort keys, ending with the id so that pages are stable; `all_day`: whether
    tasks due all day may be among those sorted (see due_moment)."""
    ordering = []
    for key in keys:
        name = key.removeprefix("-")
        expression_in, descending = SORT_KEYS[name]
        expression = expression_in(zone, all_day)
        if key.startswith("-"):
            descending = not descending
        # Tasks without a due date come last in both directions.
        nulls_last = True if name == "due_date" else None
        ordering.append(expression.desc(nulls_last=nulls_last) if descending else expression.asc(nulls_last=nulls_last))
    # The manual order breaks its ties as the move that made them did: the older task first.
    last_is_position = bool(keys) and keys[-1] == "position"
    return [*ordering, F("id").asc() if last_is_position else F("id").desc()]


class RFC3339Filter(django_filters.Filter):
    field_class = RFC3339FormField


class TimeZoneFilter(django_filters.Filter):
    field_class = TimeZoneFormField


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanFormField


class PriorityListFilter(django_filters.Filter):
    field_class = PriorityListFormField


class TagListFilter(django_filters.Filter):
    field_class = TagListFormField


class ParentFilter(django_filters.Filter):
    field_class = ParentFormField


class SortFilter(django_filters.Filter):
    field_class = SortFormField


class SearchFilter(django_filters.CharFilter):
    field_class = SearchFormField


class TaskFilterForm(forms.Form):
    """Refuses a parameter sent without a value: `?status=` is a mistake, not the default."""

    def clean(self):
        sent = self.data.getlist if hasattr(self.data, "getlist") else lambda name: [self.data.get(name)]
        for name in self.fields:
            if name not in MAY_BE_EMPTY and name not in self.errors and "" in sent(name):
                self.add_error(
                    name, forms.ValidationError("Must not be empty; leave the parameter out instead.", code="blank")
                )
        return super().clean()


class ListIdsFilter(django_filters.Filter):
    field_class = ListIdsFormField


class ListMembershipFilter(django_filters.FilterSet):
    """`list=`: the tasks in any of these lists of the caller's, `none` for the inbox; shared by
    the task list and the stats."""

    list = ListIdsFilter(
        method="filter_lists",
        help_text="Tasks in any of these lists (repeat the parameter); `none`: tasks in no list (the inbox). "
        "A list that is not the caller's is a 404, as `/api/lists/{id}` would answer.",
    )

    class Meta:
        model = Task
        fields = []
        form = TaskFilterForm

    def filter_lists(self, queryset, name, value):
        ids = {list_id for list_id in value if list_id is not None}
        if ids and caller_lists(self.request.user.better_auth_id).filter(pk__in=ids).count() != len(ids):
            raise NotFound()
        in_lists = Q(list_id__in=ids) if ids else Q(pk__in=[])
        return queryset.filter(in_lists | Q(list__isnull=True) if None in value else in_lists)


class TaskFilter(ListMembershipFilter):
    """The parameters of the task list."""

    status = django_filters.ChoiceFilter(
        choices=[("all", "all"), ("pending", "pending"), ("completed", "completed")],
        method="filter_status",
        help_text="Which tasks: all (default), pending or completed.",
    )
    priority = PriorityListFilter(
        field_name="priority",
        lookup_expr="in",
        help_text="Tasks with any of these priorities; repeat the parameter or separate with commas.",
    )
    tag = TagListFilter(
        method="filter_tags",
        help_text="Tasks carrying every one of these tags (case-insensitive); repeat the parameter.",
    )
    due_before = RFC3339Filter(
        method="filter_due_before", help_text=f"Due strictly before this moment (see `tz`). {DATE_TIME}"
    )
    due_after = RFC3339Filter(
        method="filter_due_after", help_text=f"Due at or after this moment (see `tz`). {DATE_TIME}"
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text="`true`: pending tasks whose due date has passed (see `tz`); `false`: all others.",
    )
    tz = TimeZoneFilter(
        method="filter_nothing",
        help_text="The IANA time zone, e.g. `Europe/Paris`, in which an all-day task (`due_date`) is due: at the "
        "end of its day there, for `due_before`, `due_after`, `overdue` and `sort=due_date`. Default UTC; a name "
        f"the time zone database does not know is a 400. {TIME_ZONE_HELP}",
    )
    search = SearchFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text=f"Case-insensitive text in the title or description; trimmed, at most {SEARCH_MAX_LENGTH} characters.",
    )
    updated_since = RFC3339Filter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after this moment. It cannot report deleted tasks, and a write that commits "
        "after a later one was read can be missed: to sync, use `GET /api/changes`. " + DATE_TIME,
    )
    parent = ParentFilter(
        method="filter_parent",
        help_text="A task id: that task's subtasks; `none`: top-level tasks only. Left out: every task, "
        "each with its `parent_id`. A task that is not the caller's is a 404, as `/api/tasks/{id}` would answer.",
    )
    sort = SortFilter(
        method="sort_by",
        help_text="Comma-separated keys, each in its natural direction: `created` and `updated` newest first, "
        "`title` A to Z, `due_date` soonest first, `priority` most urgent first, `position` the manual order "
        "(first to last). A leading `-` reverses a key; tasks without a due date stay last. Ties end with the "
        "newest id, or the oldest after `position`. Default: `created`.",
    )

    class Meta:
        model = Task
        fields = []
        form = TaskFilterForm

    def filter_status(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(completed=value == "completed")

    def filter_tags(self, queryset, name, value):
        # One subquery whatever the number of tags (a join per tag made PostgreSQL plan for
        # seconds): the tasks that carry as many of the caller's tags with these names as there
        # are names. Each tag is looked up as the unique index (owner, LOWER(name)) holds it.
        names = {tag.lower(): tag for tag in value}
        links = Task.tags.through.objects.filter(
            tag__owner=self.request.user, tag__name__lower__in=[Lower(Value(tag)) for tag in names.values()]
        ).values("task_id")
        if len(names) > 1:
            # One tag needs no count, and without one the planner may walk the list's index.
            links = links.annotate(carried=Count("*")).filter(carried__gte=len(names)).values("task_id")
        return queryset.filter(pk__in=links)

    @property
    def zone(self) -> ZoneInfo:
        """The caller's zone, `tz`: where an all-day task's day ends."""
        return self.form.cleaned_data.get("tz") or UTC

    def filter_nothing(self, queryset, name, value):
        return queryset  # `tz` only says how the other filters read all-day tasks

    def filter_due_before(self, queryset, name, value):
        return queryset.due_before(value, self.zone)

    def filter_due_after(self, queryset, name, value):
        return queryset.due_from(value, self.zone)

    def filter_overdue(self, queryset, name, value):
        overdue = queryset.overdue_q(timezone.now(), self.zone)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_parent(self, queryset, name, value):
        if value == "none":
            return queryset.filter(parent__isnull=True)
        if not caller_tasks(self.request.user.better_auth_id).filter(pk=value).exists():
            raise NotFound()
        return queryset.filter(parent_id=value)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def sort_by(self, queryset, name, value):
        if not value:
            return queryset
        all_day = any(key.removeprefix("-") == "due_date" for key in value) and (
            caller_tasks(self.request.user.better_auth_id).filter(due_date__isnull=False).exists()
        )
        return queryset.order_by(*sort_ordering(value, self.zone, all_day=all_day))


def filter_parameter(name: str, field: forms.Field) -> OpenApiParameter:
    """One filter's query parameter: its form field's schema (or choices) and its help text."""
    if isinstance(field, forms.ChoiceField):
        schema, enum = str, [value for value, _ in field.choices if value]
    else:
        schema, enum = field.openapi_schema, None
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.QUERY,
        description=field.help_text,
        enum=enum,
        explode=True if isinstance(field.widget, RepeatedValuesWidget) else None,
    )


def filter_parameters(filterset: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """A filter set's query parameters as the OpenAPI document shows them."""
    return [filter_parameter(name, declared.field) for name, declared in filterset.base_filters.items()]


TASK_LIST_PARAMETERS = filter_parameters(TaskFilter)
LIST_MEMBERSHIP_PARAMETERS = filter_parameters(ListMembershipFilter)
TIME_ZONE_PARAMETER = filter_parameter("tz", TaskFilter.base_filters["tz"].field)


def zone_of_request(request) -> ZoneInfo:
    """The zone the request's `tz` names, read as the task list reads it; a 400 naming `tz` when unknown."""
    field = TaskFilter.base_filters["tz"].field
    try:
        return field.clean(request.query_params.get("tz"))
    except forms.ValidationError as e:
        raise serializers.ValidationError({"tz": [serializers.ErrorDetail(e.messages[0], code=e.code)]}) from None
