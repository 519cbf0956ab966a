from tasks.models import Task
from tests.tasks.factories import make_task


def test_it_deletes_the_callers_task(alice_client, alice):
    task = make_task(alice)
    response = alice_client.delete(f"/api/tasks/{task.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Task.objects.filter(pk=task.pk).exists()


def test_it_returns_404_for_another_users_task_and_keeps_it(bob_client, alice):
    task = make_task(alice)
    response = bob_client.delete(f"/api/tasks/{task.id}")
    assert response.status_code == 404
    assert Task.objects.filter(pk=task.pk).exists()


def test_it_returns_404_for_a_task_already_deleted(alice_client, alice):
    task = make_task(alice)
    alice_client.delete(f"/api/tasks/{task.id}")
    assert alice_client.delete(f"/api/tasks/{task.id}").status_code == 404
