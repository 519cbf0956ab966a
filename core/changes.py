"""A user's change feed: what changed after an opaque cursor, deletions included, in the order
the changes committed, and never skipping one that commits late.

## The rows it reports

A fed model has an `owner` (a user) and a `change_seq` column, indexed with the owner. Every
write that changes such a row stamps it with a change number (`change_next`); a deletion leaves
a `Tombstone` stamped the same way (`changes_delete`). An app names what its feed reports with a
`FeedSource` per model (its key in the answer, its serializer, its scoping function) and serves
them with a `FeedView`. A row whose body counts rows of another source (a list its tasks) need
not be written when they change: that source `carries` it, and a page reporting one of them
reports it too, as read then.

## Why a late commit cannot be skipped

Change numbers are per user. `change_next` takes the user's next number by an UPDATE of their
`ChangeCounter` row, whose lock is held until the writing transaction ends: another write of
the same user waits there until this one has committed (or rolled back, giving its number back).
So the user's numbers commit in the order they were taken, and once a number is visible, every
smaller one is too. A reader first reads the counter (the last committed number, `top`), then
the rows and tombstones numbered up to `top`: all of them are committed, and any later change
takes a number above `top`. A client whose cursor says "read through N" therefore never misses a
change numbered N or less, however the transactions interleaved. SQLite has one writer at a time
(a write transaction holds the database's write lock until it commits), which gives the same
order without row locks.

## Cursors

A cursor is a position in the user's order of changes, (number, kind, id), signed with the
project's secret and the user's row id (an HMAC, `cursor_for`): another user's cursor, a forged
one, or one of an account deleted since, is `invalid_cursor`. It is written in characters a URL
carries unescaped (`<position>.<signature>`); the `:`-separated cursors issued before (signed
by django.core.signing) are still read, and an unchanged poll answers one in today's form.
Tombstones are kept SYNC_TOMBSTONE_DAYS; a cursor from before the last purged one is
`cursor_expired` (410): the client starts again without a cursor.
"""

import functools
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.db.models import BigIntegerField, Max, Model, Q, QuerySet
from django.utils import timezone
from django.utils.encoding import force_bytes
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.db import CompiledQuery, Param
from core.models import ChangeCounter, Tombstone
from core.throttling import cache_failed, cache_failing

logger = logging.getLogger("core.changes")

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
CURSOR_MAX_LENGTH = 300


class InvalidCursor(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This cursor was not issued to you by this server; start again without a cursor."
    default_code = "invalid_cursor"


class CursorExpired(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "This cursor is older than the deletions the server keeps; start again without a cursor (a full snapshot)."
    )
    default_code = "cursor_expired"


# Writing


def change_next(*, user: Model) -> int:
    """The user's next change number, their counter row locked until the transaction ends.

    Call it inside the transaction that writes the change, after locking the rows it changes
    (every write takes its rows' locks first, then the counter's), so the user's next write
    waits until this one commits and numbers commit in order.
    """
    using = router.db_for_write(ChangeCounter)
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("A change is numbered inside the transaction that writes it.")
    seq = _upsert(using).value(user.pk)
    transaction.on_commit(functools.partial(_announce, user.pk, seq), using=using)
    return seq


@dataclass(frozen=True)
class _Upsert:
    sql: str
    using: str

    def value(self, user_id: int) -> int:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, [user_id])
            return cursor.fetchone()[0]


@functools.cache
def _upsert(using: str) -> _Upsert:
    # One statement that creates the counter or increments it, and locks its row either way.
    quote, meta = connections[using].ops.quote_name, ChangeCounter._meta
    table, user, seq = (quote(meta.db_table), quote("user_id"), quote("seq"))
    return _Upsert(
        f"INSERT INTO {table} ({user}, {seq}, {quote('purged_seq')}) VALUES (%s, 1, 0) "
        f"ON CONFLICT ({user}) DO UPDATE SET {seq} = {table}.{seq} + 1 RETURNING {seq}",
        using,
    )


