from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.services import user_lock
from core.changes import FeedQuerySerializer, FeedSource, FeedView, change_next, feed_answer_serializer
from core.conditional import ConditionalWrites, etag_for
from core.idempotency import idempotent_create
from core.openapi import ErrorSerializer, error_responses
from tasks.filters import (
    LIST_MEMBERSHIP_PARAMETERS,
    TASK_LIST_PARAMETERS,
    TIME_ZONE_PARAMETER,
    ListMembershipFilter,
    TaskFilter,
    zone_of_request,
)
from tasks.models import Tag, Task, TaskQuerySet
from tasks.positions import position_place
from tasks.queries import (
    DefaultPage,
    caller_lists,
    caller_task_locked,
    caller_task_row,
    caller_tasks,
    lists_with_counts,
    task_rows,
    with_tag_names,
)
from tasks.serializers import (
    BulkActionSerializer,
    BulkResultSerializer,
    CompletedTaskSerializer,
    ListMoveSerializer,
    NewTaskSerializer,
    StatsSerializer,
    TagSerializer,
    TaskCompleteSerializer,
    TaskListSerializer,
    TaskMoveSerializer,
    TaskSerializer,
)
from tasks.services import (
    lists_delete,
    task_move,
    task_set_completed,
    tasks_delete,
    tasks_move,
    tasks_set_completed,
)


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
            _header(
                "Link",
                'RFC 8288 links to the `rel="next"` and `rel="prev"` pages, when there are any. Past the end '
                'of the list, `rel="prev"` leads to the last page that has tasks (none when no task matches).',
                [200],
            ),
        ],
        responses={200: TaskSerializer(many=True), **error_responses(400, 404)},
    ),
    create=extend_schema(
        summary="Create a task",
        request=NewTaskSerializer,
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
class TaskViewSet(ConditionalWrites, viewsets.ModelViewSet):
    """The caller's tasks, on `/api/tasks...` and on the Phase II `/api/{user_id}/tasks...`."""

    # Each action reads top to bottom: its task (a row to read, or `object_for_write`: locked and
    # checked against If-Match), the change, the answer with the task's ETag (`object_response`).

    serializer_class = TaskSerializer
    operation_noun = "Task"  # listTasks, createTask, getTask... (core.openapi)
    page_items = "tasks"
    permission_classes = [permissions.IsAuthenticated, PathUserIsCaller]
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilter

    def get_queryset(self):
        # The one place that scopes tasks to the caller: another user's task is a 404 everywhere.
        return caller_tasks(self.request.user.better_auth_id)

    def locked_object(self, pk: int) -> Task | None:
        # The owner's row first, as every write takes it (tasks.services), then the task's.
        user_lock(user_id=self.request.user.better_auth_id)
        task = caller_task_locked(self.request.user.better_auth_id, pk)
        if task is not None:
            task.owner = self.request.user  # the caller, found by their id: no query to read it again
            task.owner_locked()
        return task

    def list(self, request, *args, **kwargs):
        if request.query_params.keys().isdisjoint(TaskFilter.base_filters):
            rows = DefaultPage(request.user.better_auth_id)  # no filter nor sort asked: compiled once
        else:
            rows = task_rows(self.filter_queryset(self.get_queryset()))
        page = with_tag_names(self.paginate_queryset(rows))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        row = caller_task_row(request.user.better_auth_id, int(self.kwargs["pk"]))
        if row is None:
            raise NotFound()
        return Response(self.get_serializer(row).data, headers={"ETag": etag_for(row["id"], row["version"])})

    @idempotent_create
    def create(self, request, *args, **kwargs):
        serializer = NewTaskSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        task = serializer.save(owner=request.user)
        location = request.build_absolute_uri(self.task_path(task.pk))
        return self.object_response(
            task, serializer.data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @transaction.atomic
    def update(self, request, *args, partial=False, **kwargs):
        task = self.object_for_write()
        serializer = self.get_serializer(task, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        task = serializer.save()
        return self.object_response(task, serializer.data)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        task = self.object_for_write()
        tasks_delete(owner=request.user, tasks=self.get_queryset().filter(pk=task.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def task_path(self, task_id: int) -> str:
        """The task's URL in the route style the request used."""
        if "user_id" in self.kwargs:
            return reverse("user-task-detail", kwargs={"user_id": self.kwargs["user_id"], "pk": task_id})
        return reverse("task-detail", kwargs={"pk": task_id})

    @extend_schema(
        summary="Toggle or set a task's completion",
        description='Without a body it toggles `completed`; `{"completed": true}` sets it. Completing a '
        "recurring task also creates its next occurrence, which the answer carries in `next_occurrence`: at the "
        "task limit that is a 409 and nothing changes. Reopening it removes that occurrence again while nobody "
        "has edited or completed it (an undone misclick leaves one open task); an edited one stays.",
        request=TaskCompleteSerializer,
        responses={200: CompletedTaskSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["patch"])
    @transaction.atomic
    def complete(self, request, *args, **kwargs):
        """Toggles `completed`, or sets it when the body says `{"completed": bool}`."""
        body = TaskCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = self.object_for_write()
        completed = body.validated_data.get("completed", not task.completed)
        task.created_occurrence = None
        if completed != task.completed:  # setting the value it has changes nothing, the version included
            task.created_occurrence = task_set_completed(task=task, completed=completed)
        return self.object_response(task, CompletedTaskSerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(
        operation_id="moveTask",
        summary="Move a task in the manual order, or to another list",
        description="`before` or `after` a sibling (a top-level task of the destination list, or a subtask of "
        "the same parent), or `list_id` alone: the end of that list (null: the inbox). With `list_id` and "
        "an anchor, the anchor is in that list. The task's subtasks follow it to another list. Only the moved "
        "task is written, and its version bumps, except when the gap between its new neighbours has run out: "
        "then its siblings are renumbered in the same request, and each renumbered one gets a new version too "
        "(docs/api.md, Manual order). A move to where the task already stands changes nothing, its version "
        "included. An anchor that is not one of the caller's tasks is a 400 `does_not_exist`; one that is "
        "not a sibling, a 400 `not_a_sibling`.",
        request=TaskMoveSerializer,
        responses={200: TaskSerializer, **error_responses(400)},
    )
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def move(self, request, *args, **kwargs):
        """Moves the task before or after a sibling, or to the end of a list."""
        task = self.object_for_write()  # another's task is a 404 whatever the body
        body = TaskMoveSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        place = body.validated_data
        list_id = place.get("list_id", task.list_id)
        if task.parent_id is not None and list_id != task.list_id:
            _refuse("list_id", "A subtask is in its parent's list: move the parent instead.", "follows_parent")
        anchors = {}
        for side in ("before", "after"):
            if side in place:
                anchor = self.get_queryset().filter(pk=place[side]).first()
                if anchor is None:  # deleted since the body was checked
                    _refuse(side, "No task of yours has this id.", "does_not_exist")
                if anchor.pk == task.pk:
                    _refuse(side, "A task cannot be moved next to itself.", "invalid")
                if anchor.parent_id != task.parent_id or (task.parent_id is None and anchor.list_id != list_id):
                    _refuse(side, "Not a sibling of the task in the destination.", "not_a_sibling")
                anchors[side] = anchor
        task_move(task=task, list_id=list_id, **anchors)
        return self.object_response(task)

    @extend_schema(
        operation_id="bulkTasks",
        summary="Complete, reopen, delete or move several tasks at once",
        description="All or nothing: when one id is not among the caller's tasks, nothing changes and the answer is 404; "
        "`move` puts them in the list `list_id` names (null: the inbox), each moved task a new version; "
        "when the next occurrences of the recurring tasks completed would not all fit under the task limit, 409; "
        "so too (`search_budget_reached`) when finding them would search too far in all (rules that rarely "
        "occur, by the dozen): complete fewer at once.",
        request=BulkActionSerializer,
        responses={200: BulkResultSerializer, **error_responses(404, 409)},
    )
    @action(detail=False, methods=["post"])
    @transaction.atomic
    def bulk(self, request, *args, **kwargs):
        """Completes, reopens, deletes or moves several tasks: all of them, or none when one id is not the caller's."""
        body = BulkActionSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        ids = set(body.validated_data["ids"])
        user_lock(user_id=request.user.better_auth_id)  # the owner's row first, as every write (tasks.services)
        tasks = list(self.get_queryset().filter(pk__in=ids).select_for_update())
        if len(tasks) != len(ids):
            raise NotFound("One or more of these tasks do not exist; nothing was changed.")
        verb = body.validated_data["action"]
        if verb == "move" and any(task.parent_id is not None for task in tasks):
            _refuse("ids", "A subtask is in its parent's list: move the parent instead.", "follows_parent")
        if body.validated_data.get("include_subtasks"):
            tasks += list(self.get_queryset().filter(parent_id__in=ids).exclude(pk__in=ids).select_for_update())
            ids |= {task.pk for task in tasks}
        created, removed = [], []
        if verb == "delete":
            changed = tasks_delete(owner=request.user, tasks=self.get_queryset().filter(pk__in=ids))
        elif verb == "move":
            changed = tasks_move(tasks=tasks, list_id=body.validated_data["list_id"])
        else:
            changed, spawned, removed = tasks_set_completed(tasks=tasks, completed=verb == "complete")
            created = sorted(task.pk for task in spawned)
        return Response(
            {"action": verb, "ids": sorted(ids), "changed": changed, "created": created, "removed": removed}
        )

    @extend_schema(
        operation_id="getTaskStats",
        summary="Count the caller's tasks",
        parameters=[TIME_ZONE_PARAMETER, *LIST_MEMBERSHIP_PARAMETERS],
        responses={200: StatsSerializer, **error_responses(400, 404)},
    )
    @action(detail=False, methods=["get"])
    def stats(self, request, *args, **kwargs):
        """Counts for the caller (in the lists `list=` names): total, pending, completed, overdue and due today (in `tz`)."""
        zone = zone_of_request(request)
        now = timezone.now()
        tasks = ListMembershipFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not tasks.is_valid():
            raise translate_validation(tasks.errors)
        # One query; the aliases differ from the field names, which aggregate() would refuse.
        counts = tasks.qs.aggregate(
            n_total=Count("id"),
            n_pending=Count("id", filter=Q(completed=False)),
            n_completed=Count("id", filter=Q(completed=True)),
            n_overdue=Count("id", filter=TaskQuerySet.overdue_q(now, zone)),
            n_due_today=Count("id", filter=TaskQuerySet.due_today_q(now, zone)),
        )
        counts = {name.removeprefix("n_"): value for name, value in counts.items()}
        return Response(StatsSerializer(counts).data)


def _refuse(field: str, message: str, code: str):
    raise serializers.ValidationError({field: [serializers.ErrorDetail(message, code=code)]})


@extend_schema_view(get=extend_schema(operation_id="listTags", summary="List the caller's tags with task counts"))
class TagListView(generics.ListAPIView):
    """The caller's tags with how many of their tasks carry each, A to Z."""

    serializer_class = TagSerializer
    pagination_class = None  # at most MAX_TAGS_PER_USER, a bounded list

    def get_queryset(self):
        return Tag.objects.filter(owner=self.request.user).annotate(count=Count("tasks")).order_by(Lower("name"), "id")


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's lists",
        description="A JSON array in the lists' order (`position`, then id); `limit`/`offset` pages it.",
        parameters=[
            _header("X-Total-Count", "How many lists the caller has.", [200], int),
            _header("Link", 'RFC 8288 links to the `rel="next"` and `rel="prev"` pages, when there are any.', [200]),
        ],
        responses={200: TaskListSerializer(many=True), **error_responses(400)},
    ),
    create=extend_schema(
        summary="Create a list",
        description="It goes after the caller's other lists.",
        parameters=[_header("Location", "The new list's URL.", [201])],
        responses={201: TaskListSerializer, **error_responses(409)},
    ),
    retrieve=extend_schema(summary="Get one list"),
    update=extend_schema(summary="Replace a list's writable fields", description="`color` left out goes back to null."),
    partial_update=extend_schema(summary="Change some of a list's fields"),
    destroy=extend_schema(
        summary="Delete a list and its tasks",
        description="The list's tasks are deleted with it, in the same transaction (move them first to keep them).",
    ),
)
class TaskListViewSet(ConditionalWrites, viewsets.ModelViewSet):
    """The caller's lists, on `/api/lists...`."""

    serializer_class = TaskListSerializer
    operation_noun = "List"  # listLists, createList, getList... (core.openapi)
    page_items = "lists"
    idempotency_scope = "lists"  # a key used for a task is not replayed for a list (core.idempotency)

    def get_queryset(self):
        # The one place that scopes lists to the caller: another user's list is a 404 everywhere.
        return lists_with_counts(caller_lists(self.request.user.better_auth_id)).order_by("position", "id")

    def locked_object(self, pk: int):
        # The owner's row first, as every write takes it (tasks.services), then the list's.
        user_lock(user_id=self.request.user.better_auth_id)
        task_list = self.get_queryset().filter(pk=pk).select_for_update(of=("self",)).first()
        return task_list and task_list.owner_locked()

    def retrieve(self, request, *args, **kwargs):
        return self.object_response(self.get_object())

    @idempotent_create
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task_list = serializer.save(owner=request.user)
        location = request.build_absolute_uri(reverse("list-detail", kwargs={"pk": task_list.pk}))
        return self.object_response(
            task_list, serializer.data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @transaction.atomic
    def update(self, request, *args, partial=False, **kwargs):
        task_list = self.object_for_write()
        serializer = self.get_serializer(task_list, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self.object_response(serializer.save(), serializer.data)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        task_list = self.object_for_write()
        # Each task, then the list, a deletion in the change feed (the CASCADE would leave none).
        lists_delete(owner=request.user, lists=caller_lists(request.user.better_auth_id).filter(pk=task_list.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="moveList",
        summary="Move a list in the caller's order of lists",
        description="Just `before` or just `after` another of the caller's lists; neither puts it last. Written "
        "as a task's move is (docs/api.md, Manual order): the moved list's version bumps, and the others' "
        "only when the gap ran out and they were renumbered. An id that is not one of the caller's lists is "
        "a 400 `does_not_exist`.",
        request=ListMoveSerializer,
        responses={200: TaskListSerializer, **error_responses(400)},
    )
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def move(self, request, *args, **kwargs):
        """Moves the list before or after another, or last."""
        # Another's list is a 404 whatever the body. The owner's row is locked (locked_object), so
        # the user's moves run one at a time.
        task_list = self.object_for_write()
        body = ListMoveSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        anchors = {
            side: caller_lists(request.user.better_auth_id).filter(pk=pk).first()
            for side, pk in body.validated_data.items()
        }
        if None in anchors.values():  # deleted since the body was checked
            _refuse(next(iter(anchors)), "No list of yours has this id.", "does_not_exist")
        if any(anchor.pk == task_list.pk for anchor in anchors.values()):
            _refuse(next(iter(anchors)), "A list cannot be moved next to itself.", "invalid")
        position = position_place(
            row=task_list,
            group=caller_lists(request.user.better_auth_id),
            in_group=True,
            stamp=lambda: {"change_seq": change_next(user=request.user)},
            **anchors,
        )
        if position is not None:
            task_list.position = position
            task_list.save(update_fields=["position"])
        return self.object_response(task_list)


# What the change feed reports: tasks as the task routes show them, read through their one scope,
# each with its list, whose counts it is in (a task's change writes no list row: TaskList).
TASK_CHANGES = FeedSource(
    key="tasks",
    serializer=TaskSerializer,
    scope=lambda user: caller_tasks(user.better_auth_id),
    rows=lambda tasks: with_tag_names(list(task_rows(tasks))),
    carries=(("lists", "list_id"),),
)
# Lists as the list routes show them, with their counts.
LIST_CHANGES = FeedSource(
    key="lists",
    serializer=TaskListSerializer,
    scope=lambda user: lists_with_counts(caller_lists(user.better_auth_id)),
)
CHANGE_SOURCES = (TASK_CHANGES, LIST_CHANGES)


@extend_schema_view(
    get=extend_schema(
        operation_id="getChanges",
        summary="What changed since a cursor: tasks and lists created or changed, ids deleted",
        description="Sync for a client cache. Without `cursor`, a snapshot of every task and list of the caller's, "
        "paged like the feed; then each `next_cursor` gives what changed after it, each row once in the order "
        "the changes committed (a change that commits late is never skipped). Follow `next_cursor` while "
        "`has_more` is true; applying each page (upsert the rows, drop the deleted ids) reproduces `GET /api/tasks` "
        "and `GET /api/lists`, counts included (a page carries the list of each task it reports; a task leaving a "
        "list feeds the list; a write that changes a parent's counts feeds the parent). "
        "The cursor is opaque, not a time; a cursor of another user's, or not issued by this server, is a 400 "
        "`invalid_cursor`; one older than the kept deletions (`SYNC_TOMBSTONE_DAYS`, 30 days) is a 410 "
        "`cursor_expired`: start again without a cursor.",
        parameters=[FeedQuerySerializer],
        responses={
            200: feed_answer_serializer(CHANGE_SOURCES),
            **error_responses(410),
            400: OpenApiResponse(
                ErrorSerializer,
                description="`invalid_cursor`: the cursor is not one this server issued to the caller; or "
                "`validation_failed` for a `limit` that is not a whole number from 1 to 1000.",
            ),
        },
    )
)
class ChangesView(FeedView):
    """The caller's change feed: `/api/changes`."""

    sources = CHANGE_SOURCES
