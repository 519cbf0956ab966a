"""Completing a recurring task keeps it done and creates the next occurrence."""

import re
import threading
import time
from datetime import UTC, datetime

import pytest
from dateutil.rrule import rrulestr
from django.db import connection

from tasks.models import Priority, Task
from tasks.recurrence import recurrence_next
from tasks.services import task_set_tags
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task, row


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "rule, due, expected_due, expected_rule",
    [
        # Weekly on two days: Monday then Wednesday then next Monday.
        ("FREQ=WEEKLY;BYDAY=MO,WE", utc(2026, 3, 2, 9), utc(2026, 3, 4, 9), "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", utc(2026, 3, 4, 9), utc(2026, 3, 9, 9), "FREQ=WEEKLY;BYDAY=MO,WE"),
        # Monthly on the 31st skips the months without one.
        ("FREQ=MONTHLY;BYMONTHDAY=31", utc(2026, 1, 31, 9), utc(2026, 3, 31, 9), "FREQ=MONTHLY;BYMONTHDAY=31"),
        ("FREQ=MONTHLY", utc(2026, 3, 31, 9), utc(2026, 5, 31, 9), "FREQ=MONTHLY"),
        # The last day of every month.
        ("FREQ=MONTHLY;BYMONTHDAY=-1", utc(2026, 1, 31, 9), utc(2026, 2, 28, 9), "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("FREQ=DAILY;INTERVAL=3", utc(2026, 1, 1, 9), utc(2026, 1, 4, 9), "FREQ=DAILY;INTERVAL=3"),
        ("FREQ=YEARLY", utc(2028, 2, 29, 9), utc(2032, 2, 29, 9), "FREQ=YEARLY"),
        # COUNT counts what is left, this one included.
        ("FREQ=DAILY;COUNT=3", utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), "FREQ=DAILY;COUNT=2"),
        (
            "FREQ=DAILY;UNTIL=20260105T000000Z",
            utc(2026, 1, 1, 9),
            utc(2026, 1, 2, 9),
            "FREQ=DAILY;UNTIL=20260105T000000Z",
        ),
    ],
)
def test_the_next_occurrence_follows_the_rule(rule, due, expected_due, expected_rule):
    assert recurrence_next(rule, due) == (expected_due, expected_rule)


@pytest.mark.parametrize(
    "rule, due",
    [
        ("FREQ=DAILY;COUNT=1", utc(2026, 1, 1, 9)),  # COUNT ran out
        ("FREQ=DAILY;UNTIL=20260101T120000Z", utc(2026, 1, 1, 9)),  # UNTIL passed
        ("FREQ=WEEKLY;UNTIL=20260105T000000Z", utc(2026, 1, 1, 9)),
    ],
)
def test_a_finished_series_has_no_next_occurrence(rule, due):
    assert recurrence_next(rule, due) is None


def complete(client, task, **body):
    response = client.patch(f"/api/tasks/{task.id}/complete", body or None)
    assert response.status_code == 200, response.content
    return response.json()


def test_completing_a_recurring_task_creates_the_next_with_the_same_fields(alice_client, alice):
    task = make_task(
        alice,
        title="Standup",
        description="daily",
        priority=Priority.HIGH,
        due_at=utc(2026, 3, 2, 9),
        recurrence="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5",
    )
    task_set_tags(task=task, names=["work"])
    body = complete(alice_client, task)
    assert body["completed"] is True
    spawned = Task.objects.exclude(pk=task.pk).get()
    assert (spawned.title, spawned.description, spawned.priority) == ("Standup", "daily", Priority.HIGH)
    assert spawned.due_at == utc(2026, 3, 4, 9)
    assert spawned.recurrence == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    assert [tag.name for tag in spawned.tags.all()] == ["work"]
    assert spawned.completed is False
    assert spawned.owner_id == ALICE_ID


def test_reopening_and_completing_again_leaves_one_next_occurrence(alice_client, alice):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    complete(alice_client, task)
    complete(alice_client, task)  # toggle: reopened, the untouched occurrence removed (test_reopen.py)
    complete(alice_client, task)  # completed again: created anew
    assert Task.objects.count() == 2


