"""Priority, tags, due date and recurrence on create and update."""

import json

import pytest

from tasks.models import Tag, Task
from tests.tasks.factories import make_task, row

URL = "/api/tasks"


def post(client, payload):
    return client.post(URL, json.dumps(payload), content_type="application/json")


def test_it_stores_priority_tags_due_and_recurrence(alice_client):
    response = post(
        alice_client,
        {
            "title": "Gym",
            "priority": "high",
            "tags": [" health ", "Routine"],
            "due_at": "2026-03-02T07:30:00+01:00",
            "recurrence": "freq=weekly;byday=MO,WE",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["priority"] == "high"
    assert body["tags"] == ["health", "Routine"]
    assert body["due_at"] == "2026-03-02T06:30:00Z"  # stored and returned in UTC
    assert body["recurrence"] == "FREQ=WEEKLY;BYDAY=MO,WE"


def test_defaults_are_none_priority_no_tags_no_due_date(alice_client):
    body = post(alice_client, {"title": "Plain"}).json()
    assert (body["priority"], body["tags"], body["due_at"], body["recurrence"]) == ("none", [], None, None)


def test_tags_are_shared_by_a_users_tasks_case_insensitively(alice_client):
    post(alice_client, {"title": "one", "tags": ["Work"]})
    second = post(alice_client, {"title": "two", "tags": ["work", "WORK", "home"]}).json()
    assert second["tags"] == ["home", "Work"]  # the existing spelling wins, duplicates fold
    assert sorted(Tag.objects.values_list("name", flat=True), key=str.casefold) == ["home", "Work"]


def test_tags_are_never_shared_between_users(alice_client, bob_client):
    post(alice_client, {"title": "a", "tags": ["work"]})
    post(bob_client, {"title": "b", "tags": ["work"]})
    assert Tag.objects.count() == 2
    assert len({tag.owner_id for tag in Tag.objects.all()}) == 2


@pytest.mark.parametrize(
    "payload, field, code",
    [
        ({"priority": "urgent"}, "priority", "invalid_choice"),
        ({"priority": "HIGH"}, "priority", "invalid_choice"),
        ({"priority": 3}, "priority", "invalid_choice"),
        ({"priority": None}, "priority", "null"),
        ({"tags": "work"}, "tags", "not_a_list"),
        ({"tags": [""]}, "tags.0", "blank"),
        ({"tags": ["ok", "x" * 51]}, "tags.1", "max_length"),
        ({"tags": [5]}, "tags.0", "invalid"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags", "max_length"),
        ({"due_at": "2026-03-02T07:30:00"}, "due_at", "invalid"),
        ({"due_at": "2026-03-02"}, "due_at", "invalid"),
        ({"due_at": "tomorrow"}, "due_at", "invalid"),
        ({"due_at": "2026-02-30T07:30:00Z"}, "due_at", "invalid"),
        ({"due_at": 1767225600}, "due_at", "invalid"),
        ({"due_at": "9999-12-31T23:00:00-05:00"}, "due_at", "invalid"),
        ({"due_at": "2026-03-02T07:30:00+01:60"}, "due_at", "invalid"),  # Python reads it as +02:00
        ({"due_at": "2026-03-02T07:30:00-24:00"}, "due_at", "invalid"),
        ({"recurrence": "FREQ=WEEKLY"}, "recurrence", "needs_due_at"),
    ],
)
def test_it_rejects_bad_values_naming_the_field(alice_client, payload, field, code):
    response = post(alice_client, {"title": "x", **payload})
    assert response.status_code == 400, response.content
    assert response.json()["fields"][field][0]["code"] == code
    assert not Task.objects.exists()
    assert not Tag.objects.exists()


DUE = "2026-01-31T09:00:00Z"


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("FREQ=MINUTELY", "FREQ must be one of"),
        ("INTERVAL=2", "FREQ is required"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL values must be between"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "COUNT and UNTIL"),
        ("FREQ=DAILY;UNTIL=20270101", "UNTIL must be a UTC date-time"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY must list weekdays"),
        ("FREQ=WEEKLY;BYDAY=1MO", "numbered BYDAY"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never meet"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY values"),
        ("FREQ=DAILY;FREQ=WEEKLY", "appears twice"),
        ("FREQ", "is not NAME=VALUE"),
        ("", "FREQ is required"),
    ],
)
def test_it_rejects_an_invalid_rule_saying_why(alice_client, rule, reason):
    response = post(alice_client, {"title": "x", "due_at": DUE, "recurrence": rule})
    assert response.status_code == 400, response.content
    error = response.json()["fields"]["recurrence"][0]
    assert error["code"] in {"invalid_recurrence", "blank"}
    assert reason in error["message"] or error["code"] == "blank"


def test_it_accepts_the_rfc_5545_parts_a_todo_needs(alice_client):
    rule = "RRULE:FREQ=MONTHLY;INTERVAL=2;BYMONTH=1,3;BYMONTHDAY=-1;COUNT=4"
    response = post(alice_client, {"title": "x", "due_at": DUE, "recurrence": rule})
    assert response.status_code == 201, response.content
    assert response.json()["recurrence"] == "FREQ=MONTHLY;INTERVAL=2;BYMONTH=1,3;BYMONTHDAY=-1;COUNT=4"


class TestPatch:
    def test_null_clears_the_due_date_and_recurrence(self, alice_client, alice):
        task = make_task(alice, due_at="2026-01-31T09:00:00Z", recurrence="FREQ=DAILY")
        response = alice_client.patch(f"{URL}/{task.id}", {"due_at": None, "recurrence": None})
        assert response.status_code == 200
        assert (response.json()["due_at"], response.json()["recurrence"]) == (None, None)

    def test_clearing_the_due_date_of_a_recurring_task_alone_is_refused(self, alice_client, alice):
        task = make_task(alice, due_at="2026-01-31T09:00:00Z", recurrence="FREQ=DAILY")
        before = row(task)
        response = alice_client.patch(f"{URL}/{task.id}", {"due_at": None})
        assert response.status_code == 400
        assert response.json()["fields"]["recurrence"][0]["code"] == "needs_due_at"
        assert row(task) == before

    def test_tags_sent_replace_the_set_and_tags_absent_leave_it(self, alice_client):
        task_id = post(alice_client, {"title": "x", "tags": ["a", "b"]}).json()["id"]
        assert alice_client.patch(f"{URL}/{task_id}", {"title": "y"}).json()["tags"] == ["a", "b"]
        assert alice_client.patch(f"{URL}/{task_id}", {"tags": ["c"]}).json()["tags"] == ["c"]
        assert alice_client.patch(f"{URL}/{task_id}", {"tags": []}).json()["tags"] == []

    def test_unused_tags_are_dropped(self, alice_client):
        task_id = post(alice_client, {"title": "x", "tags": ["a", "b"]}).json()["id"]
        alice_client.patch(f"{URL}/{task_id}", {"tags": ["b"]})
        assert list(Tag.objects.values_list("name", flat=True)) == ["b"]
        alice_client.delete(f"{URL}/{task_id}")
        assert not Tag.objects.exists()

    def test_priority_changes_alone(self, alice_client, alice):
        task = make_task(alice, description="keep")
        body = alice_client.patch(f"{URL}/{task.id}", {"priority": "medium"}).json()
        assert (body["priority"], body["description"]) == ("medium", "keep")

    def test_put_resets_what_it_leaves_out(self, alice_client):
        task_id = post(
            alice_client, {"title": "x", "tags": ["a"], "priority": "high", "due_at": DUE, "recurrence": "FREQ=DAILY"}
        ).json()["id"]
        body = alice_client.put(f"{URL}/{task_id}", {"title": "fresh"}).json()
        assert (body["tags"], body["priority"], body["due_at"], body["recurrence"]) == ([], "none", None, None)
