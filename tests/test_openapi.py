"""The OpenAPI document: served openly, valid, complete, and committed as `openapi.yaml`."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.validators import MaxValueValidator
from django.db import connection, models
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from tasks.fields import parse_rfc3339
from tasks.models import Task
from tasks.recurrence import RANGES
from tasks.serializers import TaskSerializer
from tasks.zones import TIME_ZONES, zone_named

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "openapi.yaml"
REGENERATE = "DJANGO_DEBUG=true .venv/bin/python manage.py spectacular --validate --fail-on-warn --file openapi.yaml"


@pytest.fixture(scope="module")
def generated() -> str:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return out.getvalue()


def test_the_committed_schema_matches_the_code(generated):
    assert COMMITTED.read_text() == generated, f"openapi.yaml is out of date; regenerate it with: {REGENERATE}"


def spectacular(database_url: str) -> str:
    """The document as `manage.py spectacular` writes it with this DATABASE_URL."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "true"}
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs in the PostgreSQL run of the suite")
def test_the_document_is_the_same_whichever_database_generates_it(tmp_path):
    postgresql = os.environ["DATABASE_URL"]
    assert spectacular(f"sqlite:///{tmp_path / 'db.sqlite3'}") == spectacular(postgresql)


def test_an_integer_fields_bounds_do_not_depend_on_the_database(monkeypatch):
    # Whatever the database running the suite, the ranges SQLite gives: 64 bits for every type.
    monkeypatch.setattr(
        connection.ops, "integer_field_range", partial(SQLiteWrapper.ops_class.integer_field_range, None)
    )

    def bounds(model_field: models.Field) -> tuple[int, int]:
        """The bounds TaskSerializer gives a new task field of this kind."""
        model_field.set_attributes_from_name("estimate")
        model_field.model = Task
        _, kwargs = TaskSerializer().build_standard_field("estimate", model_field)
        return kwargs["min_value"], kwargs["max_value"]

    assert bounds(models.PositiveIntegerField()) == (0, 2147483647)
    assert bounds(models.SmallIntegerField()) == (-32768, 32767)
    assert bounds(models.IntegerField(validators=[MaxValueValidator(9)])) == (-2147483648, 9)


def test_it_is_served_without_a_token_as_yaml_and_json(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")
    response = client.get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content)["info"]["title"] == "Todo API"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs", "/api/redoc/"])
