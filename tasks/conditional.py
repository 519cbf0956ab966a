"""Conditional requests on tasks (RFC 9110, section 13): ETags, If-Match and If-None-Match.

A task's ETag is made from its version, which goes up with every write, so it changes whenever
the task does. It is a strong validator: If-Match compares strongly (RFC 9110, 13.1.1), and a
weak ETag could never guard a write. Conditional GETs (If-None-Match, 304) are answered by
Django's ConditionalGetMiddleware, which also gives lists and other reads an ETag hashed from
their body.
"""

from collections.abc import Callable

from django.utils.http import parse_etags
from rest_framework import exceptions, status

from tasks.models import Task


def task_etag(task: Task) -> str:
    return etag_for(task.pk, task.version)


def etag_for(task_id: int, version: int) -> str:
    return f'"{task_id}-{version}"'


class PreconditionFailed(exceptions.APIException):
    """The client's copy of the task is stale; the body carries the current one."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The task changed since you read it; nothing was written. `current` is the task as it is now."
    default_code = "precondition_failed"

    def __init__(self, *, task: Task, current: dict):
        super().__init__()
        self.extra_body = {"current": current}
        self.headers = {"ETag": task_etag(task)}


def _matches(etag: str, header: str, *, weak: bool) -> bool:
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    if weak:
        return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}
    return etag in tags  # a weak tag ("W/...") never equals a strong one


def preconditions_check(request, task: Task, *, current: Callable[[], dict]) -> None:
    """Refuses a write to ``task`` the request's If-Match or If-None-Match rules out.

    Call it with the task's row locked, so no other write can come between this check and
    the caller's own.
    """
    etag = task_etag(task)
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match")
    if (if_match is not None and not _matches(etag, if_match, weak=False)) or (
        if_none_match is not None and _matches(etag, if_none_match, weak=True)
    ):
        raise PreconditionFailed(task=task, current=current())
