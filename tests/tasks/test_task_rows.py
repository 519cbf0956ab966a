"""The list's fast read path (values() rows mapped to JSON) answers exactly what TaskSerializer would."""

from datetime import UTC, datetime

from rest_framework.renderers import JSONRenderer

from tasks.models import Priority, Tag, Task
from tasks.queries import TASK_ROW_FIELDS, tasks_with_tag_names
from tasks.serializers import TaskSerializer, task_rows_json
from tests.tasks.factories import make_task


def alices_varied_tasks(alice) -> None:
    plain = make_task(alice, title="plain")
    done = make_task(alice, title="done \u2603", description="caf\u00e9\n\"quoted\"", completed=True, priority=Priority.HIGH)
    make_task(
        alice, title="due", due_at=datetime(2026, 1, 31, 9, 30, 0, 250000, tzinfo=UTC),
        recurrence="FREQ=WEEKLY;BYDAY=MO", priority=Priority.LOW,
    )
    tags = [Tag.objects.create(owner=alice, name=name) for name in ("work", "Errands", "home")]
    done.tags.set(tags)
    plain.tags.set(tags[:1])


def test_rows_map_to_the_serializers_json(alice, bob):
    alices_varied_tasks(alice)
    make_task(bob, title="bob's")
    tasks = Task.objects.filter(owner=alice)
    expected = TaskSerializer(tasks.prefetch_related("tags"), many=True).data
    fast = task_rows_json(list(tasks.values(*TASK_ROW_FIELDS)))
    assert JSONRenderer().render(fast) == JSONRenderer().render(expected)


def test_the_list_answers_the_serializers_json(alice_client, alice):
    alices_varied_tasks(alice)
    expected = TaskSerializer(Task.objects.filter(owner=alice).prefetch_related("tags"), many=True).data
    response = alice_client.get("/api/tasks", {"sort": "created"})
    assert response.content == JSONRenderer().render(expected)


def test_no_rows_cost_no_tag_query(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        assert task_rows_json([]) == []


def model_serializer_json(task: Task) -> bytes:
    """What TaskSerializer answered before it rendered through the row path."""
    from rest_framework.serializers import ModelSerializer

    return JSONRenderer().render(ModelSerializer.to_representation(TaskSerializer(), task))


def test_instances_render_as_the_model_serializer_would(alice):
    alices_varied_tasks(alice)
    for task in Task.objects.filter(owner=alice).prefetch_related("tags"):
        assert JSONRenderer().render(TaskSerializer(task).data) == model_serializer_json(task)
    for task in tasks_with_tag_names(Task.objects.filter(owner=alice)):
        assert JSONRenderer().render(TaskSerializer(task).data) == model_serializer_json(Task.objects.get(pk=task.pk))


def test_write_answers_are_what_the_model_serializer_gives_for_the_stored_task(alice_client):
    created = alice_client.post(
        "/api/tasks", {"title": " Café ", "priority": "high", "due_at": "2026-05-01T10:00:00.5+02:00"}, format="json"
    )
    assert created.status_code == 201
    task = Task.objects.get(pk=created.json()["id"])
    assert created.content == model_serializer_json(task)
    with_tags = alice_client.post("/api/tasks", {"title": "tagged", "tags": ["b", "A"]}, format="json")
    assert with_tags.content == model_serializer_json(Task.objects.get(pk=with_tags.json()["id"]))
    for _ in range(2):  # complete, then reopen
        toggled = alice_client.patch(f"/api/tasks/{with_tags.json()['id']}/complete", format="json")
        assert toggled.status_code == 200
        assert toggled.content == model_serializer_json(Task.objects.get(pk=with_tags.json()["id"]))
    patched = alice_client.patch(f"/api/tasks/{task.pk}", {"tags": ["x"], "completed": True}, format="json")
    assert patched.content == model_serializer_json(Task.objects.get(pk=task.pk))
