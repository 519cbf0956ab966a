"""Idempotency-Key on creates: a retried create answers like the first one and creates nothing.

The key is claimed in a row of its own, committed before the create runs, so a retry arriving
while the first request still runs sees the claim instead of waiting. The create's transaction
holds that row's lock and writes the response into it: a row exists exactly when its key
remembers the response. A retry that finds a claim without a response tries the lock: held
means the first request still runs (409); free means it died, say with the database or its
worker, and the retry takes the claim over. SQLite has no row locks: there, a claim is taken
over once ABANDONED_AFTER has passed. A create that fails releases the key.
"""

import contextlib
import functools
import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, Subquery
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.models import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKey

KEY_PATTERN = re.compile(rf"[\x20-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")  # printable ASCII
KEY_LIFETIME = timedelta(hours=24)
# A user's most recent keys are kept, the others forgotten sooner than KEY_LIFETIME: at the
# write budget one user made 170,000 a day, each with the whole answer to replay. A retry comes
# seconds or minutes after its request, not 1,000 creates later.
KEYS_PER_USER = 1000
# Without row locks, a claim still without a response after this long belongs to a request
# that died (gunicorn kills a request after 30 s): a retry may take it over.
ABANDONED_AFTER = timedelta(seconds=60)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT lock held by another
REPLAYED_HEADERS = ("Location",)


class IdempotencyKeyInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."
    default_code = "idempotency_key_invalid"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


class IdempotencyRequestInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_request_in_progress"
    wait = 1  # DRF turns `wait` into a Retry-After header.


def idempotency_keys_purge(*, owner=None) -> int:
    """Deletes the keys older than KEY_LIFETIME, and, when an owner is given, only theirs and
    all but their KEYS_PER_USER - 1 most recent (room for the one about to be claimed);
    returns how many."""
    expired = Q(created_at__lt=timezone.now() - KEY_LIFETIME)
    if owner is None:
        return IdempotencyKey.objects.filter(expired).delete()[0]
    newest = IdempotencyKey.objects.filter(owner=owner).order_by("-created_at", "-pk")
    # The oldest of the ones kept; everything before it goes (an index range, not a count).
    oldest_kept = newest.values("created_at")[KEYS_PER_USER - 2 : KEYS_PER_USER - 1]
    return IdempotencyKey.objects.filter(expired | Q(created_at__lt=Subquery(oldest_kept)), owner=owner).delete()[0]


def idempotency_claim(*, owner, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """The key's row, committed, and whether this request made it: new, pending (another's) or finished."""
    idempotency_keys_purge(owner=owner)
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint, created_at=now
                ), True
        except IntegrityError as e:
            failure = e
        earlier = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if earlier is None:
            continue  # released since: claim it again
        if earlier.created_at < now - KEY_LIFETIME:
            IdempotencyKey.objects.filter(pk=earlier.pk, created_at=earlier.created_at).delete()
            continue
        if earlier.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return earlier, False
    if earlier is None:
        raise failure  # not the key's constraint: the owner's row is gone
    raise IdempotencyRequestInProgress()  # other retries kept taking the key


def idempotency_hold(claim: IdempotencyKey, *, ours: bool) -> IdempotencyKey:
    """Locks a claim until the transaction ends, or raises a 409 while another request holds it."""
    try:
        held = IdempotencyKey.objects.select_for_update(nowait=True).filter(pk=claim.pk).first()
    except OperationalError as e:
        if getattr(e.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise IdempotencyRequestInProgress() from e
        raise
    if held is None:
        raise IdempotencyRequestInProgress()  # released a moment ago; the next retry claims it
    fresh = held.created_at >= timezone.now() - ABANDONED_AFTER
    if held.response_status is None and fresh and not ours and not connection.features.has_select_for_update:
        raise IdempotencyRequestInProgress()  # no row locks: only age tells a dead request
    return held


def _release(claim: IdempotencyKey) -> None:
    """Frees the key after a failed create; a database that is down leaves it to the lock check."""
    with contextlib.suppress(OperationalError, InterfaceError):
        IdempotencyKey.objects.filter(pk=claim.pk, response_status=None).delete()


def _replay(claim: IdempotencyKey) -> Response:
    headers = {**claim.response_headers, "Idempotent-Replayed": "true"}
    return Response(claim.response_body, status=claim.response_status, headers=headers)


def request_fingerprint(request, view) -> str:
    """SHA-256 of the request body, and of the resource for any view but the first one keyed
    (tasks): a key sent to create a task and then a list is a reuse (422), never a replay of the
    other resource's answer, while the fingerprints of task creates stay what they were."""
    scope = getattr(view, "idempotency_scope", "")
    return hashlib.sha256((f"{scope}\n".encode() if scope else b"") + request.body).hexdigest()


def idempotent_create(create):
    """Runs a view's ``create`` in a transaction, once per Idempotency-Key when the request has one."""

    @functools.wraps(create)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            with transaction.atomic():
                return create(view, request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise IdempotencyKeyInvalid()
        fingerprint = request_fingerprint(request, view)
        claim, ours = idempotency_claim(owner=request.user, key=key, fingerprint=fingerprint)
        if claim.response_status is not None:
            return _replay(claim)
        try:
            with transaction.atomic():
                claim = idempotency_hold(claim, ours=ours)
                if claim.response_status is not None:
                    return _replay(claim)  # the request holding it finished meanwhile
                response = create(view, request, *args, **kwargs)
                claim.response_status = response.status_code
                claim.response_body = response.data
                if response.status_code == status.HTTP_201_CREATED:
                    # What it created: deleting that forgets this key and the answer it stored
                    # (a GenericRelation to IdempotencyKey on the model, as tasks and lists have).
                    claim.created = view.get_queryset().model(pk=response.data["id"])
                claim.response_headers = {
                    name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
                }
                claim.save(
                    update_fields=["response_status", "response_body", "response_headers", "created_type", "created_id"]
                )
        except IdempotencyRequestInProgress:
            raise
        except Exception:
            _release(claim)
            raise
        return response

    wrapper.idempotent = True  # read by core.openapi: this operation documents Idempotency-Key
    return wrapper