def changes_delete(rows: QuerySet, *, user: Model) -> int:
    """Deletes some of one user's rows, leaving a tombstone of each in their feed; how many."""
    with transaction.atomic(using=router.db_for_write(ChangeCounter)):
        # The rows locked first, then the counter, in the order every write takes them (no
        # deadlock with a write of one of these rows); a concurrent delete of the same row
        # then finds it gone instead of leaving a second tombstone.
        ids = list(rows.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        seq, now, kind = change_next(user=user), timezone.now(), rows.model._meta.label_lower
        Tombstone.objects.bulk_create(
            [Tombstone(user=user, kind=kind, object_id=pk, seq=seq, deleted_at=now) for pk in ids]
        )
        rows.model.objects.filter(pk__in=ids).delete()
    return len(ids)


def tombstones_purge(*, before: datetime) -> int:
    """Deletes the tombstones of deletions made before `before`; how many.

    Each user's counter remembers the last change purged, so that a cursor before it is
    answered `cursor_expired` rather than silently missing those deletions.
    """
    purged = 0
    expired = Tombstone.objects.filter(deleted_at__lt=before).order_by().values("user_id")
    for user_id, last in expired.annotate(last=Max("seq")).values_list("user_id", "last"):
        with transaction.atomic():
            ChangeCounter.objects.filter(user_id=user_id, purged_seq__lt=last).update(purged_seq=last)
            purged += Tombstone.objects.filter(user_id=user_id, seq__lte=last).delete()[0]
    return purged


# The latest change of each user, announced in Redis: an unchanged poll reads it and no database.
#
# Once a change commits, its number is announced (`_announce`), and a poll whose cursor is at
# that number answers "nothing new" from it. A key only ever grows (a late announcement of an
# older number changes nothing) and expires after SYNC_HINT_SECONDS unless a write or a read of
# the counter sets it again, so an announcement lost (Redis unreachable right when a write
# committed, or while this process leaves a failing Redis alone: core.throttling.cache_failing)
# delays that change for a client at the number before it by at most that long; it is never
# skipped: the cursor does not move. Without Redis (REDIS_URL unset) or while it fails, every
# poll reads the counter.

ANNOUNCE_SCRIPT = """
local latest = tonumber(redis.call('GET', KEYS[1]))
if not latest or tonumber(ARGV[1]) >= latest then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""


@functools.lru_cache(maxsize=8)
def _redis(cache_client):
    client = cache_client.get_client(write=True)
    return client, client.register_script(ANNOUNCE_SCRIPT)


def _hint_store():
    cache = caches["default"]
    if not isinstance(cache, RedisCache) or cache_failing():
        return None
    return _redis(cache._cache) + (cache,)


def _hint_name(user_pk: int) -> str:
    return f"changes:latest:{user_pk}"


def _hint_key(cache, user_pk: int) -> str:
    return cache.make_and_validate_key(_hint_name(user_pk))


def _announce(user_pk: int, seq: int) -> None:
    """Says that the user's change `seq` has committed (a key that only grows; see above)."""
    if (store := _hint_store()) is None:
        return
    client, script, cache = store
    try:
        script(keys=[_hint_key(cache, user_pk)], args=[seq, settings.SYNC_HINT_SECONDS], client=client)
    except Exception:
        cache_failed()
        logger.warning("change feed hint unavailable; polls read the database", exc_info=True)


def _announced(user_pk: int, peeked: dict | None = None) -> int | None:
    """The latest change of the user's announced, if Redis holds it: as the request's throttle
    read it (`peeked`, core.throttling.window_count), or else read now."""
    if peeked is not None and (name := _hint_name(user_pk)) in peeked:
        value = peeked[name]
    elif (store := _hint_store()) is None:
        return None
    else:
        client, _, cache = store
        try:
            value = client.get(_hint_key(cache, user_pk))
        except Exception:
            cache_failed()
            logger.warning("change feed hint unavailable; polls read the database", exc_info=True)
            return None
    return None if value is None else int(value)


# Reading


@dataclass(frozen=True)
class FeedSource:
    """One model a feed reports: its key in the answer, how its rows look, whose they are."""

    key: str
    # A ModelSerializer: the body, as the resource's own routes answer it.
    serializer: type[serializers.ModelSerializer]
    # The user's rows: the resource's one scoping function.
    scope: Callable[[Model], QuerySet]
    # What the serializer reads from a queryset of those rows (model instances by default).
    rows: Callable[[QuerySet], Iterable] = list
    # Rows of other sources whose bodies count these rows: (their key, the field of these bodies
    # naming them). A page that reports one of these reports the row it names too, as read now:
    # a change of a task is then a change of its list's counts without a write of the list.
    carries: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return self.serializer.Meta.model._meta.label_lower


@dataclass(frozen=True)
class Position:
    """A place in a user's order of changes: (number, kind, id), everything up to it read."""

    seq: int
    kind: str | None = None  # None: every change numbered `seq` or less
    id: int = 0
    # A snapshot's start: deletions numbered up to it are of rows the snapshot never showed.
    since: int = 0

    @property
    def read_through(self) -> int:
        """The last change number read whole."""
        return self.seq if self.kind is None else self.seq - 1

    def after(self, kind: str, seq: str, pk: str) -> Q:
        """The rows of `kind` after this position, by their `seq` and `pk` columns."""
        if self.kind is None or kind < self.kind:
            later = Q(**{f"{seq}__gt": self.seq})
        elif kind > self.kind:
            later = Q(**{f"{seq}__gte": self.seq})
        else:
            later = Q(**{f"{seq}__gt": self.seq}) | Q(**{seq: self.seq, f"{pk}__gt": self.id})
        return Q(**{f"{seq}__gte": self.seq}) & later  # the range start, for the index


# A cursor is `<position>.<signature>`: the position as URL-safe base64 of JSON, and an
# HMAC-SHA256 of the user's id and that text, under a key derived from the project's secret once
# per process (django.core.signing's Signer derives its key again on every call). Every
# character is unreserved in a URL, so a client sends it as it is.


def _cursor_keys() -> tuple[bytes, ...]:
    """The key cursors are signed with, then those of SECRET_KEY_FALLBACKS (a rotated secret's
    cursors stay good, as Signer's did)."""
    return _derived_keys(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


@functools.lru_cache(maxsize=4)
def _derived_keys(secret: str | bytes, fallbacks: tuple[str | bytes, ...]) -> tuple[bytes, ...]:
    return tuple(hashlib.sha256(b"core.changes.cursor" + force_bytes(key)).digest() for key in (secret, *fallbacks))


def _signature(key: bytes, user_pk: int, text: str) -> str:
    return signing.b64_encode(hmac.digest(key, f"{user_pk}.{text}".encode(), "sha256")).decode()


def _legacy_signer(user: Model) -> signing.Signer:
    # Cursors issued before were Signer's `<position>:<signature>`; still read, never written.
    return signing.Signer(salt=f"core.changes:{user.pk}")


def cursor_for(position: Position, *, user: Model) -> str:
    text = signing.b64_encode(
        json.dumps([position.seq, position.kind, position.id, position.since], separators=(",", ":")).encode()
    ).decode()
    return f"{text}.{_signature(_cursor_keys()[0], user.pk, text)}"


def position_of(cursor: str, *, user: Model) -> Position:
    """The position a cursor issued to this user names; InvalidCursor for any other text."""
    try:
        if ":" in cursor:
            seq, kind, pk, since = _legacy_signer(user).unsign_object(cursor)
        else:
            seq, kind, pk, since = json.loads(signing.b64_decode(_signed_text(cursor, user=user).encode()))
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor() from None
    return Position(seq=seq, kind=kind, id=pk, since=since)


def _signed_text(cursor: str, *, user: Model) -> str:
    """The position's text of a cursor signed for this user; BadSignature if it is not."""
    text, _, signature = cursor.rpartition(".")
    for key in _cursor_keys():
        # TypeError for a signature that is not ASCII (a query the serializer let through).
        if hmac.compare_digest(signature, _signature(key, user.pk, text)):
            return text
    raise signing.BadSignature("The cursor's signature does not match.")


@functools.cache
def _counter(using: str) -> CompiledQuery:
    # Compiled once: an unchanged poll is this query and no other (bench/README.md, "The change feed").
    user = Param("user_id", BigIntegerField())
    return CompiledQuery(ChangeCounter.objects.using(using).filter(user_id=user).values("seq", "purged_seq"))


def feed_read(
    *,
    user: Model,
    sources: Iterable[FeedSource],
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    peeked: dict | None = None,
) -> dict:
    """The user's changes after `cursor` (all their rows without one), at most `limit` of them.

    `peeked`: what the request's throttle read from the cache beside its count (the hint, if it
    was asked for: FeedView.throttle_peek).
    """
    if cursor is not None:
        start = position_of(cursor, user=user)
        if ":" in cursor:  # the form issued before (`_legacy_signer`): answered in today's from now on
            cursor = cursor_for(start, user=user)
        if start.kind is None and start.seq == _announced(user.pk, peeked):  # nothing new: no database
            return _answer(sources, {}, {}, next_cursor=cursor, has_more=False)
    counters = _counter(router.db_for_read(ChangeCounter)).rows(user_id=user.pk)
    top, purged = (counters[0]["seq"], counters[0]["purged_seq"]) if counters else (0, 0)
    _announce(user.pk, top)  # committed: read here, so the hint may say it
    if cursor is None:
        start = Position(seq=0, kind="", since=top)
    else:
        if start.seq > top or max(start.since, start.read_through) < purged:
            raise CursorExpired()
        if start.kind is None and start.seq == top:  # nothing changed: the cheap answer to a poll
            return _answer(sources, {}, {}, next_cursor=cursor, has_more=False)
    found = []  # (seq, kind, id, source or None for a deletion)
    for source in sources:
        kind = source.kind
        live = source.scope(user).filter(start.after(kind, "change_seq", "pk"), change_seq__lte=top)
        for seq, pk in live.order_by("change_seq", "pk").values_list("change_seq", "pk")[: limit + 1]:
            found.append((seq, kind, pk, source))
        gone = Tombstone.objects.filter(start.after(kind, "seq", "object_id"), user=user, kind=kind, seq__lte=top)
        gone = gone.filter(seq__gt=start.since).order_by("seq", "object_id").values_list("seq", "object_id")
        found += [(seq, kind, pk, None) for seq, pk in gone[: limit + 1]]
    found.sort(key=lambda change: change[:3])
    page, has_more = found[:limit], len(found) > limit
    end = Position(*page[-1][:3]) if has_more else Position(top)
    if start.since > end.read_through:
        end = Position(end.seq, end.kind, end.id, since=start.since)
    changed, carried = {}, {}
    for source in sources:
        ids = [pk for _, _, pk, of in page if of is source]
        if ids:
            # Numbered up to `top`: a row changed since comes in a later page, with its new number.
            rows = source.scope(user).filter(pk__in=ids, change_seq__lte=top)
            bodies = {body["id"]: body for body in source.serializer(source.rows(rows), many=True).data}
            changed[source.key] = [bodies[pk] for pk in ids if pk in bodies]
            for key, field in source.carries:
                carried.setdefault(key, {}).update(dict.fromkeys(body[field] for body in changed[source.key]))
    for source in sources:
        reported = {body["id"] for body in changed.get(source.key, ())}
        if ids := [pk for pk in carried.get(source.key, ()) if pk is not None and pk not in reported]:
            rows = source.scope(user).filter(pk__in=ids)  # as it is now: its change may be in a later page too
            changed.setdefault(source.key, []).extend(source.serializer(source.rows(rows), many=True).data)
    deleted = {source.key: [pk for _, kind, pk, of in page if of is None and kind == source.kind] for source in sources}
    return _answer(sources, changed, deleted, next_cursor=cursor_for(end, user=user), has_more=has_more)


def _answer(sources, changed: dict, deleted: dict, *, next_cursor: str, has_more: bool) -> dict:
    return {
        **{source.key: changed.get(source.key, []) for source in sources},
        "deleted": {source.key: deleted.get(source.key, []) for source in sources},
        "next_cursor": next_cursor,
        "has_more": has_more,
    }


class FeedQuerySerializer(serializers.Serializer):
    """The query of a feed: where to start, and how many changes at most."""

    cursor = serializers.CharField(
        required=False,
        max_length=CURSOR_MAX_LENGTH,
        help_text="The `next_cursor` of the previous answer. Opaque: not a time, not a number to compute with; "
        "bound to the user it was issued to. Without it, the answer is a snapshot of everything, paged the same way.",
    )
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text="At most this many changes (rows changed plus rows deleted) in this answer.",
    )


# What a poll sends: a cursor as this server writes them (URL-safe base64 and its separators) and
# perhaps a limit in digits. FeedQuerySerializer would take such a query unchanged.
_PLAIN_CURSOR = re.compile(r"[A-Za-z0-9_:.-]+")
_PLAIN_LIMIT = re.compile(r"[0-9]{1,4}")


def feed_query(params: dict) -> dict:
    """`cursor` and `limit` from a feed's query string, as FeedQuerySerializer validates them.

    A poll's plain query is read directly: DRF's validation was a fifth of an unchanged poll's
    time (bench/README.md, "The change feed"). Anything else goes through the serializer, which
    says what is wrong; `tests/tasks/test_changes.py` holds both to the same answers.
    """
    cursor, limit = params.get("cursor"), params.get("limit")
    if (
        cursor is not None
        and len(cursor) <= CURSOR_MAX_LENGTH
        and _PLAIN_CURSOR.fullmatch(cursor)
        and (limit is None or (_PLAIN_LIMIT.fullmatch(limit) and 1 <= int(limit) <= MAX_LIMIT))
    ):
        return {"cursor": cursor, "limit": DEFAULT_LIMIT if limit is None else int(limit)}
    query = FeedQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    return query.validated_data


@functools.cache
def feed_answer_serializer(sources: tuple[FeedSource, ...]) -> serializers.Serializer:
    """The answer's shape for these sources: each key's rows, their deletions, the next cursor."""
    ids = {
        source.key: serializers.ListField(
            child=serializers.IntegerField(), help_text=f"Ids of the {source.key} deleted, in the order of deletion."
        )
        for source in sources
    }
    deleted = type("ChangesDeletedSerializer", (serializers.Serializer,), ids)
    fields = {
        source.key: source.serializer(
            many=True, help_text=f"The {source.key} created or changed, in full, oldest change first."
        )
        for source in sources
    }
    return type(
        "ChangesSerializer",
        (serializers.Serializer,),
        {
            **fields,
            "deleted": deleted(),
            "next_cursor": serializers.CharField(help_text="Where the next request starts: send it as `cursor`."),
            "has_more": serializers.BooleanField(
                help_text="More changes are waiting: ask again with `next_cursor` now rather than at the next poll."
            ),
            "__doc__": "A page of the caller's changes.",
        },
    )


class FeedView(APIView):
    """A user's change feed over `sources`, which an app's subclass names."""

    sources: tuple[FeedSource, ...] = ()

    def get(self, request, *args, **kwargs):
        # A plain dict: a parameter sent empty (`?cursor=`) is then a 400, as on the other routes,
        # where DRF would read a QueryDict's empty value as left out.
        query = feed_query(request.query_params.dict())
        peeked = getattr(request, "throttle_peeked", None)
        return Response(feed_read(user=request.user, sources=self.sources, peeked=peeked, **query))

    def throttle_peek(self, request) -> list[str]:
        """The hint, for the throttle to read in its round trip to Redis: an unchanged poll then
        makes no round trip of its own (core.throttling.window_count)."""
        return [_hint_name(request.user.pk)] if request.user is not None and "cursor" in request.query_params else []

    def get_serializer(self, *args, **kwargs):
        """The answer's serializer; drf-spectacular documents the route with it."""
        return feed_answer_serializer(self.sources)(*args, **kwargs)
