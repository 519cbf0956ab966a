from tasks.services import task_set_tags
from tests.tasks.factories import make_task

URL = "/api/tags"


def tag(task, *names):
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
