from tests.tasks.factories import make_task

URL = "/api/tasks"


def test_it_lists_only_the_callers_tasks_newest_first(alice_client, alice, bob):
    first = make_task(alice, title="first")
    second = make_task(alice, title="second")
    make_task(bob, title="bob's")
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert [task["id"] for task in response.json()] == [second.id, first.id]
    assert response["X-Total-Count"] == "2"


def test_it_returns_an_empty_array_for_a_new_user(bob_client, alice):
    make_task(alice)
    response = bob_client.get(URL)
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


def test_it_pages_with_limit_and_offset(alice_client, alice):
    tasks = [make_task(alice, title=f"task {i}") for i in range(5)]
    response = alice_client.get(URL, {"limit": 2, "offset": 2})
    assert [task["id"] for task in response.json()] == [tasks[2].id, tasks[1].id]
    assert response["X-Total-Count"] == "5"
    link = response["Link"]
    assert '<http://testserver/api/tasks?limit=2&offset=4>; rel="next"' in link
    assert '<http://testserver/api/tasks?limit=2>; rel="prev"' in link


def test_it_bounds_a_list_to_100_tasks_by_default(alice_client, alice):
    for i in range(101):
        make_task(alice, title=f"task {i}")
    response = alice_client.get(URL)
    assert len(response.json()) == 100
    assert response["X-Total-Count"] == "101"
    assert 'rel="next"' in response["Link"]


def test_it_rejects_a_bad_limit_or_offset_naming_the_parameter(alice_client, alice):
    for params, name in [
        ({"limit": "abc"}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"offset": "-5"}, "offset"),
        ({"offset": "1.5"}, "offset"),
    ]:
        response = alice_client.get(URL, params)
        assert response.status_code == 400, params
        assert name in response.json()["fields"], params


def test_a_page_past_the_end_links_back_to_the_last_page_with_tasks(alice_client, alice):
    make_task(alice)
    make_task(alice)
    response = alice_client.get(URL, {"limit": 2, "offset": 10})
    assert response.json() == []
    assert response["X-Total-Count"] == "2"
    assert response["Link"] == '<http://testserver/api/tasks?limit=2>; rel="prev"'
    assert len(alice_client.get(URL, {"limit": 2}).json()) == 2


def test_the_prev_link_past_the_end_keeps_the_grid_of_pages(alice_client, alice):
    tasks = [make_task(alice, title=f"task {i}") for i in range(5)]
    response = alice_client.get(URL, {"limit": 2, "offset": 11, "status": "all"})
    assert response["Link"] == '<http://testserver/api/tasks?limit=2&offset=3&status=all>; rel="prev"'
    previous = alice_client.get(URL, {"limit": 2, "offset": 3, "status": "all"})
    assert [task["id"] for task in previous.json()] == [tasks[1].id, tasks[0].id]


def test_a_list_without_tasks_has_no_prev_link_past_the_end(alice_client, bob):
    make_task(bob)
    response = alice_client.get(URL, {"limit": 2, "offset": 10})
    assert response.json() == []
    assert "Link" not in response


def test_the_offset_goes_up_to_its_documented_maximum(client, alice_client, alice):
    schema = client.get("/api/schema", {"format": "json"}).json()
    (offset,) = [p for p in schema["paths"]["/api/tasks"]["get"]["parameters"] if p["name"] == "offset"]
    maximum = offset["schema"]["maximum"]
    assert alice_client.get(URL, {"offset": maximum}).json() == []
    for too_far in [maximum + 1, "9" * 30]:
        response = alice_client.get(URL, {"offset": too_far})
        assert response.status_code == 400
        assert response.json()["fields"]["offset"][0]["code"] == "invalid"