def test_the_docs_pages_are_served_with_local_assets(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content  # works offline and under a strict CSP


def test_every_route_of_the_contract_is_documented(generated):
    operations = {
        (method.upper(), path) for path, methods in yaml.safe_load(generated)["paths"].items() for method in methods
    }
    for prefix in ["/api", "/api/{user_id}"]:
        assert {
            ("GET", f"{prefix}/tasks"),
            ("POST", f"{prefix}/tasks"),
            ("GET", f"{prefix}/tasks/{{id}}"),
            ("PUT", f"{prefix}/tasks/{{id}}"),
            ("PATCH", f"{prefix}/tasks/{{id}}"),
            ("DELETE", f"{prefix}/tasks/{{id}}"),
            ("PATCH", f"{prefix}/tasks/{{id}}/complete"),
        } <= operations
    assert {
        ("POST", "/api/tasks/bulk"),
        ("GET", "/api/tasks/stats"),
        ("GET", "/api/tags"),
        ("GET", "/api/me"),
        ("GET", "/api/lists"),
        ("POST", "/api/lists"),
        ("GET", "/api/lists/{id}"),
        ("PUT", "/api/lists/{id}"),
        ("PATCH", "/api/lists/{id}"),
        ("DELETE", "/api/lists/{id}"),
    } <= operations
    assert not any("admin" in path for _, path in operations)


def test_operation_ids_are_unique_and_readable(generated):
    ids = [op["operationId"] for methods in yaml.safe_load(generated)["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert all(op_id.isalnum() for op_id in ids), ids
    tasks = {"listTasks", "createTask", "getTask", "replaceTask", "updateTask", "deleteTask", "completeTask"}
    user_tasks = {op_id.replace("Task", "UserTask", 1) for op_id in tasks}
    lists = {"listLists", "createList", "getList", "replaceList", "updateList", "deleteList"}
    assert tasks | user_tasks | lists | {"bulkTasks", "getTaskStats"} <= set(ids)


def test_lists_document_conditional_writes_and_idempotent_creates(generated):
    paths = yaml.safe_load(generated)["paths"]
    create = paths["/api/lists"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"] if p["in"] == "header"}
    for method in ("put", "patch", "delete"):
        write = paths["/api/lists/{id}"][method]
        assert "If-Match" in {p["name"] for p in write["parameters"] if p["in"] == "header"}
        schema = write["responses"]["412"]["content"]["application/json"]["schema"]
        assert schema["allOf"][1]["properties"]["current"] == {"$ref": "#/components/schemas/TaskList"}
    bulk = paths["/api/tasks/bulk"]["post"]
    assert "412" not in bulk["responses"]


def test_the_bearer_scheme_lets_the_docs_authorize(generated):
    schema = yaml.safe_load(generated)
    assert schema["components"]["securitySchemes"]["BetterAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["BetterAuth"]["description"],
    }
    assert schema["paths"]["/api/tasks"]["get"]["security"] == [{"BetterAuth": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"] or schema["paths"]["/healthz"]["get"]["security"] == [
        {}
    ]


def test_create_and_patch_bodies_are_different_components(generated):
    schemas = yaml.safe_load(generated)["components"]["schemas"]
    assert schemas["TaskRequest"]["required"] == ["title"]
    assert "required" not in schemas["PatchedTaskRequest"]
    assert schemas["TaskRequest"]["additionalProperties"] is False
    assert schemas["PatchedTaskRequest"]["properties"]["due_at"]["nullable"] is True


def test_the_version_follows_the_project(generated):
    import todo_project

    assert yaml.safe_load(generated)["info"]["version"] == todo_project.__version__


def test_conditional_requests_and_idempotent_creates_are_documented(generated):
    paths = yaml.safe_load(generated)["paths"]

    def headers(operation):
        return {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"}

    read, write, create = (
        paths["/api/tasks/{id}"]["get"],
        paths["/api/tasks/{id}"]["patch"],
        paths["/api/tasks"]["post"],
    )
    assert "If-None-Match" in headers(read) and "304" in read["responses"]
    assert "ETag" in read["responses"]["200"]["headers"]
    assert {"If-Match", "If-None-Match"} <= headers(write)
    precondition_failed = write["responses"]["412"]["content"]["application/json"]["schema"]
    assert precondition_failed["allOf"][0] == {"$ref": "#/components/schemas/Error"}
    assert precondition_failed["allOf"][1]["properties"]["current"] == {"$ref": "#/components/schemas/Task"}
    assert "Idempotency-Key" in headers(create)
    assert {"409", "422"} <= set(create["responses"])


def test_throttled_and_unavailable_answers_document_retry_after(generated):
    responses = yaml.safe_load(generated)["paths"]["/api/tasks"]["get"]["responses"]
    for status in ("429", "503"):
        assert responses[status]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_the_documented_time_zones_are_exactly_the_ones_stats_accepts(generated, alice_client):
    (tz,) = [
        p for p in yaml.safe_load(generated)["paths"]["/api/tasks/stats"]["get"]["parameters"] if p["name"] == "tz"
    ]
    zones = [name for name in TIME_ZONES if re.fullmatch(tz["schema"]["pattern"], name)]
    assert zones == TIME_ZONES and {"UTC", "Europe/Paris", "America/New_York", "Etc/GMT+5"} <= set(zones)
    for name in zones:
        assert zone_named(name).key == name
    assert alice_client.get("/api/tasks/stats", {"tz": zones[-1]}).status_code == 200
    # Names a system's own time zone database may hold besides, and near misses: refused both ways.
    for name in ["localtime", "posixrules", "\n", "UTC\n", "Europe/", "Etc/GMT+", "europe/paris"]:
        assert not re.fullmatch(tz["schema"]["pattern"], name)
        response = alice_client.get("/api/tasks/stats", {"tz": name})
        assert response.status_code == 400, name
        assert list(response.json()["fields"]) == ["tz"]


TASK_REQUEST = yaml.safe_load(COMMITTED.read_text())["components"]["schemas"]["TaskRequest"]
RULE = TASK_REQUEST["properties"]["recurrence"]
DUE_DATES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)


def accepted(rule: str, due_at: datetime) -> bool:
    body = TaskSerializer(data={"title": "Water plants", "recurrence": rule, "due_at": due_at.isoformat()})
    return body.is_valid() and body.validated_data["recurrence"] == rule


@pytest.mark.parametrize(
    "rule",
    [
        f"FREQ=DAILY;INTERVAL={RANGES['INTERVAL'][1]};WKST=SU;COUNT={RANGES['COUNT'][1]}",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=99991231T235959Z",
        "FREQ=MONTHLY;BYMONTHDAY=-28,28",
        "FREQ=MONTHLY;BYDAY=-4SU,+4SA,1MO",
        "FREQ=YEARLY;BYDAY=-52MO,52SU",
        "FREQ=YEARLY;BYMONTH=2,12;BYDAY=4FR",
    ],
)
def test_the_rules_at_the_ends_of_the_recurrence_pattern_are_accepted(rule):
    assert re.fullmatch(RULE["pattern"], rule)
    for due_at in [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 28, tzinfo=UTC),
        datetime(9999, 12, 31, tzinfo=UTC),
    ]:
        assert accepted(rule, due_at), (rule, due_at)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    rule=st.from_regex(RULE["pattern"], fullmatch=True).filter(lambda rule: len(rule) <= RULE["maxLength"]),
    due_at=DUE_DATES,
)
def test_every_rule_the_recurrence_pattern_admits_is_accepted_with_any_due_date(rule, due_at):
    assert accepted(rule, due_at)


@pytest.mark.parametrize(
    "rule",
    [
        "0",
        "FREQ=HOURLY",
        "INTERVAL=2",
        "FREQ=DAILY;COUNT=0",
        f"FREQ=DAILY;INTERVAL={RANGES['INTERVAL'][1] + 1}",
        "FREQ=MONTHLY;BYDAY=1MO,TU",  # no day is both: dateutil finds no occurrence
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # never a Tuesday from a Monday
    ],
)
def test_rules_the_server_refuses_are_outside_the_recurrence_pattern(rule):
    assert not re.fullmatch(RULE["pattern"], rule)
    assert not accepted(rule, datetime(2026, 1, 5, tzinfo=UTC))


def test_a_create_or_replace_with_a_rule_needs_a_due_date_in_the_schema_too(alice_client):
    needs_due_at = Draft4Validator({**TASK_REQUEST, "properties": {}, "additionalProperties": True})
    for body, valid in [
        ({"title": "x"}, True),
        ({"title": "x", "recurrence": None}, True),
        ({"title": "x", "recurrence": "FREQ=DAILY", "due_at": "2026-01-05T09:00:00Z"}, True),
        ({"title": "x", "recurrence": "FREQ=DAILY"}, False),
        ({"title": "x", "recurrence": "FREQ=DAILY", "due_at": None}, False),
    ]:
        assert needs_due_at.is_valid(body) == valid, body
        response = alice_client.post("/api/tasks", body, format="json")
        assert (response.status_code == 201) == valid, response.content


DATE_TIME = TASK_REQUEST["properties"]["due_at"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.from_regex(DATE_TIME["pattern"], fullmatch=True))
def test_every_date_time_the_pattern_admits_is_accepted(value):
    assert parse_rfc3339(value)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+05:00",  # the year 0 in UTC
        "9999-12-31T23:00:00-05:00",  # the year 10000 in UTC
        "2026-01-31T09:00:00.1234567Z",
        "2026-02-29T09:00:00Z",
        "2026-12-31T23:59:60Z",
        "2026-01-31T09:00:00",
        "0000-01-01T00:00:00Z",
    ],
)
def test_date_times_the_server_refuses_are_outside_the_pattern(alice_client, value):
    assert not re.fullmatch(DATE_TIME["pattern"], value)
    response = alice_client.get("/api/tasks", {"due_before": value})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["due_before"]


# Serving the document: once per process, with an ETag, only where API_DOCS_PUBLIC says so.


@pytest.fixture
def fresh_schema_cache():
    from core.docs import served_documents

    served_documents.clear()
    yield
    served_documents.clear()


def test_the_served_document_is_generated_once_per_process(client, db, fresh_schema_cache, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    calls = []
    original = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda *a, **k: calls.append(1) or original(*a, **k))
    for _ in range(3):
        assert client.get("/api/schema/").status_code == 200
        assert client.get("/api/schema/", {"format": "json"}).status_code == 200
    assert len(calls) == 1


def test_the_served_document_carries_an_etag_and_answers_304_when_unchanged(client, db, fresh_schema_cache):
    first = client.get("/api/schema/")
    assert first["ETag"]
    assert client.get("/api/schema/", {"format": "json"})["ETag"] != first["ETag"]  # another representation
    again = client.get("/api/schema/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_lang_values_do_not_grow_a_per_process_memory(client, db, fresh_schema_cache):
    from django.utils.translation import trans_real

    from core.docs import served_documents

    client.get("/api/schema/", {"lang": "fr"})
    before = len(trans_real._translations)
    for i in range(50):
        assert client.get("/api/schema/", {"lang": f"x{i}"}).status_code == 200
        assert client.get("/api/docs/", {"lang": f"y{i}"}).status_code == 200
    assert len(trans_real._translations) == before
    assert len(served_documents) <= 5  # the document, and one per format the view renders


@pytest.mark.parametrize("path", ["/api/schema/", "/api/schema", "/api/docs/", "/api/redoc/"])
def test_the_document_and_its_viewers_are_a_404_unless_api_docs_public(client, db, settings, path):
    settings.API_DOCS_PUBLIC = False
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_viewers_carry_a_csp_that_allows_no_inline_script(client, db, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert not re.search(rb"<script>(?!\s*</script>)", response.content)  # every script is a file


def test_swagger_ui_does_not_keep_tokens_in_local_storage(client, db):
    page = client.get("/api/docs/")
    script_url = re.search(rb'<script src="([^"]*script[^"]*)"', page.content).group(1).decode().replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert b'"persistAuthorization": false' in script.content


DATE = TASK_REQUEST["properties"]["due_date"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.from_regex(DATE["pattern"], fullmatch=True))
def test_every_date_the_pattern_admits_is_accepted(value):
    body = TaskSerializer(data={"title": "Pay rent", "due_date": value})
    assert body.is_valid(), (value, body.errors)


@pytest.mark.parametrize(
    "value",
    ["0000-01-01", "2026-02-29", "2100-02-29", "2026-04-31", "2026-1-05", "2026-01-05T00:00:00Z", "10000-01-01"],
)
def test_dates_the_server_refuses_are_outside_the_pattern(alice_client, value):
    assert not re.fullmatch(DATE["pattern"], value)
    response = alice_client.post("/api/tasks", {"title": "x", "due_date": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["due_date"]


def test_every_time_zone_parameter_and_field_states_the_same_zones(generated):
    document = yaml.safe_load(generated)
    patterns = {
        (path, method): parameter["schema"]["pattern"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "tz"
    }
    assert {path for path, _ in patterns} == {"/api/tasks", "/api/{user_id}/tasks", "/api/tasks/stats"}
    patterns["due_timezone"] = document["components"]["schemas"]["TaskRequest"]["properties"]["due_timezone"]["pattern"]
    assert len(set(patterns.values())) == 1
    assert all(re.fullmatch(next(iter(patterns.values())), name) for name in TIME_ZONES)