@pytest.mark.parametrize("how", ["toggle", "explicit", "patch", "put", "bulk"])
def test_every_way_of_completing_spawns_the_next_occurrence(alice_client, alice, how):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    url = f"/api/tasks/{task.id}"
    response = {
        "toggle": lambda: alice_client.patch(f"{url}/complete"),
        "explicit": lambda: alice_client.patch(f"{url}/complete", {"completed": True}),
        "patch": lambda: alice_client.patch(url, {"completed": True}),
        "put": lambda: alice_client.put(
            url, {"title": "x", "completed": True, "due_at": "2026-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
        ),
        "bulk": lambda: alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [task.id]}),
    }[how]()
    assert response.status_code == 200, response.content
    assert Task.objects.filter(due_at=utc(2026, 1, 2, 9), completed=False).count() == 1


def test_the_last_occurrence_spawns_nothing(alice_client, alice):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY;COUNT=1")
    complete(alice_client, task)
    assert Task.objects.count() == 1


def test_a_task_created_completed_spawns_its_next_occurrence(alice_client):
    response = alice_client.post(
        "/api/tasks", {"title": "x", "completed": True, "due_at": "2026-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
    )
    assert response.status_code == 201
    assert Task.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_requests_completing_one_recurring_task_at_once_spawn_one_next(alice):
    from tests.auth import client_for

    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    barrier = threading.Barrier(4)
    statuses = []

    def complete_it():
        client = client_for(alice)
        barrier.wait()
        statuses.append(client.patch(f"/api/tasks/{task.id}/complete", {"completed": True}).status_code)
        connection.close()

    threads = [threading.Thread(target=complete_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert Task.objects.filter(due_at=utc(2026, 1, 2, 9)).count() == 1
    assert Task.objects.count() == 2


# The grammar: every documented range is accepted, and only ASCII digits.


def create(client, rule, due="2026-01-31T09:00:00Z", **fields):
    return client.post("/api/tasks", {"title": "x", "due_at": due, "recurrence": rule, **fields})


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;COUNT=1",
        "FREQ=DAILY;COUNT=10000",
        "FREQ=DAILY;INTERVAL=1",
        "FREQ=DAILY;INTERVAL=1000",
        "FREQ=MONTHLY;BYMONTHDAY=1,31,-1,-31,+15",
        "FREQ=YEARLY;BYMONTH=1,12",
        "FREQ=YEARLY;BYDAY=1MO,53MO,-53FR,+20TU",
        "FREQ=MONTHLY;BYDAY=1MO,5FR,-5SU",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=-5SU",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;WKST=SU",
        "FREQ=MONTHLY;BYMONTH=01;BYMONTHDAY=09",  # RFC 5545 allows leading zeros
    ],
)
def test_it_accepts_every_documented_range(alice_client, rule):
    response = create(alice_client, rule)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("FREQ=DAILY;COUNT=0", "COUNT values must be between 1 and 10000"),
        ("FREQ=DAILY;COUNT=10001", "COUNT values must be between 1 and 10000"),
        ("FREQ=DAILY;COUNT=100000", "COUNT values must be between 1 and 10000"),
        ("FREQ=DAILY;INTERVAL=1001", "INTERVAL values must be between 1 and 1000"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY values must be between 1 and 31"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY values must be between 1 and 31"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH values must be between 1 and 12"),
        ("FREQ=YEARLY;BYMONTH=-1", "BYMONTH must be a comma-separated list of numbers"),
        ("FREQ=YEARLY;BYDAY=54MO", "1 to 53"),
        ("FREQ=MONTHLY;BYDAY=6MO", "1 to 5"),
        ("FREQ=DAILY;COUNT=\u0663", "COUNT must be a comma-separated list of numbers"),  # Arabic-Indic 3
        ("FREQ=DAILY;INTERVAL=\uff12", "INTERVAL must be a comma-separated list of numbers"),  # fullwidth 2
        ("FREQ=MONTHLY;BYMONTHDAY=\u0661\u0665", "BYMONTHDAY must be a comma-separated list of numbers"),
        ("FREQ=MONTHLY;BYDAY=\u0661MO", "BYDAY must list weekdays"),
        ("FREQ=DAILY;UNTIL=\u0662\u0660\u0662\u0667\u0660\u0661\u0660\u0661T000000Z", "UNTIL must be a UTC date-time"),
    ],
)
def test_it_rejects_numbers_out_of_range_or_not_in_ascii_digits(alice_client, rule, reason):
    response = create(alice_client, rule)
    assert response.status_code == 400, response.content
    error = response.json()["fields"]["recurrence"][0]
    assert error["code"] == "invalid_recurrence"
    assert reason in error["message"]


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("FREQ=DAILY;INTERVAL=" + "1" * 5000, "at most 500 characters"),  # past Python's int() limit
        ("FREQ=DAILY;INTERVAL=" + "1" * 480, "at most 9 digits"),
        ("FREQ=DAILY;COUNT=" + "0" * 100 + "1", "at most 9 digits"),
        ("FREQ=MONTHLY;BYMONTHDAY=-" + "9" * 50, "at most 9 digits"),
        ("FREQ=DAILY;" + "WKST=MO;" * 70, "at most 500 characters"),
    ],
    ids=["5000 digits", "480 digits", "leading zeros", "a long negative", "a long rule"],
)
def test_it_refuses_a_long_rule_or_a_long_number_before_reading_it(alice_client, rule, reason):
    response = create(alice_client, rule)
    assert response.status_code == 400, response.content
    error = response.json()["fields"]["recurrence"][0]
    assert error["code"] == "invalid_recurrence"
    assert reason in error["message"]


