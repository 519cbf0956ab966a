"""Recurrence on a zone's wall clock (`due_timezone`): daylight saving both ways, the gap and the
overlap, zones with half-hour offsets and east of UTC."""

from datetime import UTC, datetime

import pytest

from tasks.models import Task
from tasks.recurrence import recurrence_next_due
from tests.tasks.factories import make_task


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def next_due(rule: str, due_at: datetime, zone: str | None) -> datetime | None:
    found = recurrence_next_due(rule, due_at=due_at, due_date=None, due_timezone=zone)
    return found and found["due_at"]


@pytest.mark.parametrize(
    "zone, due_at, expected",
    [
        # New York springs forward on 8 March 2026: 09:00 EST (14:00Z), then 09:00 EDT (13:00Z).
        ("America/New_York", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
        # ... and falls back on 1 November: 09:00 EDT (13:00Z), then 09:00 EST (14:00Z).
        ("America/New_York", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),
        # Berlin springs forward on 29 March: 09:00 CET (08:00Z), then 09:00 CEST (07:00Z).
        ("Europe/Berlin", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),
        # ... and falls back on 25 October: 09:00 CEST (07:00Z), then 09:00 CET (08:00Z).
        ("Europe/Berlin", utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),
        # Kolkata, UTC+05:30 all year: 09:00 IST is 03:30Z every day.
        ("Asia/Kolkata", utc(2026, 3, 7, 3, 30), utc(2026, 3, 8, 3, 30)),
    ],
)
def test_a_daily_task_keeps_its_wall_clock_time_across_daylight_saving(zone, due_at, expected):
    assert next_due("FREQ=DAILY", due_at, zone) == expected


def test_a_weekly_task_keeps_its_wall_clock_time_across_the_change_too():
    # Monday 23 March 09:00 CET, then Monday 30 March 09:00 CEST.
    assert next_due("FREQ=WEEKLY", utc(2026, 3, 23, 8), "Europe/Berlin") == utc(2026, 3, 30, 7)


def test_without_a_zone_the_rule_follows_utc_as_before():
    assert next_due("FREQ=DAILY", utc(2026, 3, 7, 14), None) == utc(2026, 3, 8, 14)


@pytest.mark.parametrize(
    "zone, due_at, expected",
    [
        # 02:30 on 8 March does not exist in New York: 03:30 EDT (07:30Z), forward by the gap.
        ("America/New_York", utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30)),
        # 02:30 on 29 March does not exist in Berlin: 03:30 CEST (01:30Z).
        ("Europe/Berlin", utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30)),
    ],
)
def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap(zone, due_at, expected):
    assert next_due("FREQ=DAILY", due_at, zone) == expected


@pytest.mark.parametrize(
    "zone, due_at, first, then",
    [
        # 01:30 on 1 November happens twice in New York: the first is EDT (05:30Z); the day after, EST (06:30Z).
        ("America/New_York", utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)),
        # 02:30 on 25 October happens twice in Berlin: the first is CEST (00:30Z); the day after, CET (01:30Z).
        ("Europe/Berlin", utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
    ],
)
def test_a_time_in_the_fall_back_overlap_is_the_first_of_the_two(zone, due_at, first, then):
    assert next_due("FREQ=DAILY", due_at, zone) == first
    assert next_due("FREQ=DAILY", first, zone) == then


def test_byday_follows_the_weekdays_of_a_zone_east_of_utc():
    # Monday 2 March 08:00 in Tokyo is Sunday 23:00Z: the next Monday is 9 March 08:00 JST.
    assert next_due("FREQ=WEEKLY;BYDAY=MO", utc(2026, 3, 1, 23), "Asia/Tokyo") == utc(2026, 3, 8, 23)
    # In UTC the same rule would land on Monday 2 March 23:00Z, a Tuesday morning in Tokyo.
    assert next_due("FREQ=WEEKLY;BYDAY=MO", utc(2026, 3, 1, 23), None) == utc(2026, 3, 2, 23)


def test_byday_in_a_half_hour_zone():
    # Monday 9 March 02:00 in Kolkata is Sunday 20:30Z; the next of Monday and Tuesday there is Tuesday.
    assert next_due("FREQ=WEEKLY;BYDAY=MO,TU", utc(2026, 3, 8, 20, 30), "Asia/Kolkata") == utc(2026, 3, 9, 20, 30)


def test_bymonthday_follows_the_dates_of_the_zone():
    # 31 January 08:00 in Tokyo is 30 January 23:00Z: the next 31st in Tokyo is 31 March.
    assert next_due("FREQ=MONTHLY;BYMONTHDAY=31", utc(2026, 1, 30, 23), "Asia/Tokyo") == utc(2026, 3, 30, 23)


@pytest.mark.parametrize("until, expected", [("20260308T130000Z", utc(2026, 3, 8, 13)), ("20260308T125959Z", None)])
def test_until_is_compared_as_an_instant(until, expected):
    assert next_due(f"FREQ=DAILY;UNTIL={until}", utc(2026, 3, 7, 14), "America/New_York") == expected


def test_completing_a_zoned_task_creates_the_next_at_the_same_local_time(alice_client, alice):
    created = alice_client.post(
        "/api/tasks",
        {
            "title": "Standup",
            "due_at": "2026-03-07T09:00:00-05:00",
            "due_timezone": "America/New_York",
            "recurrence": "FREQ=DAILY",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["due_timezone"] == "America/New_York"
    answer = alice_client.patch(f"/api/tasks/{created.json()['id']}/complete").json()
    following = answer["next_occurrence"]
    assert following["due_at"] == "2026-03-08T13:00:00Z"  # 09:00 EDT
    assert following["due_timezone"] == "America/New_York"
    assert following["completed"] is False
    assert Task.objects.get(pk=created.json()["id"]).next_occurrence_id == following["id"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/paris", "Europe/", "localtime", 5, ["UTC"], "x" * 300])
def test_it_refuses_a_zone_the_tz_database_does_not_know(alice_client, zone):
    response = alice_client.post("/api/tasks", {"title": "x", "due_timezone": zone}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["due_timezone"]


def test_a_zone_can_be_set_and_cleared(alice_client, alice):
    task = make_task(alice)
    url = f"/api/tasks/{task.id}"
    assert alice_client.patch(url, {"due_timezone": "Asia/Kolkata"}, format="json").json()["due_timezone"] == (
        "Asia/Kolkata"
    )
    assert alice_client.patch(url, {"due_timezone": None}, format="json").json()["due_timezone"] is None


def test_a_zone_does_not_reveal_or_change_another_users_task(alice_client, bob):
    theirs = make_task(bob, due_at=utc(2026, 3, 7, 14), recurrence="FREQ=DAILY")
    response = alice_client.patch(f"/api/tasks/{theirs.id}", {"due_timezone": "Asia/Tokyo"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.due_timezone is None
