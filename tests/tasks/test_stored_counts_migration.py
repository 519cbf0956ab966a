"""tasks.0014 counts the lists' and parents' tasks already there when it adds the stored counts."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("tasks", "0013_list_change_seq")], [("tasks", "0014_stored_counts")]


def test_the_migration_counts_the_rows_already_there(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Task, TaskList = old.get_model("tasks", "Task"), old.get_model("tasks", "TaskList")
        work = TaskList.objects.create(owner_id=alice.better_auth_id, name="Work")
        parent = Task.objects.create(owner_id=alice.better_auth_id, title="parent", list=work)
        Task.objects.create(owner_id=alice.better_auth_id, title="done", list=work, parent=parent, completed=True)
        Task.objects.create(owner_id=alice.better_auth_id, title="open", list=work, parent=parent)
        Task.objects.create(owner_id=alice.better_auth_id, title="inbox")
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        counted = new.get_model("tasks", "TaskList").objects.values_list("task_count", "open_count").get()
        assert counted == (3, 2)
        subtasks = new.get_model("tasks", "Task").objects.values_list("title", "subtask_count", "open_subtask_count")
        assert sorted(subtasks) == [("done", 0, 0), ("inbox", 0, 0), ("open", 0, 0), ("parent", 2, 1)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