def test_a_stored_rule_with_a_number_too_long_to_read_ends_its_series():
    assert recurrence_next("FREQ=DAILY;INTERVAL=" + "1" * 5000, datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_the_schema_pattern_matches_every_canonical_rule_it_describes():
    from tasks.recurrence import RRULE_PATTERN

    pattern = re.compile(RRULE_PATTERN)
    assert pattern.match("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1;COUNT=4")
    assert pattern.match("FREQ=YEARLY;BYMONTH=2;BYDAY=-1FR;UNTIL=20261231T235959Z")
    assert not pattern.match("FREQ=DAILY;COUNT=\u0663")
    assert not pattern.match("FREQ=HOURLY")
    assert not pattern.match("FREQ=DAILY;BYHOUR=9")


# Rules dateutil cannot expand, or expands forever: refused when written, harmless when stored.

NEVER = [
    # dateutil raised IndexError on completion: February has no 53rd Monday.
    ("FREQ=YEARLY;BYMONTH=2;BYDAY=53MO", "2026-01-01T00:00:00Z"),
    ("FREQ=YEARLY;BYMONTH=1;BYDAY=6MO", "2026-01-01T00:00:00Z"),  # 0.45 s of search to the year 9999
    ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "0001-01-01T00:00:00Z"),  # every 7 days from a Monday: 1.5 s
    ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "2026-02-01T09:00:00Z"),  # every February 31st
    ("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "2029-01-01T09:00:00Z"),  # odd years only
]


@pytest.mark.parametrize("rule, due", NEVER)
def test_it_refuses_a_rule_that_has_no_next_occurrence_to_find(alice_client, rule, due):
    response = create(alice_client, rule, due=due, completed=True)
    assert response.status_code == 400, response.content
    assert response.json()["fields"]["recurrence"][0]["code"] == "invalid_recurrence"
    assert not Task.objects.exists()


def test_it_refuses_moving_the_due_date_where_the_rule_never_occurs_again(alice_client, alice):
    task = make_task(alice, due_at=utc(2026, 3, 3, 9), recurrence="FREQ=DAILY;INTERVAL=7;BYDAY=TU")
    before = row(task)
    response = alice_client.patch(f"/api/tasks/{task.id}", {"due_at": "2026-03-02T09:00:00Z"})  # a Monday
    assert response.status_code == 400
    assert response.json()["fields"]["recurrence"][0]["code"] == "invalid_recurrence"
    assert row(task) == before


# (PUT sends the rule again, which is then refused as on create.)
@pytest.mark.parametrize("how", ["toggle", "explicit", "patch", "bulk"])
@pytest.mark.parametrize("rule, due", NEVER)
def test_completing_a_stored_task_whose_rule_never_occurs_ends_its_series_quickly(alice_client, alice, rule, due, how):
    # Stored before these checks existed: completing it must neither fail nor pin the CPU.
    due_at = datetime.fromisoformat(due)
    task = make_task(alice, due_at=due_at, recurrence=rule)
    url = f"/api/tasks/{task.id}"
    started = time.process_time()
    response = {
        "toggle": lambda: alice_client.patch(f"{url}/complete"),
        "explicit": lambda: alice_client.patch(f"{url}/complete", {"completed": True}),
        "patch": lambda: alice_client.patch(url, {"completed": True}),
        "bulk": lambda: alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [task.id]}),
    }[how]()
    elapsed = time.process_time() - started
    assert response.status_code == 200, response.content
    assert Task.objects.get().completed is True
    assert Task.objects.count() == 1  # the series ended: no next occurrence
    assert elapsed < 0.1, f"{elapsed:.3f} s of CPU"  # 0.1 to 1.5 s before the horizon


