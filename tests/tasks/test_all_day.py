"""All-day tasks: `due_date` instead of `due_at`, never both, and recurrence on dates."""

from datetime import UTC, date, datetime

import pytest

from tasks.models import Task
from tasks.recurrence import recurrence_next_due
from tests.tasks.factories import make_task, row


def test_it_creates_an_all_day_task(alice_client):
    response = alice_client.post("/api/tasks", {"title": "Pay rent", "due_date": "2026-03-08"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["due_date"], response.json()["due_at"]) == ("2026-03-08", None)
    assert Task.objects.get().due_date == date(2026, 3, 8)


@pytest.mark.parametrize(
    "value", ["2026-3-8", "2026-02-30", "2026-03-08T00:00:00Z", "20260308", "08/03/2026", "", 20260308, "2025-02-29"]
)
def test_it_refuses_a_due_date_that_is_not_yyyy_mm_dd(alice_client, value):
    response = alice_client.post("/api/tasks", {"title": "x", "due_date": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["due_date"]


def test_it_takes_february_29th_of_a_leap_year(alice_client):
    response = alice_client.post("/api/tasks", {"title": "x", "due_date": "2028-02-29"}, format="json")
    assert response.status_code == 201


def test_it_refuses_both_due_at_and_due_date_naming_both(alice_client):
    response = alice_client.post(
        "/api/tasks", {"title": "x", "due_at": "2026-03-08T09:00:00Z", "due_date": "2026-03-08"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {name: [e["code"] for e in errors] for name, errors in body["fields"].items()} == {
        "due_at": ["one_due_only"],
        "due_date": ["one_due_only"],
    }
    assert not Task.objects.exists()


def test_a_patch_that_would_leave_both_is_refused_and_changes_nothing(alice_client, alice):
    task = make_task(alice, due_at=datetime(2026, 3, 8, 9, tzinfo=UTC))
    before = row(task)
    response = alice_client.patch(f"/api/tasks/{task.id}", {"due_date": "2026-03-09"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"due_at", "due_date"}
    assert row(task) == before


def test_a_patch_switches_shapes_when_it_clears_the_other(alice_client, alice):
    task = make_task(alice, due_at=datetime(2026, 3, 8, 9, tzinfo=UTC))
    response = alice_client.patch(f"/api/tasks/{task.id}", {"due_date": "2026-03-09", "due_at": None}, format="json")
    assert response.status_code == 200
    assert (response.json()["due_date"], response.json()["due_at"]) == ("2026-03-09", None)


def test_put_leaving_due_date_out_clears_it(alice_client, alice):
    task = make_task(alice, due_date=date(2026, 3, 8))
    response = alice_client.put(f"/api/tasks/{task.id}", {"title": "x"}, format="json")
    assert response.json()["due_date"] is None


def test_a_rule_may_stand_on_a_due_date_alone(alice_client):
    response = alice_client.post(
        "/api/tasks", {"title": "x", "due_date": "2026-01-31", "recurrence": "FREQ=MONTHLY"}, format="json"
    )
    assert response.status_code == 201, response.content


def test_clearing_the_due_date_of_a_recurring_all_day_task_is_refused(alice_client, alice):
    task = make_task(alice, due_date=date(2026, 1, 31), recurrence="FREQ=MONTHLY")
    response = alice_client.patch(f"/api/tasks/{task.id}", {"due_date": None}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["recurrence"][0]["code"] == "needs_due_at"


@pytest.mark.parametrize(
    "rule, due, expected",
    [
        ("FREQ=DAILY", date(2026, 3, 7), date(2026, 3, 8)),
        ("FREQ=DAILY", date(2026, 3, 28), date(2026, 3, 29)),  # no daylight saving for dates
        ("FREQ=WEEKLY;BYDAY=MO,FR", date(2026, 3, 6), date(2026, 3, 9)),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", date(2026, 1, 31), date(2026, 2, 28)),
        ("FREQ=MONTHLY;BYMONTHDAY=31", date(2026, 1, 31), date(2026, 3, 31)),
        ("FREQ=YEARLY", date(2028, 2, 29), date(2032, 2, 29)),
        ("FREQ=DAILY;UNTIL=20260308T000000Z", date(2026, 3, 7), date(2026, 3, 8)),
        ("FREQ=DAILY;UNTIL=20260307T235959Z", date(2026, 3, 7), None),
        ("FREQ=DAILY;COUNT=1", date(2026, 3, 7), None),
    ],
)
def test_all_day_recurrence_steps_through_dates(rule, due, expected):
    found = recurrence_next_due(rule, due_at=None, due_date=due, due_timezone="America/New_York")
    assert (found and found["due_date"]) == expected
    assert found is None or found["due_at"] is None


def test_completing_an_all_day_recurring_task_creates_the_next_day(alice_client, alice):
    task = make_task(alice, due_date=date(2026, 3, 7), recurrence="FREQ=DAILY;COUNT=3")
    answer = alice_client.patch(f"/api/tasks/{task.id}/complete").json()
    following = answer["next_occurrence"]
    assert (following["due_date"], following["due_at"], following["recurrence"]) == (
        "2026-03-08",
        None,
        "FREQ=DAILY;COUNT=2",
    )


def test_bulk_completion_of_all_day_tasks_answers_the_created_ids(alice_client, alice):
    tasks = [make_task(alice, due_date=date(2026, 3, d), recurrence="FREQ=WEEKLY") for d in (2, 3)]
    response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [t.id for t in tasks]})
    created = response.json()["created"]
    assert len(created) == 2
    assert sorted(Task.objects.filter(pk__in=created).values_list("due_date", flat=True)) == [
        date(2026, 3, 9),
        date(2026, 3, 10),
    ]


def test_a_due_date_is_not_written_on_another_users_task(alice_client, bob):
    theirs = make_task(bob)
    response = alice_client.patch(f"/api/tasks/{theirs.id}", {"due_date": "2026-03-08"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.due_date is None
