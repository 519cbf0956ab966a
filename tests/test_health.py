from django.db import OperationalError


def test_healthz_answers_without_a_token_or_a_database(client):
    # No `db` fixture: any database access here would fail the request.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client, db):
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection refused")


def test_readyz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    monkeypatch.setattr("core.health.connection", UnreachableDatabase())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