@pytest.mark.parametrize(
    "rule, due",
    [
        *NEVER,
        # Rules the grammar accepts, each searched up to its horizon: the costliest searches.
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "2017-01-01T09:00:00Z"),  # 2044 is next
        ("FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "2017-01-01T09:00:00Z"),
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "2026-02-01T09:00:00Z"),
        ("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "2029-01-01T09:00:00Z"),
    ],
)
def test_the_search_for_a_next_occurrence_stops_at_the_horizon(rule, due):
    started = time.process_time()
    assert recurrence_next(rule, datetime.fromisoformat(due)) is None
    assert time.process_time() - started < 0.02  # about 0.5 ms; 0.1 to 1.5 s without the horizon


@pytest.mark.parametrize(
    "rule, due, expected_due",
    [
        # February 29th, at most 8 years apart (2100 is no leap year).
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", utc(2096, 2, 29, 9), utc(2104, 2, 29, 9)),
        ("FREQ=YEARLY", utc(2096, 2, 29, 9), utc(2104, 2, 29, 9)),
        # The 5th Monday of February: a leap year whose February starts on a Monday.
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", utc(2016, 2, 29, 9), utc(2044, 2, 29, 9)),
        ("FREQ=YEARLY;BYDAY=53MO", utc(2024, 12, 30, 9), utc(2029, 12, 31, 9)),
        ("FREQ=DAILY;BYMONTH=1", utc(2026, 1, 31, 9), utc(2027, 1, 1, 9)),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-1", utc(2026, 2, 28, 9), utc(2027, 2, 28, 9)),
        # Friday the 13th, at its longest gap (14 months), as each frequency can write it.
        ("FREQ=DAILY;BYMONTHDAY=13;BYDAY=FR", utc(2001, 7, 13, 9), utc(2002, 9, 13, 9)),
        ("FREQ=WEEKLY;BYMONTHDAY=13;BYDAY=FR", utc(2001, 7, 13, 9), utc(2002, 9, 13, 9)),
        ("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR", utc(2001, 7, 13, 9), utc(2002, 9, 13, 9)),
        ("FREQ=YEARLY;BYMONTHDAY=13;BYDAY=FR", utc(2001, 7, 13, 9), utc(2002, 9, 13, 9)),
        ("FREQ=YEARLY;INTERVAL=1000", utc(2026, 1, 1, 9), utc(3026, 1, 1, 9)),
        ("FREQ=DAILY;INTERVAL=1000", utc(2026, 1, 1, 9), utc(2028, 9, 27, 9)),
    ],
)
def test_rare_rules_still_find_their_next_occurrence(rule, due, expected_due):
    assert recurrence_next(rule, due) == (expected_due, rule)


RULES = [
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,FR",
    "FREQ=DAILY;BYMONTH=2,8;BYMONTHDAY=1,-1",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU",
    "FREQ=WEEKLY;BYMONTH=12",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31,30",
    "FREQ=MONTHLY;BYDAY=2TU,4TU",
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    "FREQ=YEARLY;BYDAY=20MO",
    "FREQ=YEARLY;BYMONTH=2,3;BYMONTHDAY=29",
]


@pytest.mark.parametrize("rule", RULES)
def test_the_bounded_search_finds_what_dateutil_finds(rule):
    # The plain path: dateutil with no horizon, over many starting dates.
    for due in [utc(2026, 1, 31, 9), utc(2024, 2, 29, 0), utc(2099, 12, 31, 23), utc(1970, 6, 15, 12)]:
        plain = rrulestr(rule, dtstart=due).after(due)
        assert recurrence_next(rule, due) == (plain, rule)


@pytest.mark.parametrize(
    "rule, due, valid",
    [
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-03-03 09:00:00", True),  # a Tuesday
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-03-02 09:00:00", False),  # a Monday: never again
        ("FREQ=YEARLY;BYMONTH=2;BYDAY=53MO", "2026-01-01 09:00:00", False),
    ],
)
def test_the_admin_form_checks_the_rule_against_the_due_date(alice, rule, due, valid):
    from tasks.admin import TaskAdminForm

    form = TaskAdminForm(
        data={
            "owner": alice.better_auth_id,
            "title": "x",
            "description": "",
            "priority": 0,
            "due_at": due,
            "recurrence": rule,
        }
    )
    assert form.is_valid() is valid, form.errors
    if not valid:
        assert "recurrence" in form.errors
