"""Text a client sends must be Unicode text: a lone UTF-16 surrogate is a 400 naming where it is.

json.dumps escapes everything to ASCII, so a lone surrogate travels as `\\ud800`, as a
client's JSON.stringify would send it. PostgreSQL refuses such a string, and no answer can
echo it: before the parser refused it, some of these were 500s.
"""

import json

import pytest

from tasks.models import Tag, Task
from tests.tasks.factories import make_task, row

LONE = "\ud800"


def send(client, method, url, payload):
    return getattr(client, method)(url, json.dumps(payload), content_type="application/json")


def assert_refused(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["fields"][field][0]["code"] == "invalid_characters"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": f"lone {LONE} surrogate"}, "title"),
        ({"title": "x", "description": "low \udfff"}, "description"),
        ({"title": "x", "tags": ["ok", LONE]}, "tags.1"),
        ({"title": "x", "due_at": "2026-01-01T09:00:00Z", "recurrence": f"FREQ=DAILY{LONE}"}, "recurrence"),
        ({"title": "x", "priority": LONE}, "priority"),  # a choice's error echoes what was sent
        ({"title": "x", "due_at": LONE}, "due_at"),
        ({"title": "x", LONE: "unknown key"}, "\\ud800"),  # "Unknown field." named by the key
        ({"title": "x", "tags": [{"nested": [LONE]}]}, "tags.0.nested.0"),
    ],
)
def test_it_rejects_a_lone_surrogate_anywhere_in_a_new_task(alice_client, payload, field):
    assert_refused(send(alice_client, "post", "/api/tasks", payload), field)
    assert not Task.objects.exists()
    assert not Tag.objects.exists()


def test_it_rejects_a_body_that_is_a_lone_surrogate(alice_client):
    response = send(alice_client, "post", "/api/tasks", LONE)
    assert response.status_code == 400
    assert response.json()["fields"]["non_field_errors"][0]["code"] == "invalid_characters"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_it_rejects_a_lone_surrogate_in_an_update_and_changes_nothing(alice_client, alice, method):
    task = make_task(alice, title="Keep")
    before = row(task)
    response = send(alice_client, method, f"/api/tasks/{task.id}", {"title": "new", "tags": [f"a{LONE}"]})
    assert_refused(response, "tags.0")
    assert row(task) == before


@pytest.mark.parametrize(
    "url, payload, field",
    [
        ("/api/tasks/bulk", {"action": LONE, "ids": [1]}, "action"),
        ("/api/tasks/bulk", {"action": "complete", "ids": [LONE]}, "ids.0"),
    ],
)
def test_it_rejects_a_lone_surrogate_in_a_bulk_body(alice_client, url, payload, field):
    assert_refused(send(alice_client, "post", url, payload), field)


def test_it_rejects_a_lone_surrogate_in_a_completion_body(alice_client, alice):
    task = make_task(alice)
    assert_refused(send(alice_client, "patch", f"/api/tasks/{task.id}/complete", {"completed": LONE}), "completed")


def test_it_stores_a_surrogate_pair_as_the_character_it_encodes(alice_client):
    response = send(alice_client, "post", "/api/tasks", {"title": "party \U0001f389", "tags": ["\U0001f600"]})
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "party \U0001f389"
    assert Task.objects.get().title == "party \U0001f389"


# A query string carries bytes: the closest a client gets to a lone surrogate is its UTF-8-like
# encoding (%ED%A0%80), which is not UTF-8. Django would read it as U+FFFD and search for that.
@pytest.mark.parametrize(
    "query, parameter",
    [
        ("search=%ED%A0%80", "search"),
        ("tag=work&tag=%ED%A0%80", "tag"),
        ("sort=title&search=caf%E9", "search"),  # Latin-1, not UTF-8
        ("%ED%A0%80=1", "\ufffd\ufffd\ufffd"),
    ],
)
def test_it_rejects_a_query_string_that_is_not_utf8_naming_the_parameter(alice_client, query, parameter):
    response = alice_client.get(f"/api/tasks?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["fields"][parameter][0]["code"] == "invalid_characters"


def test_it_rejects_a_time_zone_that_is_not_utf8(alice_client):
    response = alice_client.get("/api/tasks/stats?tz=%ED%A0%80")
    assert response.status_code == 400
    assert response.json()["fields"]["tz"][0]["code"] == "invalid_characters"


def test_it_searches_for_text_with_characters_beyond_ascii(alice_client, alice):
    make_task(alice, title="Café \U0001f389")
    response = alice_client.get("/api/tasks?search=caf%C3%A9+%F0%9F%8E%89&tag=")
    assert response.status_code == 400  # the empty tag, not the text
    assert list(response.json()["fields"]) == ["tag"]
    response = alice_client.get("/api/tasks?search=caf%C3%A9+%F0%9F%8E%89")
    assert response.status_code == 200
    assert [task["title"] for task in response.json()] == ["Café \U0001f389"]
