"""The first operator is created from the environment, once, without a prompt."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def operator_env(monkeypatch):
    monkeypatch.setenv("DJANGO_OPERATOR_USERNAME", "olivia")
    monkeypatch.setenv("DJANGO_OPERATOR_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_OPERATOR_EMAIL", "olivia@example.com")
    return monkeypatch


def test_it_creates_a_superuser_who_can_sign_in_to_the_admin(operator_env, client):
    call_command("createoperator")
    olivia = User.objects.get(username="olivia")
    assert (olivia.email, olivia.is_staff, olivia.is_superuser, olivia.is_active) == (
        "olivia@example.com",
        True,
        True,
        True,
    )
    assert olivia.better_auth_id is None
    assert client.login(username="olivia", password=PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_running_it_again_changes_nothing(operator_env, capsys):
    call_command("createoperator")
    operator_env.setenv("DJANGO_OPERATOR_PASSWORD", "another password entirely 99")
    call_command("createoperator")
    assert User.objects.count() == 1
    assert User.objects.get().check_password(PASSWORD)
    assert "already exists" in capsys.readouterr().out


def test_it_rejects_a_weak_password(operator_env):
    operator_env.setenv("DJANGO_OPERATOR_PASSWORD", "password")
    with pytest.raises(CommandError, match="too short"):
        call_command("createoperator")
    assert not User.objects.exists()


@pytest.mark.parametrize("variable", ["DJANGO_OPERATOR_USERNAME", "DJANGO_OPERATOR_PASSWORD"])
def test_it_names_a_missing_variable(operator_env, variable):
    operator_env.delenv(variable)
    with pytest.raises(CommandError, match=variable):
        call_command("createoperator")


def test_it_rejects_an_invalid_username(operator_env):
    operator_env.setenv("DJANGO_OPERATOR_USERNAME", "no spaces allowed")
    with pytest.raises(CommandError, match="valid username"):
        call_command("createoperator")


def test_an_api_user_cannot_sign_in_to_the_admin(alice, client):
    assert not client.login(username=alice.email, password="")
    assert client.get("/admin/").status_code == 302
