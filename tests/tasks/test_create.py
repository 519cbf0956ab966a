import json

import pytest

from tasks.models import Task
from tests.auth import ALICE_ID

URL = "/api/tasks"


def test_it_creates_a_task_for_the_caller(alice_client):
    response = alice_client.post(URL, {"title": "Buy milk"})
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Buy milk"
    assert body["description"] == ""
    assert body["completed"] is False
    assert body["completed_at"] is None
    assert body["user_id"] == ALICE_ID
    assert response["Location"] == f"http://testserver/api/tasks/{body['id']}"
    assert Task.objects.get(pk=body["id"]).owner_id == ALICE_ID


def test_it_trims_the_title(alice_client):
    response = alice_client.post(URL, {"title": "  Buy milk \n"})
    assert response.json()["title"] == "Buy milk"


def test_it_accepts_a_title_of_200_characters_after_trimming(alice_client):
    response = alice_client.post(URL, {"title": "  " + "x" * 200 + "  "})
    assert response.status_code == 201


def test_it_trims_what_javascripts_trim_removes_and_nothing_else(alice_client):
    # A byte-order mark and no-break spaces go, as in a browser; an ASCII control character stays.
    assert alice_client.post(URL, {"title": "\ufeff Buy milk\u00a0\u3000"}).json()["title"] == "Buy milk"
    assert alice_client.post(URL, {"title": "\x1cBuy milk"}).json()["title"] == "\x1cBuy milk"


def test_a_title_of_only_unicode_spaces_is_blank(alice_client):
    response = alice_client.post(URL, {"title": "\u2003\u00a0"})
    assert response.status_code == 400
    assert response.json()["fields"]["title"][0]["code"] == "blank"


def test_it_creates_a_completed_task_with_its_completion_time(alice_client):
    body = alice_client.post(URL, {"title": "Done already", "completed": True}).json()
    assert body["completed"] is True
    assert body["completed_at"] is not None


def test_it_takes_the_owner_from_the_token_never_the_body(alice_client, bob):
    response = alice_client.post(URL, {"title": "Mine", "user_id": bob.better_auth_id})
    assert response.status_code == 400
    assert response.json()["fields"]["user_id"][0]["code"] == "read_only_field"
    assert not Task.objects.exists()
    assert alice_client.post(URL, {"title": "Mine"}).json()["user_id"] == ALICE_ID


def test_it_refuses_read_only_fields_naming_each(alice_client):
    response = alice_client.post(
        URL, {"title": "Mine", "id": 999, "created_at": "2001-01-01T00:00:00Z", "completed_at": None}
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {name: errors[0]["code"] for name, errors in fields.items()} == {
        "id": "read_only_field",
        "created_at": "read_only_field",
        "completed_at": "read_only_field",
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "payload, field, code",
    [
        ({}, "title", "required"),
        ({"title": ""}, "title", "blank"),
        ({"title": "   "}, "title", "blank"),
        ({"title": None}, "title", "null"),
        ({"title": 42}, "title", "invalid"),
        ({"title": ["a"]}, "title", "invalid"),
        ({"title": "x" * 201}, "title", "max_length"),
        ({"title": "ok", "description": "x" * 1001}, "description", "max_length"),
        ({"title": "ok", "description": None}, "description", "null"),
        ({"title": "ok", "completed": "yes"}, "completed", "invalid"),
        ({"title": "ok", "completed": 1}, "completed", "invalid"),
        ({"title": "ok", "titel": "typo"}, "titel", "unknown_field"),
        ({"title": "nul \x00 byte"}, "title", "null_characters_not_allowed"),
        ({"title": "lone \ud800 surrogate"}, "title", "invalid_characters"),
    ],
)
def test_it_rejects_invalid_input_naming_the_field(alice_client, payload, field, code):
    # json.dumps escapes everything to ASCII, so a lone surrogate travels as `\ud800`.
    response = alice_client.post(URL, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["fields"][field][0]["code"] == code
    assert not Task.objects.exists()


def test_it_rejects_a_body_that_is_not_an_object(alice_client):
    response = alice_client.post(URL, ["title"])
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


def test_it_rejects_malformed_json(alice_client):
    response = alice_client.post(URL, '{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Task.objects.exists()


def test_it_rejects_a_form_body_with_415(alice_client):
    response = alice_client.post(URL, "title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Task.objects.exists()


def test_it_requires_a_token(client, db):
    response = client.post(URL, {"title": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert not Task.objects.exists()
