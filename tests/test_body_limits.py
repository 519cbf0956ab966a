"""Request bodies are bounded: too large is a 413 before parsing, too deep or too long a small 400."""

import json

import pytest


def post_raw(client, path: str, body: str | bytes):
    return client.post(path, body, content_type="application/json")


def test_it_refuses_a_body_over_64_kib_with_a_json_413(alice_client):
    body = json.dumps({"title": "x", "description": "y" * 70_000})
    response = post_raw(alice_client, "/api/tasks", body)
    assert response.status_code == 413
    assert response.json() == {"code": "request_too_large", "message": "The request body is larger than 65536 bytes."}


def test_it_refuses_a_large_body_before_authentication(client):
    response = post_raw(client, "/api/tasks", "x" * 70_000)
    assert response.status_code == 413


def test_the_limit_comes_from_settings(alice_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    assert post_raw(alice_client, "/api/tasks", json.dumps({"title": "x" * 101})).status_code == 413
    assert post_raw(alice_client, "/api/tasks", json.dumps({"title": "x" * 50})).status_code == 201


def test_it_accepts_a_body_of_exactly_the_limit(alice_client, settings):
    body = json.dumps({"title": "x", "description": ""})
    settings.API_MAX_BODY_BYTES = len(body)
    assert post_raw(alice_client, "/api/tasks", body).status_code == 201


def test_django_s_own_upload_limit_is_a_413_too(alice_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = post_raw(alice_client, "/api/tasks", json.dumps({"title": "Buy milk"}))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_it_rejects_a_content_length_that_is_not_a_number(alice_client):
    response = alice_client.generic("POST", "/api/tasks", b"{}", content_type="application/json", CONTENT_LENGTH="12x")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_it_rejects_json_nested_deeper_than_python_can_parse_with_a_400(alice_client, settings, depth):
    settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = post_raw(alice_client, "/api/tasks", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_it_rejects_deep_json_inside_a_field_with_a_400(alice_client):
    nested = "[" * 500 + "]" * 500
    response = post_raw(alice_client, "/api/tasks", f'{{"title": {nested}}}')
    assert response.status_code == 400
    assert response.json()["fields"]["title"][0]["code"] == "invalid"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/tasks", {"title": "x", "tags": [1] * 20_000}),
        ("/api/tasks/bulk", {"action": "delete", "ids": ["a"] * 12_000}),
    ],
)
def test_a_huge_array_costs_one_error_not_one_per_item(alice_client, path, body):
    response = alice_client.post(path, body)
    assert response.status_code == 400
    assert len(response.content) < 500
    assert len(response.json()["fields"]) == 1
