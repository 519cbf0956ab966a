import json
from datetime import UTC, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from accounts.models import User
from tasks.models import Tag, Task, TaskList
from tasks.queries import lists_with_counts
from tasks.recurrence import InvalidRecurrence, recurrence_check_schedule, recurrence_normalize
from tasks.services import LimitReached, lists_delete, owners_lock, tasks_delete, tasks_set_completed


class EstimatedCountPaginator(Paginator):
    """Counts a list exactly up to 10,000 rows; beyond that, takes PostgreSQL's estimate.

    COUNT(*) over a million tasks is a full scan on every page view. Counting at most
    10,001 rows stops early, and the planner's estimate of a large list costs a millisecond.
    A large count is therefore approximate: good enough for "about how many", and the pages
    past the estimate are reached by narrowing the list. Other databases count exactly.
    """

    EXACT_UP_TO = 10_000

    @cached_property
    def count(self) -> int:
        if connections[self.object_list.db].vendor != "postgresql":
            return super().count
        # Unordered, so the scan stops at the cap instead of sorting everything first.
        counted = self.object_list.order_by()[: self.EXACT_UP_TO + 1].count()
        if counted <= self.EXACT_UP_TO:
            return counted
        plan = json.loads(self.object_list.explain(format="json"))[0]["Plan"]
        return max(counted, int(plan["Plan Rows"]))


class DueFilter(admin.SimpleListFilter):
    """Due dates in the ranges an operator asks about: overdue, today, this week, later, none."""

    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue"),
            ("today", "Due in the next 24 hours"),
            ("week", "Due in the next 7 days"),
            ("later", "Due later"),
            ("none", "No due date"),
        ]

    def queryset(self, request, queryset: QuerySet[Task]) -> QuerySet[Task]:
        # All-day tasks count as due at the end of their day in UTC (TaskQuerySet).
        now = timezone.now()
        ranges = {
            "overdue": lambda tasks: tasks.overdue(now, UTC),
            "today": lambda tasks: tasks.due_from(now, UTC).due_before(now + timedelta(days=1), UTC),
            "week": lambda tasks: tasks.due_from(now, UTC).due_before(now + timedelta(days=7), UTC),
            "later": lambda tasks: tasks.due_from(now + timedelta(days=7), UTC),
            "none": lambda tasks: tasks.filter(due_at=None, due_date=None),
        }
        return ranges[self.value()](queryset) if self.value() in ranges else queryset


class TaskAdminForm(forms.ModelForm):
    """The API's rules the database cannot hold: a valid RRULE with a due date, the owner's own tags."""

    class Meta:
        model = Task
        fields = "__all__"

    def clean_recurrence(self) -> str | None:
        rule = self.cleaned_data["recurrence"]
        try:
            return recurrence_normalize(rule) if rule else None
        except InvalidRecurrence as e:
            raise forms.ValidationError(str(e)) from e

    def clean(self):
        cleaned = super().clean()
        due_at, due_date = cleaned.get("due_at"), cleaned.get("due_date")
        if due_at and due_date:
            self.add_error("due_date", "A task is due at a moment or on a day, not both: clear one.")
        elif cleaned.get("recurrence") and not (due_at or due_date):
            self.add_error("due_at", "A recurring task needs a due date.")
        elif cleaned.get("recurrence"):
            try:
                recurrence_check_schedule(
                    cleaned["recurrence"], due_at, due_date=due_date, due_timezone=cleaned.get("due_timezone")
                )
            except InvalidRecurrence as e:
                self.add_error("recurrence", str(e))
        owner, tags = cleaned.get("owner"), cleaned.get("tags") or []
        if owner and any(tag.owner_id != owner.better_auth_id for tag in tags):
            self.add_error("tags", "Tags must belong to the task's owner.")
        task_list = cleaned.get("list")
        if owner and task_list and task_list.owner_id != owner.better_auth_id:
            self.add_error("list", "The list must belong to the task's owner.")
        parent = cleaned.get("parent")
        if parent is not None:
            if owner and parent.owner_id != owner.better_auth_id:
                self.add_error("parent", "The parent must belong to the task's owner.")
            elif parent.parent_id is not None or parent.pk == self.instance.pk or self.instance.subtasks.exists():
                self.add_error("parent", "Subtasks are one level deep: a subtask's parent is a top-level task.")
            elif task_list != parent.list:
                self.add_error("list", "A subtask is in its parent's list.")
        return cleaned


