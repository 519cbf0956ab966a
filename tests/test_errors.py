"""Every error is JSON in one shape, including unknown URLs and crashes."""

import pytest
from django.test import Client
from rest_framework.renderers import JSONRenderer

from tasks.limits import BULK_MAX_IDS, TAGS_PER_TASK
from tasks.views import TaskViewSet


@pytest.mark.parametrize("path", ["/", "/nope", "/api/", "/api/unknown/route/here", "/static/x.css"])
def test_an_unknown_url_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_an_unknown_url_is_json_also_with_debug_on(client, settings):
    settings.DEBUG = True
    response = client.post("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_an_unknown_url_is_a_json_404_for_writes_too_never_a_csrf_page(db, method):
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/tasks/\u0084")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(alice_client):
    response = alice_client.delete("/api/tasks")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_crash_is_a_json_500_without_a_stack_trace(alice_client, monkeypatch, caplog):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(TaskViewSet, "list", explode)
    response = alice_client.get("/api/tasks")
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": "Something went wrong on our side."}
    assert b"secret internals" not in response.content
    assert "secret internals" in caplog.text  # logged for operators, not shown to clients


def test_a_database_outage_is_a_json_503_with_retry_after(alice_client, monkeypatch):
    from django.db import OperationalError

    def unreachable(self, request, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(TaskViewSet, "list", unreachable)
    response = alice_client.get("/api/tasks")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


def test_a_database_outage_outside_the_api_views_is_a_json_503_too(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError

    def unreachable(self):
        raise OperationalError("connection refused")

    # The admin reads its session from the database.
    monkeypatch.setattr(SessionStore, "load", unreachable)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "an-operators-session"
    response = client.get("/admin/")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"


def test_a_crash_outside_the_api_views_is_still_a_json_500(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    def explode(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(SessionStore, "load", explode)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "an-operators-session"
    response = client.get("/admin/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def drf_renders(response) -> bytes:
    """The body as DRF's own JSONRenderer renders API errors: compact, UTF-8."""
    return JSONRenderer().render(response.json())


def test_an_unknown_url_answers_the_same_bytes_as_an_unknown_task(alice_client, alice):
    unknown_task = alice_client.get("/api/tasks/999999")
    unknown_url = alice_client.get("/api/nothing-here")
    assert unknown_task.status_code == unknown_url.status_code == 404
    assert unknown_url.content == unknown_task.content == drf_renders(unknown_url)


def test_errors_from_outside_the_api_views_are_rendered_as_drf_renders_them(client, db, settings, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    settings.API_MAX_BODY_BYTES = 10
    too_large = client.post("/api/tasks", "x" * 11, content_type="application/json")
    bad_length = client.generic("POST", "/api/tasks", b"{}", content_type="application/json", CONTENT_LENGTH="ten")
    not_utf8 = client.get("/api/tasks?search=%ff")

    def explode(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(SessionStore, "load", explode)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "an-operators-session"
    crash = client.get("/admin/")
    for response, status in [(too_large, 413), (bad_length, 400), (not_utf8, 400), (crash, 500)]:
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert response.content == drf_renders(response), response.content


@pytest.mark.parametrize(
    "body, field, code, message",
    [
        ({"action": "complete", "ids": []}, "ids", "min_length", "Must have at least 1 item."),
        (
            {"action": "complete", "ids": list(range(1, BULK_MAX_IDS + 2))},
            "ids",
            "max_length",
            f"Must have at most {BULK_MAX_IDS} items.",
        ),
    ],
)
def test_a_list_of_the_wrong_length_is_told_so_in_a_sentence(alice_client, body, field, code, message):
    response = alice_client.post("/api/tasks/bulk", body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"][field] == [{"code": code, "message": message}]


def test_too_many_tags_is_told_so_in_a_sentence(alice_client):
    response = alice_client.post(
        "/api/tasks", {"title": "x", "tags": [f"t{i}" for i in range(TAGS_PER_TASK + 1)]}, format="json"
    )
    assert response.json()["fields"]["tags"] == [
        {"code": "max_length", "message": f"Must have at most {TAGS_PER_TASK} items."}
    ]


def cancelled_by_the_statement_timeout():
    """The error PostgreSQL gives a query that ran past `statement_timeout`, as Django raises it."""
    from django.db import OperationalError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")
    except OperationalError as e:
        return e
    raise AssertionError("the statement timeout did not cancel the query")


needs_postgresql = pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)


@needs_postgresql
def test_a_query_cancelled_by_the_statement_timeout_is_a_503_query_timeout_without_retry_after(
    alice_client, monkeypatch, caplog
):
    error = cancelled_by_the_statement_timeout()

    def slow(self, request, *args, **kwargs):
        raise error

    monkeypatch.setattr(TaskViewSet, "list", slow)
    response = alice_client.get("/api/tasks")
    assert response.status_code == 503
    assert response.json()["code"] == "query_timeout"
    assert not response.has_header("Retry-After")  # retrying at once would only queue it again
    assert "statement timeout" in caplog.text


@needs_postgresql
def test_a_query_cancelled_outside_the_api_views_is_a_503_query_timeout_too(client, db, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    error = cancelled_by_the_statement_timeout()

    def slow(self):
        raise error

    monkeypatch.setattr(SessionStore, "load", slow)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "an-operators-session"
    response = client.get("/admin/")
    assert response.status_code == 503
    assert response.json()["code"] == "query_timeout"
    assert not response.has_header("Retry-After")


def test_an_error_lists_a_bounded_number_of_fields(alice_client):
    from core.errors import MAX_FIELDS_LISTED

    body = {f"k{i:04}": 1 for i in range(4000)}  # 40 KB
    response = alice_client.post("/api/tasks", body, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert len(fields) == MAX_FIELDS_LISTED
    assert list(fields)[0] == "k0000"  # the first ones, in order
    assert len(response.content) < 5_000
