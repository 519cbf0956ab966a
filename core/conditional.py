"""Conditional requests (RFC 9110, section 13) for any model with a `version`: ETags, If-Match
and If-None-Match.

A row's ETag is made from its id and version, which goes up with every write, so it changes
whenever the row does; a model whose body shows more than its row (counts read with it) names
its version as a client sees it, `etag_version`, made from both. It is a strong validator:
If-Match compares strongly (RFC 9110, 13.1.1), and a weak ETag could never guard a write. Conditional GETs (If-None-Match, 304) are answered by
Django's ConditionalGetMiddleware, which also gives lists and other reads an ETag hashed from
their body.

A viewset opts in with `ConditionalWrites`: its writes check the row they lock with
`preconditions_check`, and the OpenAPI document (core.openapi) shows If-Match and 412 on its
`{id}` writes only.
"""

from collections.abc import Callable

from django.db import models
from django.utils.http import parse_etags
from rest_framework import exceptions, status
from rest_framework.response import Response


def etag_for(pk: int, version: int | str) -> str:
    return f'"{pk}-{version}"'


def etag_of(instance: models.Model) -> str:
    """The ETag of a row with a `version` (or an `etag_version`)."""
    return etag_for(instance.pk, instance.etag_version if hasattr(type(instance), "etag_version") else instance.version)


class PreconditionFailed(exceptions.APIException):
    """The client's copy is stale; the body carries the current one."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, *, instance: models.Model, current: dict):
        noun = instance._meta.verbose_name
        super().__init__(
            f"The {noun} changed since you read it; nothing was written. `current` is the {noun} as it is now."
        )
        self.extra_body = {"current": current}
        self.headers = {"ETag": etag_of(instance)}


def _matches(etag: str, header: str, *, weak: bool) -> bool:
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    if weak:
        return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}
    return etag in tags  # a weak tag ("W/...") never equals a strong one


def preconditions_check(request, instance: models.Model, *, current: Callable[[], dict]) -> None:
    """Refuses a write to ``instance`` the request's If-Match or If-None-Match rules out.

    Call it with the row locked, so no other write can come between this check and the
    caller's own.
    """
    etag = etag_of(instance)
    if_match = request.headers.get("If-Match")
    if_none_match = request.headers.get("If-None-Match")
    if (if_match is not None and not _matches(etag, if_match, weak=False)) or (
        if_none_match is not None and _matches(etag, if_none_match, weak=True)
    ):
        raise PreconditionFailed(instance=instance, current=current())


class ConditionalWrites:
    """A viewset mixin: `object_for_write()` locks the row the URL names and checks If-Match and
    If-None-Match against it; `object_response()` answers it with its ETag.

    The viewset names how it reads a row locked (`locked_object(pk)`, from its resource's
    scoping function); a row that is not there, or not the caller's, is a 404.
    """

    conditional_writes = True  # read by core.openapi: If-Match and 412 on this view's `{id}` writes

    def locked_object(self, pk: int):
        raise NotImplementedError

    def object_for_write(self):
        """The row the URL names, locked until the transaction ends, once the request's If-Match
        and If-None-Match allow the write.

        Checked against the locked row, so no other write comes between the check and this one;
        a row deleted meanwhile is a 404, as if the delete had come first.
        """
        instance = self.locked_object(int(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))
        if instance is None:
            raise exceptions.NotFound()
        self.check_object_permissions(self.request, instance)
        preconditions_check(self.request, instance, current=lambda: self.get_serializer(instance).data)
        return instance

    def object_response(self, instance, data=None, **kwargs):
        """The row as the API shows it, with its ETag."""
        response = Response(self.get_serializer(instance).data if data is None else data, **kwargs)
        response["ETag"] = etag_of(instance)
        return response
