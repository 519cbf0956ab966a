from django.utils import timezone

from accounts.models import User
from tasks.models import Task


def make_task(owner: User, **fields) -> Task:
    if fields.get("completed"):
        fields.setdefault("completed_at", timezone.now())
    return Task.objects.create(owner=owner, **{"title": "Buy milk", **fields})


def row(task: Task) -> dict:
    """Everything stored for a task, to prove a rejected request changed nothing."""
    return Task.objects.filter(pk=task.pk).values().get()
