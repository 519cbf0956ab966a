"""One JSON log line per request, with its id, user, route, status and duration; no secrets."""

import io
import json
import logging

import pytest

from core.logs import JsonFormatter, RequestIdFilter
from tasks.views import TaskViewSet
from tests.auth import claims_for, client_with_token, sign


@pytest.fixture
def log_lines():
    """The JSON lines the production handler would write, as a list of dicts (read after the request)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)

    class Lines(list):
        def text(self) -> str:
            return stream.getvalue()

        def requests(self) -> list[dict]:
            return [line for line in self.read() if line["logger"] == "todo_project.requests"]

        def read(self) -> list[dict]:
            return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield Lines()
    root.removeHandler(handler)


def test_it_logs_one_json_line_per_request(alice_client, alice, log_lines):
    response = alice_client.get("/api/tasks")
    [line] = log_lines.requests()
    assert line["level"] == "info"
    assert line["method"] == "GET"
    assert line["route"] == "task-list"
    assert line["status"] == 200
    assert line["user_id"] == alice.better_auth_id
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["timestamp"].endswith("+00:00")


def test_the_route_is_the_pattern_not_the_path_with_ids(alice_client, log_lines):
    alice_client.get("/api/tasks/123456789")
    [line] = log_lines.requests()
    assert line["route"] == "task-detail"
    assert "123456789" not in log_lines.text()


def test_it_echoes_a_sane_request_id(client, log_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-3f2a.9:1")
    assert response["X-Request-ID"] == "edge-3f2a.9:1"
    assert log_lines.requests()[0]["request_id"] == "edge-3f2a.9:1"


@pytest.mark.parametrize("sent", ["", "x" * 129, "has space", 'quote"and\nnewline', "ünïcode"])
def test_it_replaces_an_unsafe_request_id_with_a_fresh_one(client, log_lines, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_it_gives_each_request_its_own_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_an_anonymous_request_has_no_user(client, db, log_lines):
    client.get("/api/tasks")
    [line] = log_lines.requests()
    assert line["status"] == 401
    assert line["user_id"] is None


def test_it_never_logs_tokens_bodies_or_query_strings(db, log_lines):
    token = sign(claims_for("aLiCe0000000000000000000000000001"))
    client = client_with_token(token)
    client.post("/api/tasks?access_token=query-secret", {"title": "body-secret"}, format="json")
    client_with_token("not-even-a-jwt").get("/api/tasks")
    assert len(log_lines.requests()) == 2
    for secret in [token, token.split(".")[2], "not-even-a-jwt", "query-secret", "body-secret"]:
        assert secret not in log_lines.text()


def test_a_crash_logs_its_stack_trace_as_json_with_the_request_id(alice_client, log_lines, monkeypatch):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("boom in the view")

    monkeypatch.setattr(TaskViewSet, "list", explode)
    response = alice_client.get("/api/tasks", HTTP_X_REQUEST_ID="crash-1")
    [error] = [line for line in log_lines.read() if line["logger"] == "core.errors"]
    assert error["level"] == "error"
    assert error["request_id"] == "crash-1"
    assert "Traceback" in error["exception"]
    assert "boom in the view" in error["exception"]
    [line] = log_lines.requests()
    assert (line["status"], line["level"]) == (500, "error")
    assert response["X-Request-ID"] == "crash-1"


def test_records_outside_a_request_have_no_request_id(log_lines):
    logging.getLogger("todo_project.test").warning("between requests")
    [line] = log_lines.read()
    assert line["message"] == "between requests"
    assert line["request_id"] is None


def test_the_admin_is_logged_by_route_without_loading_the_session(client, db, log_lines):
    client.get("/admin/login/")
    [line] = log_lines.requests()
    assert (line["route"], line["status"], line["user_id"]) == ("admin:login", 200, None)
