"""Migrations that the code already serving can run against (docs/deployment.md, "Migrations
during a deploy").

A release runs `migrate` while the previous release still serves. A column added with a
database-side default (`db_default`) or nullable costs the old code nothing; one added NOT NULL
with only a Python-side default (Django drops the column's default right after adding it) fails
every create the old code makes until it is replaced. The test shows both on gunicorn and a
throwaway PostgreSQL cluster, and checks the project's own migrations keep to the rule.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField

from tasks.models import Task
from tests.live import call, new_user_token, start_app, wait_for
from tests.pgcluster import migrated_cluster, pytestmark  # noqa: F401 (the skips)

# Written before the rule; each added its column while no release could have served without it.
BEFORE_THE_RULE = {("tasks", "0002_priority_tags_due_recurrence"), ("tasks", "0003_task_version")}
PROJECT_APPS = {"accounts", "core", "tasks"}


def add_column_sql(**options) -> list[str]:
    """The SQL `migrate` runs for a new `note` text column on tasks with these field options."""
    field = models.TextField(**options)
    field.set_attributes_from_name("note")
    field.model = Task
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.add_field(Task, field)
    return editor.collected_sql


@pytest.fixture(scope="module")
def cluster():
    with migrated_cluster() as cluster:
        yield cluster


@pytest.mark.parametrize(
    "options, errors_expected", [({"db_default": ""}, False), ({"null": True}, False), ({"default": ""}, True)]
)
def test_a_column_added_while_the_old_code_serves(cluster, db, options, errors_expected):
    app = start_app(database_url=cluster.url, workers=1, THROTTLE_WRITE_RATE="100000/min")
    _, token = new_user_token()
    sql = add_column_sql(**options)  # compiled on the suite's database, run on the cluster
    statuses, stop = [], threading.Event()

    def keep_creating():
        while not stop.is_set():
            statuses.append(call(app.port, "POST", "/api/tasks", token=token, body={"title": "during"}).status)
            statuses.append(call(app.port, "GET", "/api/tasks?page_size=5", token=token).status)

    writer = threading.Thread(target=keep_creating)
    try:
        writer.start()
        time.sleep(1)
        with psycopg.connect(cluster.url, autocommit=True) as admin:
            for statement in sql:
                admin.execute(statement)
            served = len(statuses)
            wait_for(lambda: len(statuses) >= served + 6, seconds=60)  # the old code serves on
            stop.set()
            writer.join(timeout=30)
            admin.execute('ALTER TABLE tasks_task DROP COLUMN "note"')  # the next case starts afresh
    finally:
        stop.set()
        app.stop()
    failed = [status for status in statuses if status >= 400]
    print(f"\ncolumn added with {options}: {len(statuses)} requests, {len(failed)} failed")
    assert len(statuses) > 4
    assert bool(failed) is errors_expected, failed


def test_the_projects_migrations_add_columns_the_old_code_can_live_with():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    offending = []
    for (app_label, name), migration in loader.disk_migrations.items():
        if app_label not in PROJECT_APPS or (app_label, name) in BEFORE_THE_RULE:
            continue
        for operation in migration.operations:
            if isinstance(operation, AddField):
                field = operation.field
                if not field.null and field.db_default is models.NOT_PROVIDED and not field.many_to_many:
                    offending.append(f"{app_label}.{name}: {operation.model_name}.{operation.name}")
    assert offending == [], "add these columns nullable or with db_default (docs/deployment.md)"
