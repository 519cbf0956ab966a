import functools

import pytest
from django.db import connection, transaction

from tasks.models import Tag, Task
from tasks.services import task_set_tags
from tests.auth import client_for
from tests.tasks.factories import make_task

URL = "/api/tags"


def tag(task, *names):
    with transaction.atomic():
        task_set_tags(task=task, names=list(names))
    return task


def test_it_lists_the_callers_tags_a_to_z_with_task_counts(alice_client, alice):
    tag(make_task(alice), "work", "Errands")
    tag(make_task(alice), "work")
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert response.json() == [{"name": "Errands", "count": 1}, {"name": "work", "count": 2}]


def test_alice_never_sees_bobs_tags_or_counts(alice_client, alice, bob):
    tag(make_task(alice), "shared-name")
    tag(make_task(bob), "shared-name", "bobs-only")
    tag(make_task(bob), "shared-name")
    assert alice_client.get(URL).json() == [{"name": "shared-name", "count": 1}]


def test_a_new_user_has_no_tags(bob_client, alice):
    tag(make_task(alice), "work")
    assert bob_client.get(URL + "/").json() == []


def test_it_requires_a_token(client, db):
    assert client.get(URL).status_code == 401


def test_it_is_read_only(alice_client):
    assert alice_client.post(URL, {"name": "x"}).status_code == 405


@pytest.mark.skipif(connection.vendor != "postgresql", reason="in-process threads share SQLite's test database")
@pytest.mark.django_db(transaction=True)
def test_a_tag_pruned_while_another_request_reuses_it_is_never_a_500_nor_a_lost_write(alice):
    from tests.tasks.test_limits import race

    def untag_or_reuse(i: int, only_use: Task):
        if i == 0:  # the last use of "shared" goes: it is pruned
            return client_for(alice).patch(f"/api/tasks/{only_use.id}", {"tags": []})
        return client_for(alice).post("/api/tasks", {"title": "reuses", "tags": ["shared"]})

    for _ in range(15):
        only_use = tag(make_task(alice), "shared")
        statuses = race(2, functools.partial(untag_or_reuse, only_use=only_use))
        assert statuses == [200, 201]
        reused = Task.objects.get(title="reuses")
        assert [t.name for t in reused.tags.all()] == ["shared"]
        Task.objects.all().delete()
        Tag.objects.all().delete()
