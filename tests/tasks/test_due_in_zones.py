"""Filters, sort and stats with `tz=`: an all-day task is due at the end of its day in the
caller's zone (default UTC)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.zones import day_end
from tests.tasks.factories import make_task

# 23:30 UTC on 1 March: already 2 March in Tokyo, still 1 March in New York.
NOW = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("tasks.filters.timezone.now", lambda: NOW)
    monkeypatch.setattr("tasks.views.timezone.now", lambda: NOW)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [task["id"] for task in response.json()]


def listed(client, **params) -> list[int]:
    return ids(client.get("/api/tasks", params))


@pytest.mark.parametrize("zone, before", [("UTC", False), ("Asia/Tokyo", True), ("America/New_York", False)])
def test_due_before_takes_an_all_day_task_once_its_day_has_ended_in_tz(alice_client, alice, zone, before):
    task = make_task(alice, due_date=date(2026, 3, 1))
    found = listed(alice_client, due_before="2026-03-01T23:30:00Z", tz=zone)
    assert found == ([task.id] if before else [])
    assert listed(alice_client, due_after="2026-03-01T23:30:00Z", tz=zone) == ([] if before else [task.id])


def test_tz_defaults_to_utc(alice_client, alice):
    task = make_task(alice, due_date=date(2026, 3, 1))
    assert listed(alice_client, due_before="2026-03-02T00:00:00Z") == [task.id]
    assert listed(alice_client, due_before="2026-03-01T23:59:59.999999Z") == []


def test_due_windows_tile_with_timed_and_all_day_tasks(alice_client, alice):
    timed = make_task(alice, due_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    all_day = make_task(alice, due_date=date(2026, 3, 2))
    later = make_task(alice, due_date=date(2026, 3, 5))
    # 2 March in New York (EST, UTC-5): from 05:00Z to 05:00Z the next day.
    window = {"due_after": "2026-03-02T05:00:00Z", "due_before": "2026-03-03T05:00:00Z", "tz": "America/New_York"}
    assert listed(alice_client, **window) == [all_day.id]
    assert listed(alice_client, due_before="2026-03-02T05:00:00Z", tz="America/New_York") == [timed.id]
    assert listed(alice_client, due_after="2026-03-03T05:00:00Z", tz="America/New_York") == [later.id]
    # A window ending before the end of 2 March there leaves the all-day task out.
    assert (
        listed(alice_client, due_after="2026-03-02T05:00:00Z", due_before="2026-03-03T04:59:59Z", tz="America/New_York")
        == []
    )


@pytest.mark.parametrize("zone, overdue", [("UTC", False), ("Asia/Tokyo", True), ("America/New_York", False)])
def test_overdue_follows_tz_for_all_day_tasks(alice_client, alice, frozen_now, zone, overdue):
    task = make_task(alice, due_date=date(2026, 3, 1))
    done = make_task(alice, due_date=date(2026, 2, 1), completed=True)
    assert listed(alice_client, overdue="true", tz=zone) == ([task.id] if overdue else [])
    assert sorted(listed(alice_client, overdue="false", tz=zone)) == sorted([done.id] + ([] if overdue else [task.id]))


@pytest.mark.parametrize(
    "zone, order",
    [
        # The all-day task's day ends at 23:59:59Z in UTC, 04:59:59Z the next day in New York and
        # 14:59:59Z in Tokyo: it sorts among the timed tasks there.
        ("UTC", ["evening", "all day", "night"]),
        ("America/New_York", ["evening", "night", "all day"]),
        ("Asia/Tokyo", ["all day", "evening", "night"]),
    ],
)
def test_sort_by_due_date_places_an_all_day_task_at_the_end_of_its_day_in_tz(alice_client, alice, zone, order):
    make_task(alice, title="evening", due_at=datetime(2026, 3, 1, 20, tzinfo=UTC))
    make_task(alice, title="all day", due_date=date(2026, 3, 1))
    make_task(alice, title="night", due_at=datetime(2026, 3, 2, 2, tzinfo=UTC))
    make_task(alice, title="someday")
    titles = [t["title"] for t in alice_client.get("/api/tasks", {"sort": "due_date", "tz": zone}).json()]
    assert titles == [*order, "someday"]
    titles = [t["title"] for t in alice_client.get("/api/tasks", {"sort": "-due_date", "tz": zone}).json()]
    assert titles == [*reversed(order), "someday"]


def test_sort_uses_the_offset_of_the_days_own_date_across_daylight_saving(alice_client, alice):
    # 8 March in New York ends at 03:59:59Z on 9 March (EDT, UTC-4), not at 04:59:59Z (EST).
    make_task(alice, title="before", due_at=datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    make_task(alice, title="all day", due_date=date(2026, 3, 8))
    make_task(alice, title="after", due_at=datetime(2026, 3, 9, 4, 30, tzinfo=UTC))
    titles = [t["title"] for t in alice_client.get("/api/tasks", {"sort": "due_date", "tz": "America/New_York"}).json()]
    assert titles == ["before", "all day", "after"]


def test_a_caller_without_all_day_tasks_sorts_by_due_at_alone_as_the_index_holds_it(alice_client, alice, bob):
    make_task(alice, due_at=datetime(2026, 3, 1, 20, tzinfo=UTC))
    make_task(bob, due_date=date(2026, 3, 1))  # another user's all-day task changes nothing for Alice
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get("/api/tasks", {"sort": "due_date", "tz": "Asia/Tokyo"}).status_code == 200
    page = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"]]
    assert page and all("due_date" not in sql.split("ORDER BY", 1)[1] for sql in page)


def test_the_end_of_a_day_in_a_zone():
    assert day_end(date(2026, 3, 8), ZoneInfo("America/New_York")) == datetime(2026, 3, 9, 3, 59, 59, 999999, UTC)
    assert day_end(date(2026, 3, 1), ZoneInfo("Asia/Kolkata")) == datetime(2026, 3, 1, 18, 29, 59, 999999, UTC)
    assert day_end(date(9999, 12, 31), ZoneInfo("UTC")) == datetime.max.replace(tzinfo=UTC)


@pytest.mark.parametrize("params", [{"tz": "Mars/Olympus"}, {"tz": ""}, {"tz": "europe/paris", "sort": "due_date"}])
def test_an_unknown_tz_on_the_list_is_a_400_naming_tz(alice_client, params):
    response = alice_client.get("/api/tasks", params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["tz"]


def test_tz_on_the_phase_two_list_route_too(alice_client, alice):
    task = make_task(alice, due_date=date(2026, 3, 1))
    response = alice_client.get(
        f"/api/{alice.better_auth_id}/tasks", {"due_before": "2026-03-01T23:30:00Z", "tz": "Asia/Tokyo"}
    )
    assert ids(response) == [task.id]


def test_far_dates_and_moments_never_fail(alice_client, alice):
    make_task(alice, due_date=date(9999, 12, 31))
    make_task(alice, due_date=date(1, 1, 1))
    for params in [
        {"sort": "due_date", "tz": "Pacific/Kiritimati"},
        {"due_before": "0001-01-01T00:00:00Z", "tz": "America/New_York"},
        {"due_after": "9999-12-31T23:59:59Z", "tz": "Asia/Tokyo"},
    ]:
        assert alice_client.get("/api/tasks", params).status_code == 200, params


@pytest.mark.parametrize(
    "zone, due_today, overdue",
    [("UTC", ["1 March"], ["28 February"]), ("Asia/Tokyo", ["2 March"], ["28 February", "1 March"])],
)
def test_stats_count_all_day_tasks_in_tz(alice_client, alice, frozen_now, zone, due_today, overdue):
    for day, title in [(28, "28 February"), (1, "1 March"), (2, "2 March")]:
        make_task(alice, title=title, due_date=date(2026, 2 if day == 28 else 3, day))
    make_task(alice, due_date=date(2026, 2, 1), completed=True)  # done: neither
    counts = alice_client.get("/api/tasks/stats", {"tz": zone}).json()
    assert (counts["due_today"], counts["overdue"]) == (len(due_today), len(overdue))


def test_stats_of_all_day_tasks_are_the_callers_own(bob_client, alice, frozen_now):
    make_task(alice, due_date=date(2026, 2, 1))
    counts = bob_client.get("/api/tasks/stats", {"tz": "Asia/Tokyo"}).json()
    assert counts["overdue"] == counts["total"] == 0


def test_bob_sees_none_of_alices_all_day_tasks_whatever_the_zone(bob_client, alice):
    make_task(alice, due_date=date(2026, 3, 1))
    assert listed(bob_client, sort="due_date", tz="Asia/Tokyo", due_before="2027-01-01T00:00:00Z") == []
