"""Schema-driven fuzzing: every operation of the committed openapi.yaml, against the real app.

Schemathesis generates requests from `openapi.yaml` (valid ones and deliberately invalid ones)
and sends them to the WSGI application in-process, as Alice and as Bob. Every answer must be
what the document promises: no 5xx, a documented status, content type, headers and body;
invalid input refused, valid input accepted. Two more runs aim Alice's requests at Bob's
tasks and at Bob's `/api/{user_id}/...` path.

Generation is seeded and bounded; each example runs in a savepoint that is rolled back, so
examples never see each other's rows.
"""

import functools
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import User
from core.changes import CURSOR_MAX_LENGTH, Position, cursor_for
from core.conditional import etag_of as row_etag
from tasks.models import Priority, Task, TaskList
from tasks.queries import lists_with_counts
from tests.auth import claims_for, sign
from tests.tasks.factories import make_task

# The lazy schemas' wrappers hide each test's signature from pytest: the database and the
# parametrized caller are asked for by name.
pytestmark = pytest.mark.django_db

OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yaml"
TASK_ID = re.compile(r"^[0-9]{1,18}$")


def fuzz_config(mode: str, max_examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 20260105,
            "generation": {
                "mode": mode,
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",  # no example database: every run draws the same cases
            },
            # Examples, boundary values (coverage) and random cases; each test sets up its own rows.
            "phases": {"stateful": {"enabled": False}},
        }
    )


@functools.cache
def _django_application():
    return get_wsgi_application()


def application(environ, start_response):
    """The Django WSGI application, built at the first request (after the test settings apply)."""
    return _django_application()(environ, start_response)


def load(config: schemathesis.Config):
    loaded = schemathesis.openapi.from_path(OPENAPI, config=config)
    loaded.app = application
    loaded.config.update(base_url="http://localhost")
    return loaded


# The schemas load in fixtures, when a test runs: built at import, schemathesis would draw every
# operation's examples while collecting, and `-k` with any other test would wait for it.
@pytest.fixture(scope="session")
def all_requests():
    """Valid requests must be accepted and invalid ones refused: both kinds, for every operation."""
    return load(fuzz_config("all", max_examples=25))


@pytest.fixture(scope="session")
def valid_requests():
    """Valid requests only, aimed at another user's tasks or path."""
    return load(fuzz_config("positive", max_examples=10))


all_requests_schema = schemathesis.pytest.from_fixture("all_requests")
valid_requests_schema = schemathesis.pytest.from_fixture("valid_requests")
# The users (function-scoped fixtures) are shared by a test's examples on purpose: each example
# rolls its own rows back.
per_example = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


# The rules a request cannot show: whether the stored task has a due date, which a PATCH
# setting `recurrence` (or clearing `due_at`) relies on, and which kind (`due_at` or `due_date`),
# which a PATCH sending the other kind must clear; and what the rows a body names are (a parent
# or a move's anchor that is not the caller's task, or not a sibling; a subtask whose list
# follows its parent), any method ("*"). Everything else the server refuses, the document
# states (tests/test_openapi.py), so a valid request is never refused otherwise.
STORED_TASK_RULES = {
    ("PATCH", "recurrence", "needs_due_at"),
    ("PATCH", "due_at", "one_due_only"),
    ("PATCH", "due_date", "one_due_only"),
    *(("*", "parent_id", code) for code in ("does_not_exist", "too_deep", "own_parent")),
    *(("*", field, code) for field in ("before", "after") for code in ("does_not_exist", "not_a_sibling", "invalid")),
    ("*", "list_id", "follows_parent"),
    ("*", "ids", "follows_parent"),
}


@schemathesis.check
def valid_data_is_accepted(ctx: CheckContext, response, case) -> bool | None:
    """Schemathesis' positive_data_acceptance, except for STORED_TASK_RULES."""
    if response.status_code == 400 and _only_stored_task_rules(case.method, response.json()):
        return None
    return positive_data_acceptance(ctx, response, case)


def _only_stored_task_rules(method: str, body: dict) -> bool:
    fields = body.get("fields") or {}
    return bool(fields) and all(
        {(method, name, error["code"]), ("*", name, error["code"])} & STORED_TASK_RULES
        for name, errors in fields.items()
        for error in errors
    )


