from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.auth import client_with_token


def mint(*args: str) -> str:
    out = StringIO()
    call_command("devtoken", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_it_prints_a_token_the_api_accepts():
    token = mint("dev-user-1", "--email", "dev@example.com", "--name", "Dev")
    response = client_with_token(token).get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"id": "dev-user-1", "email": "dev@example.com", "name": "Dev"}


@pytest.mark.django_db
def test_its_token_works_on_both_route_styles():
    client = client_with_token(mint("dev-user-1"))
    assert client.post("/api/tasks", {"title": "from curl"}).status_code == 201
    assert len(client.get("/api/dev-user-1/tasks").json()) == 1


def test_it_refuses_without_a_secret(better_auth_settings):
    better_auth_settings.BETTER_AUTH_SECRET = ""
    with pytest.raises(CommandError, match="BETTER_AUTH_SECRET"):
        mint("dev-user-1")


def test_it_refuses_a_lifetime_under_a_minute():
    with pytest.raises(CommandError, match="minutes"):
        mint("dev-user-1", "--minutes", "0")
