from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import router, transaction
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from tasks.conditional import TaskETagMixin, etag_for, preconditions_check
from tasks.filters import TASK_LIST_PARAMETERS, TaskFilter
from tasks.idempotency import idempotent_create
from tasks.models import Tag, Task
from tasks.queries import (
    DefaultPage,
    caller_tasks,
    locked_task,
    one_task_row,
    task_rows,
    tasks_with_tag_names,
)
from tasks.serializers import (
    BulkActionSerializer,
    BulkResultSerializer,
    StatsSerializer,
    TagSerializer,
    TaskCompleteSerializer,
    TaskSerializer,
    task_rows_json,
)
from tasks.services import tags_prune, task_set_completed, tasks_set_completed
from todo_project.db import prepared
from todo_project.openapi import error_responses

WRITE_METHODS = {"PUT", "PATCH", "DELETE", "POST"}


class PathUserIsCaller(permissions.BasePermission):
    """On the Phase II routes `/api/{user_id}/tasks...`, `{user_id}` must be the caller."""

    message = "The user id in the path is not the signed-in user."
    code = "path_user_mismatch"

    def has_permission(self, request, view) -> bool:
        path_user_id = view.kwargs.get("user_id")
        return path_user_id is None or path_user_id == request.user.better_auth_id


def _header(name: str, description: str, statuses: list[int], schema=str) -> OpenApiParameter:
    return OpenApiParameter(name, schema, OpenApiParameter.HEADER, description=description, response=statuses)


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's tasks",
        description="A JSON array, newest first unless `sort` says otherwise; `limit`/`offset` pages it.",
        parameters=[
            *TASK_LIST_PARAMETERS,
            _header("X-Total-Count", "How many tasks match, over all pages.", [200], int),
            _header("Link", 'RFC 8288 links to the `rel="next"` and `rel="prev"` pages, when there are any.', [200]),
        ],
        responses={200: TaskSerializer(many=True), **error_responses(400)},
    ),
    create=extend_schema(
        summary="Create a task",
        parameters=[_header("Location", "The new task's URL.", [201])],
        responses={201: TaskSerializer, **error_responses(409)},
    ),
    retrieve=extend_schema(summary="Get one task"),
    update=extend_schema(
        summary="Replace a task's writable fields",
        description="Fields left out go back to their defaults.",
        responses={200: TaskSerializer, **error_responses(409)},
    ),
    partial_update=extend_schema(
        summary="Change some of a task's fields",
        description="Only the fields sent change; `null` clears `due_at` or `recurrence`; `tags` replaces the set.",
        responses={200: TaskSerializer, **error_responses(409)},
    ),
    destroy=extend_schema(summary="Delete a task"),
)
class TaskViewSet(TaskETagMixin, viewsets.ModelViewSet):
    """The caller's tasks, on `/api/tasks...` and on the Phase II `/api/{user_id}/tasks...`."""

    serializer_class = TaskSerializer
    permission_classes = [permissions.IsAuthenticated, PathUserIsCaller]
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter

    def get_queryset(self):
        # The one place that scopes tasks to the caller: another user's task is a 404 everywhere.
        tasks = caller_tasks(self.request.user.better_auth_id)
        if self.action in ("list", "retrieve"):
            return tasks  # read as rows (task_rows), tags included
        if self.action == "complete":
            return tasks_with_tag_names(tasks)  # completing leaves the tags as they are
        return tasks.prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))

    def filter_queryset(self, queryset):
        # Filters and sort shape lists; they never hide the task a detail URL names.
        if self.action == "list":
            if self.default_list():
                return queryset  # no filter nor sort asked: the default list, without building a form
            return super().filter_queryset(queryset)
        if self.request.method in WRITE_METHODS:
            # A write reads its task once, under a row lock held until the write's transaction
            # ends. A request that deleted it meanwhile makes it a 404, as if it had come first.
            return queryset.select_for_update()
        return queryset

    def default_list(self) -> bool:
        return self.request.query_params.keys().isdisjoint(TaskFilter.base_filters)

    def list(self, request, *args, **kwargs):
        # The fast read path: rows, not model instances, mapped to TaskSerializer's JSON; the
        # default list through SQL compiled once per process (tasks/queries.py).
        using = router.db_for_read(Task)
        if prepared(using) and self.default_list():
            rows = DefaultPage(request.user.better_auth_id, using)
        else:
            rows = task_rows(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(task_rows_json(self.paginate_queryset(rows)))

    def retrieve(self, request, *args, **kwargs):
        # The same fast path for one task: one query on PostgreSQL.
        using = router.db_for_read(Task)
        if prepared(using):
            row = one_task_row(request.user.better_auth_id, int(self.kwargs["pk"]), using)
            rows = [row] if row is not None else []
        else:
            rows = list(task_rows(self.get_queryset().filter(pk=self.kwargs["pk"])))
        if not rows:
            raise NotFound()
        response = Response(task_rows_json(rows)[0])
        response["ETag"] = etag_for(rows[0]["id"], rows[0]["version"])
        return response

    def get_object(self):
        using = router.db_for_write(Task)
        if self.action == "complete" and prepared(using):
            # The hot write's read, compiled once (tasks/queries.py): as filter_queryset would
            # have it, locked, and with its tag names.
            task = locked_task(self.request.user.better_auth_id, int(self.kwargs["pk"]), using)
            if task is None:
                raise NotFound()
            self.check_object_permissions(self.request, task)
        else:
            task = super().get_object()
        if self.request.method in WRITE_METHODS:
            # Checked against the locked row (filter_queryset): no other write can come between
            # the check and ours.
            preconditions_check(self.request, task, current=lambda: self.get_serializer(task).data)
        self.etag_task = task
        return task

    def perform_create(self, serializer):
        self.etag_task = serializer.save(owner=self.request.user)

    @idempotent_create
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        response = super().destroy(request, *args, **kwargs)
        tags_prune(owner=request.user)
        return response

    def get_success_headers(self, data):
        return {"Location": self.request.build_absolute_uri(self.task_path(data["id"]))}

    def task_path(self, task_id: int) -> str:
        """The task's URL in the route style the request used."""
        if "user_id" in self.kwargs:
            return reverse("user-task-detail", kwargs={"user_id": self.kwargs["user_id"], "pk": task_id})
        return reverse("task-detail", kwargs={"pk": task_id})

    @extend_schema(
        summary="Toggle or set a task's completion",
        description="Without a body it toggles `completed`; `{\"completed\": true}` sets it. Completing a "
        "recurring task also creates its next occurrence: at the task limit that is a 409 and nothing changes.",
        request=TaskCompleteSerializer,
        responses={200: TaskSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["patch"])
    @transaction.atomic
    def complete(self, request, *args, **kwargs):
        """Toggles `completed`, or sets it when the body says `{"completed": bool}`."""
        body = TaskCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = self.get_object()
        task_set_completed(task=task, completed=body.validated_data.get("completed", not task.completed))
        return Response(self.get_serializer(task).data)

    @extend_schema(
        operation_id="bulkTasks",
        summary="Complete, reopen or delete several tasks at once",
        description="All or nothing: when one id is not among the caller's tasks, nothing changes and the answer is 404; "
        "when the next occurrences of the recurring tasks completed would not all fit under the task limit, 409.",
        request=BulkActionSerializer,
        responses={200: BulkResultSerializer, **error_responses(404, 409)},
    )
    @action(detail=False, methods=["post"])
    @transaction.atomic
    def bulk(self, request, *args, **kwargs):
        """Completes, reopens or deletes several tasks: all of them, or none when one id is not the caller's."""
        body = BulkActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = set(body.validated_data["ids"])
        tasks = list(self.get_queryset().filter(pk__in=ids).select_for_update())
        if len(tasks) != len(ids):
            raise NotFound("One or more of these tasks do not exist; nothing was changed.")
        verb = body.validated_data["action"]
        created = []
        if verb == "delete":
            Task.objects.filter(pk__in=ids).delete()
            changed = len(ids)
            tags_prune(owner=request.user)
        else:
            changed, spawned = tasks_set_completed(tasks=tasks, completed=verb == "complete")
            created = sorted(task.pk for task in spawned)
        return Response({"action": verb, "ids": sorted(ids), "changed": changed, "created": created})

    @extend_schema(
        operation_id="getTaskStats",
        summary="Count the caller's tasks",
        parameters=[
            OpenApiParameter(
                "tz", str, OpenApiParameter.QUERY, default="UTC",
                description="IANA time zone that decides what `due_today` means, e.g. `Europe/Paris`; "
                "a name the time zone database does not know is a 400.",
            )
        ],
        responses={200: StatsSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request, *args, **kwargs):
        """Counts for the caller: total, pending, completed, overdue and due today (in `tz`)."""
        zone = _zone_from(request.query_params.get("tz", "UTC"))
        now = timezone.now()
        today = datetime.combine(now.astimezone(zone).date(), time.min, tzinfo=zone)
        pending = Q(completed=False)
        # One query; the aliases differ from the field names, which aggregate() would refuse.
        counts = self.get_queryset().aggregate(
            n_total=Count("id"),
            n_pending=Count("id", filter=pending),
            n_completed=Count("id", filter=Q(completed=True)),
            n_overdue=Count("id", filter=pending & Q(due_at__lt=now)),
            n_due_today=Count("id", filter=pending & Q(due_at__gte=today, due_at__lt=today + timedelta(days=1))),
        )
        counts = {name.removeprefix("n_"): value for name, value in counts.items()}
        return Response(StatsSerializer(counts).data)


def _zone_from(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise serializers.ValidationError(
            {"tz": [serializers.ErrorDetail(f"Unknown time zone {name[:64]!r}; use an IANA name like Europe/Paris.", code="invalid")]}
        ) from None


@extend_schema_view(get=extend_schema(operation_id="listTags", summary="List the caller's tags with task counts"))
class TagListView(generics.ListAPIView):
    """The caller's tags with how many of their tasks carry each, A to Z."""

    serializer_class = TagSerializer
    pagination_class = None  # at most MAX_TAGS_PER_USER, a bounded list

    def get_queryset(self):
        return (
            Tag.objects.filter(owner=self.request.user)
            .annotate(count=Count("tasks"))
            .order_by(Lower("name"), "id")
        )