@pytest.fixture
def requests_in_the_test_transaction():
    """Keeps the database connection open across requests, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def seed_tasks(owner: User) -> list[Task]:
    """A plain task, a completed tagged one, a recurring one with a due date in a zone, and an
    all-day recurring one."""
    return [
        make_task(owner, title="Buy milk"),
        make_task(owner, title="File taxes", completed=True, priority=Priority.HIGH),
        make_task(
            owner,
            title="Water plants",
            due_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
            due_timezone="Europe/Berlin",
            recurrence="FREQ=WEEKLY;BYDAY=MO",
        ),
        make_task(owner, title="Pay rent", due_date=date(2026, 1, 31), recurrence="FREQ=MONTHLY"),
    ]


def seed_lists(owner: User) -> list[TaskList]:
    return [TaskList.objects.create(owner=owner, name=name) for name in ("Work", "Home")]


def etag_of(row: Task | TaskList) -> str:
    """A row's ETag as the API shows it (a list's is made with its counts, read with it)."""
    if isinstance(row, TaskList):
        row = lists_with_counts(TaskList.objects.filter(pk=row.pk)).get()
    return row_etag(row)


def aim(case, *, path_user: User, tasks: list[Task], lists: list[TaskList] = (), path_lists=None) -> None:
    """Points a generated request at `tasks` (`path_lists` on the list routes, else `lists`), the
    caller's `lists` in bodies and filters, and `path_user`'s routes wherever the value is a valid one.

    Invalid values stay as generated: they are what negative cases test.
    """
    path = case.path_parameters
    if path and "user_id" in path:
        path["user_id"] = path_user.better_auth_id
    targets = (lists if path_lists is None else path_lists) if case.path.startswith("/api/lists") else tasks
    if path and TASK_ID.match(str(path.get("id", ""))) and targets:
        task = targets[int(path["id"]) % len(targets)]
        path["id"] = str(task.pk)
        if case.method != "GET" and case.headers:
            # Preconditions as a careful client sends them, so the write goes ahead: a random
            # If-Match or an If-None-Match of "*" would be a 412 (tests/tasks/test_conditional.py).
            if "If-Match" in case.headers:
                case.headers["If-Match"] = etag_of(task)
            if "If-None-Match" in case.headers:
                case.headers["If-None-Match"] = '"0-0"'
    query = case.query
    if query and isinstance(query.get("cursor"), str) and 1 <= len(query["cursor"]) <= CURSOR_MAX_LENGTH:
        # A cursor as the server issued it to the caller: any other is a 400 invalid_cursor
        # (tests/tasks/test_changes.py), which no schema can tell from the text.
        query["cursor"] = cursor_for(Position(seq=0), user=path_user)
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("ids"), list) and all(isinstance(i, int) for i in body["ids"]):
        body["ids"] = [tasks[i % len(tasks)].pk for i in body["ids"]]
    # Whether a list is the caller's, a request cannot show: valid ids name the caller's lists.
    if lists and isinstance(body, dict) and type(body.get("list_id")) is int:
        body["list_id"] = lists[body["list_id"] % len(lists)].pk
    query = case.query or {}
    if lists and "list" in query:
        values = query["list"] if isinstance(query["list"], list) else [query["list"]]
        query["list"] = [
            str(lists[int(v) % len(lists)].pk) if isinstance(v, str) and v.isdigit() and int(v) > 0 else v
            for v in values
        ]


def auth_headers(case, caller: User) -> dict[str, str]:
    """The caller's token, unless the case is about a missing or malformed one."""
    headers = {}
    if not case.operation.schema.is_security_param_negated(case):
        headers["Authorization"] = "Bearer " + sign(claims_for(caller.better_auth_id))
    return headers


@pytest.fixture(params=["alice", "bob"])
def caller(request, alice, bob) -> User:
    return {"alice": alice, "bob": bob}[request.param]


@all_requests_schema.parametrize()
@per_example
@pytest.mark.usefixtures("caller")
def test_every_operation_answers_as_documented(case, requests_in_the_test_transaction, caller, alice, bob):
    with transaction.atomic():
        seed_tasks(alice)
        seed_tasks(bob)
        seed_lists(alice)
        seed_lists(bob)
        aim(
            case,
            path_user=caller,
            tasks=list(Task.objects.filter(owner=caller).order_by("pk")),
            lists=list(TaskList.objects.filter(owner=caller).order_by("pk")),
        )
        case.call_and_validate(
            headers=auth_headers(case, caller),
            excluded_checks=[positive_data_acceptance],
            additional_checks=[valid_data_is_accepted],
        )
        transaction.set_rollback(True)


def rows(owner: User) -> list[dict]:
    return list(Task.objects.filter(owner=owner).order_by("pk").values())


@valid_requests_schema.include(path_regex=r"\{id\}|/bulk$").parametrize()
@per_example
def test_alice_never_reads_or_changes_bobs_tasks(case, requests_in_the_test_transaction, alice, bob):
    with transaction.atomic():
        seed_tasks(alice)
        bobs_tasks = seed_tasks(bob)
        before = rows(bob)
        bobs_lists = seed_lists(bob)
        before_lists = list(TaskList.objects.filter(owner=bob).values())
        aim(case, path_user=alice, tasks=bobs_tasks, lists=seed_lists(alice), path_lists=bobs_lists)
        response = case.call(headers=auth_headers(case, alice))
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
        assert rows(bob) == before
        assert list(TaskList.objects.filter(owner=bob).values()) == before_lists
        transaction.set_rollback(True)


@valid_requests_schema.include(path_regex=r"^/api/\{user_id\}/").parametrize()
@per_example
def test_alice_gets_403_on_every_route_under_bobs_id(case, requests_in_the_test_transaction, alice, bob):
    with transaction.atomic():
        alices_tasks = seed_tasks(alice)
        seed_tasks(bob)
        before = rows(alice), rows(bob)
        aim(case, path_user=bob, tasks=alices_tasks)
        response = case.call(headers=auth_headers(case, alice))
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "path_user_mismatch"
        assert (rows(alice), rows(bob)) == before
        transaction.set_rollback(True)
