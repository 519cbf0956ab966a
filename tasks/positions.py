"""The manual order of tasks and lists: integer ranks with gaps, rebalanced when a gap runs out.

Each row has a `position`, a 64-bit integer; rows sort by (position, id). New rows go
POSITION_STEP after the last (or before the first). A move writes one row, the moved one, at
the midpoint between its new neighbours; only when two neighbours have no integer left between
them (after about 16 moves into the same gap) is the group renumbered POSITION_STEP apart, in the
same transaction, each renumbered row a new version (its body shows `position`).

Moves in one user's rows run one after another (the owner's row locked first,
accounts.services.user_lock), so two racing moves never compute the same midpoint.
"""

from __future__ import annotations

from django.db.models import (
    F,
    Max,
    Min,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

POSITION_STEP = 1 << 16


def position_at_end(group: QuerySet) -> int:
    """Where a row added after every row of `group` goes."""
    last = group.aggregate(last=Max("position"))["last"]
    return POSITION_STEP if last is None else last + POSITION_STEP


def position_at_top(group: QuerySet) -> int:
    """Where a row added before every row of `group` goes."""
    first = group.aggregate(first=Min("position"))["first"]
    return POSITION_STEP if first is None else first - POSITION_STEP


def position_edge(group: QuerySet, *, top: bool = False) -> QuerySet:
    """The last position of `group` (the first with `top`): a query of one value, or of none."""
    return group.order_by("position" if top else "-position").values("position")[:1]


def position_next_to_sql(*, top: bool = False) -> str:
    """`position_at_end` (`position_at_top` with `top`) in SQL, around the SQL of a
    `position_edge` query, which goes in its `{}` (core.db.CompiledQuery.expression): a new row's
    place computed by its own INSERT, with no read of the group first."""
    return f"COALESCE(({{}}) {'-' if top else '+'} {POSITION_STEP}, {POSITION_STEP})"


def _after(row) -> Q:
    return Q(position__gt=row.position) | Q(position=row.position, pk__gt=row.pk)


def _before(row) -> Q:
    return Q(position__lt=row.position) | Q(position=row.position, pk__lt=row.pk)


def position_place(*, row, group: QuerySet, in_group: bool, before=None, after=None, stamp=dict) -> int | None:
    """Where `row` (locked) goes in `group` (its future siblings, `row` in it or not): just before
    `before`, just after `after`, or at the end when neither is given. None when it already stands
    there (`in_group`: `row` is in `group` now). Does not save `row`; renumbers the group when the
    gap has run out, each renumbered row also given the fields `stamp()` returns (a change number).
    """
    group = group.exclude(pk=row.pk)
    if before is not None:
        low = group.filter(_before(before)).order_by("-position", "-id").first()
        high = before
    elif after is not None:
        low = after
        high = group.filter(_after(after)).order_by("position", "id").first()
    else:
        low, high = group.order_by("-position", "-id").first(), None
    if in_group and _between(row, low, high):
        return None
    if low is None:
        return POSITION_STEP if high is None else high.position - POSITION_STEP
    if high is None:
        return low.position + POSITION_STEP
    if high.position - low.position >= 2:
        return (low.position + high.position) // 2
    return _rebalance(group, row=row, after_id=low.pk, stamp=stamp)


def _between(row, low, high) -> bool:
    key = (row.position, row.pk)
    return (low is None or (low.position, low.pk) < key) and (high is None or key < (high.position, high.pk))


def _rebalance(group: QuerySet, *, row, after_id: int, stamp) -> int:
    """Renumbers `group` POSITION_STEP apart with `row` right after `after_id`; each renumbered
    row is a new version. Returns `row`'s position."""
    ids = list(group.order_by("position", "id").values_list("pk", "position"))
    order = []
    for pk, position in ids:
        order.append((pk, position))
        if pk == after_id:
            order.append((row.pk, None))
    new = {pk: (index + 1) * POSITION_STEP for index, (pk, _) in enumerate(order)}
    moved = {pk: new[pk] for pk, position in order if pk != row.pk and position != new[pk]}
    if moved:
        whens = " ".join(f"WHEN {int(pk)} THEN {int(position)}" for pk, position in moved.items())
        group.model._default_manager.filter(pk__in=list(moved)).update(
            position=RawSQL(f"CASE id {whens} ELSE position END", ()),
            updated_at=timezone.now(),
            version=F("version") + 1,
            **stamp(),
        )
    return new[row.pk]