class SubtaskInline(admin.TabularInline):
    """A task's subtasks, in their order; each is changed on its own page."""

    model = Task
    fk_name = "parent"
    fields = ["title", "completed", "position"]
    readonly_fields = fields
    ordering = ["position", "id"]
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@transaction.atomic
def delete_per_owner(queryset: QuerySet, delete) -> None:
    """Deletes the rows an operator picked through `delete(owner, rows)`, a service of the API's,
    owner by owner in one order (no deadlock with another writer of several owners' rows)."""
    rows = queryset.select_related(None).order_by()
    for owner in User.objects.filter(better_auth_id__in=rows.values("owner_id")).order_by("better_auth_id"):
        delete(owner, rows.filter(owner=owner))


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Tasks for operators: find, fix and clean up; fast at a million rows."""

    form = TaskAdminForm
    list_display = ["title", "owner", "list", "completed", "priority", "due_at", "due_date", "tag_names", "updated_at"]
    # In a list or in the inbox; one list's tasks: the link on its row in the lists (`?list__id__exact=`).
    list_filter = ["completed", "priority", DueFilter, ("list", admin.EmptyFieldListFilter)]
    search_fields = ["title"]
    search_help_text = "A title, or an owner's email (anything with an @)."
    autocomplete_fields = ["owner", "tags", "list", "parent"]
    readonly_fields = ["position", "completed_at", "created_at", "updated_at"]
    inlines = [SubtaskInline]
    list_select_related = ["owner", "list"]
    # Newest first by primary key: an index scan, where created_at would sort every row.
    ordering = ["-pk"]
    sortable_by = ["title", "completed", "priority", "due_at", "due_date", "updated_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Filter counts ("Show counts") would be a COUNT over every task per filter choice.
    show_facets = admin.ShowFacets.NEVER
    actions = ["complete", "reopen", "delete_selected"]

    def get_inline_instances(self, request, obj=None):
        # The subtasks are shown, never edited here: a saved form carries no formset of them.
        return super().get_inline_instances(request, obj) if request.method == "GET" else []

    def get_queryset(self, request) -> QuerySet[Task]:
        return super().get_queryset(request).prefetch_related("tags")

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        return lookup == "list__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        if "@" not in search_term:
            return super().get_search_results(request, queryset, search_term)
        # An owner's email: find the owners first, then their tasks through the owner index,
        # instead of joining every task to its owner to compare emails.
        owners = User.objects.filter(email__icontains=search_term.strip()).values("better_auth_id")
        return queryset.filter(owner__in=owners), False

    @transaction.atomic
    def save_model(self, request, obj: Task, form, change) -> None:
        if change:
            # The owners' rows (before and after the edit), then the task's: the order the API's
            # writes take them (tasks.services), so an edit here and one there cannot deadlock.
            stored = Task.objects.filter(pk=obj.pk).values_list("owner_id", flat=True)
            owners_lock(owner_ids={obj.owner_id, *stored})
            Task.objects.select_for_update().filter(pk=obj.pk).values_list("pk").first()
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj: Task) -> None:
        self.delete_queryset(request, Task.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset: QuerySet[Task]) -> None:
        # Through the same service as the API, so each owner's feed reports the deletions.
        delete_per_owner(queryset, lambda owner, rows: tasks_delete(owner=owner, tasks=rows))

    @admin.display(description="tags")
    def tag_names(self, task: Task) -> str:
        return ", ".join(sorted(tag.name for tag in task.tags.all()))

    def _set_completed(self, request, queryset: QuerySet[Task], completed: bool) -> None:
        # Through the same service as the API, so completing a recurring task spawns its next one.
        try:
            with transaction.atomic():
                # The owners' rows first, then the tasks', as every write (tasks.services).
                owners_lock(owner_ids=queryset.order_by().values_list("owner_id", flat=True).distinct())
                tasks = list(queryset.select_related(None).select_for_update())
                changed, spawned, removed = tasks_set_completed(tasks=tasks, completed=completed)
        except LimitReached as e:
            self.message_user(request, f"Nothing changed: {e.detail}", level=messages.ERROR)
            return
        verb = "Completed" if completed else "Reopened"
        spawned_note = f"; {len(spawned)} next occurrence(s) created" if spawned else ""
        spawned_note += f"; {len(removed)} untouched next occurrence(s) removed" if removed else ""
        self.message_user(request, f"{verb} {changed} task(s){spawned_note}.")

    @admin.action(description="Complete selected tasks")
    def complete(self, request, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Reopen selected tasks")
    def reopen(self, request, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=False)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags, mostly for picking them on a task (autocomplete searches here)."""

    list_display = ["name", "owner"]
    search_fields = ["name", "owner__email"]
    autocomplete_fields = ["owner"]
    list_select_related = ["owner"]
    ordering = ["-pk"]
    show_full_result_count = False


@admin.register(TaskList)
class TaskListAdmin(admin.ModelAdmin):
    """Lists, each linked to its tasks; deleting one deletes its tasks, as in the API."""

    list_display = ["name", "owner", "tasks_link", "updated_at"]
    search_fields = ["name", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["position", "created_at", "updated_at"]
    list_select_related = ["owner"]
    ordering = ["-pk"]
    show_full_result_count = False

    def get_queryset(self, request) -> QuerySet[TaskList]:
        return lists_with_counts(super().get_queryset(request))

    def delete_model(self, request, obj: TaskList) -> None:
        self.delete_queryset(request, TaskList.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset: QuerySet[TaskList]) -> None:
        # Through the same service as the API, so each owner's feed reports the list and its tasks.
        delete_per_owner(queryset, lambda owner, rows: lists_delete(owner=owner, lists=rows))

    @admin.display(description="tasks", ordering="task_count")
    def tasks_link(self, task_list: TaskList) -> str:
        url = reverse("admin:tasks_task_changelist") + f"?list__id__exact={task_list.pk}"
        return format_html('<a href="{}">{}</a>', url, task_list.task_count)
