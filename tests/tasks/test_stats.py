from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone as django_timezone

from tests.tasks.factories import make_task

URL = "/api/tasks/stats"


def test_it_counts_the_callers_tasks_only(alice_client, alice, bob):
    now = django_timezone.now()
    make_task(alice, completed=True)
    make_task(alice, due_at=now - timedelta(days=2))  # overdue
    make_task(alice, due_at=now - timedelta(days=2), completed=True)  # done, so not overdue
    make_task(alice)
    make_task(bob, due_at=now - timedelta(days=2))
    response = alice_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body == {"total": 4, "pending": 2, "completed": 2, "overdue": 1, "due_today": body["due_today"]}


def test_a_new_user_has_all_zeros(bob_client, alice):
    make_task(alice)
    assert bob_client.get(URL).json() == {"total": 0, "pending": 0, "completed": 0, "overdue": 0, "due_today": 0}


def test_due_today_follows_the_time_zone_given(alice_client, alice, monkeypatch):
    # At 23:30 UTC on 1 March it is already 2 March in Tokyo and still 1 March in New York.
    monkeypatch.setattr("tasks.views.timezone.now", lambda: datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    make_task(alice, due_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # today in Tokyo only
    make_task(alice, due_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))  # today in New York and UTC
    make_task(alice, due_at=datetime(2026, 3, 1, 13, 0, tzinfo=UTC), completed=True)  # done: not counted
    assert alice_client.get(URL, {"tz": "Asia/Tokyo"}).json()["due_today"] == 1
    assert alice_client.get(URL, {"tz": "America/New_York"}).json()["due_today"] == 1
    assert alice_client.get(URL, {"tz": "UTC"}).json()["due_today"] == 1
    assert alice_client.get(URL, {"tz": "Pacific/Kiritimati"}).json()["due_today"] == 1  # UTC+14: 2 March


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "", "x" * 300])
def test_an_unknown_time_zone_is_a_400_naming_tz(alice_client, tz):
    response = alice_client.get(URL, {"tz": tz})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["tz"]
