"""Answers to a signed-in caller are private: no shared cache keeps them, the browser revalidates by ETag."""

import json
import logging
import os

import pytest

from tests.auth import client_with_token
from tests.tasks.factories import make_task
from tests.webdriver import Browser, chromium_missing


def assert_private(response):
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= directives, response["Cache-Control"]
    assert "no-store" not in directives  # the browser keeps the answer and revalidates it


def test_it_marks_a_signed_in_callers_reads_and_writes_private(alice_client, alice):
    task = make_task(alice)
    assert_private(alice_client.get("/api/tasks"))
    assert_private(alice_client.get(f"/api/tasks/{task.id}"))
    assert_private(alice_client.get("/api/me"))
    assert_private(alice_client.post("/api/tasks", {"title": "Buy milk"}))
    assert_private(alice_client.patch(f"/api/tasks/{task.id}/complete"))


def test_it_marks_a_304_private_and_keeps_its_etag(alice_client, alice):
    task = make_task(alice)
    etag = alice_client.get(f"/api/tasks/{task.id}")["ETag"]
    response = alice_client.get(f"/api/tasks/{task.id}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert_private(response)


def test_it_marks_a_signed_in_callers_errors_private(alice_client, bob):
    foreign = make_task(bob)
    assert_private(alice_client.get(f"/api/tasks/{foreign.id}"))  # 404
    assert_private(alice_client.post("/api/tasks", {"title": ""}))  # 400
    assert_private(alice_client.post("/api/tasks", {"title": "x" * 70_000}))  # 413, before any view
    assert_private(client_with_token("not-a-token").get("/api/tasks"))  # 401


def test_it_leaves_answers_without_credentials_alone(client):
    assert "private" not in client.get("/healthz").get("Cache-Control", "")


@pytest.mark.skipif(bool(chromium_missing()) and os.environ.get("CI") != "true", reason=chromium_missing() or "")
@pytest.mark.django_db(transaction=True)
def test_a_browser_revalidates_a_private_answer_and_gets_a_304(live_server, alice, caplog):
    from tests.auth import claims_for, sign

    make_task(alice, title="Buy milk")
    token = sign(claims_for(alice.better_auth_id, email=alice.email, name=alice.name))
    browser = Browser()
    try:
        browser.open(f"{live_server.url}/healthz")  # same origin as the API
        with caplog.at_level(logging.INFO, logger="todo_project.requests"):
            first, second = browser.run_async(
                """
                const [token, done] = arguments;
                const get = async () => {
                    const answer = await fetch("/api/tasks", {headers: {Authorization: "Bearer " + token}});
                    return [answer.status, await answer.text()];
                };
                get().then(first => get().then(second => done([first, second])));
                """,
                token,
            )
    finally:
        browser.quit()
    statuses = [record.status for record in caplog.records if getattr(record, "route", None) == "task-list"]
    assert statuses == [200, 304]  # the browser sent If-None-Match and was told nothing changed
    assert first == second == [200, first[1]]  # fetch answers 200 with the body it kept
    assert [task["title"] for task in json.loads(first[1])] == ["Buy milk"]
