from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tasks.models import Task
from tasks.serializers import TaskCompleteSerializer, TaskSerializer


class PathUserIsCaller(permissions.BasePermission):
    """On the Phase II routes `/api/{user_id}/tasks...`, `{user_id}` must be the caller."""

    message = "The user id in the path is not the signed-in user."
    code = "path_user_mismatch"

    def has_permission(self, request, view) -> bool:
        path_user_id = view.kwargs.get("user_id")
        return path_user_id is None or path_user_id == request.user.better_auth_id


class TaskViewSet(viewsets.ModelViewSet):
    """The caller's tasks, on `/api/tasks...` and on the Phase II `/api/{user_id}/tasks...`."""

    serializer_class = TaskSerializer
    permission_classes = [permissions.IsAuthenticated, PathUserIsCaller]

    def get_queryset(self):
        # The one place that scopes tasks to the caller: another user's task is a 404 everywhere.
        return Task.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def get_success_headers(self, data):
        return {"Location": self.request.build_absolute_uri(self.task_path(data["id"]))}

    def task_path(self, task_id: int) -> str:
        """The task's URL in the route style the request used."""
        if "user_id" in self.kwargs:
            return reverse("user-task-detail", kwargs={"user_id": self.kwargs["user_id"], "pk": task_id})
        return reverse("task-detail", kwargs={"pk": task_id})

    @action(detail=True, methods=["patch"])
    def complete(self, request, *args, **kwargs):
        """Toggles `completed`, or sets it when the body says `{"completed": bool}`."""
        body = TaskCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            # The row lock makes two concurrent toggles count twice, never once.
            task = self.get_object_for_update()
            task.set_completed(body.validated_data.get("completed", not task.completed))
            task.save()
        return Response(self.get_serializer(task).data)

    def get_object_for_update(self) -> Task:
        """The caller's task from the URL, row-locked until the surrounding transaction ends."""
        return get_object_or_404(self.get_queryset().select_for_update(), pk=self.kwargs["pk"])
