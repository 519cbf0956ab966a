"""A page costs a fixed number of queries, whatever its size and however many tags its tasks carry."""

import pytest

from tasks.models import Tag, Task
from tests.auth import client_for

# Authentication (1), the total count (1), the page (1), the tags of the whole page (1).
LIST_QUERIES = 4


@pytest.fixture
def alices_tasks(alice):
    def make(count: int) -> None:
        tags = Tag.objects.bulk_create([Tag(owner=alice, name=f"tag{i}") for i in range(5)])
        tasks = Task.objects.bulk_create([Task(owner=alice, title=f"task {i}") for i in range(count)])
        Task.tags.through.objects.bulk_create(
            [Task.tags.through(task_id=task.id, tag_id=tag.id) for task in tasks for tag in tags]
        )

    return make


@pytest.mark.parametrize("count", [1, 100])
def test_a_page_costs_the_same_queries_whatever_its_size(alice, alices_tasks, count, django_assert_max_num_queries):
    alices_tasks(count)
    client = client_for(alice)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/api/tasks", {"limit": 100, "sort": "priority,due_date"})
    assert len(response.json()) == count
    assert all(len(task["tags"]) == 5 for task in response.json())


def test_reading_one_task_costs_two_queries_after_authentication(alice, alices_tasks, django_assert_max_num_queries):
    alices_tasks(1)
    client, task_id = client_for(alice), Task.objects.get().id
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/tasks/{task_id}").status_code == 200
