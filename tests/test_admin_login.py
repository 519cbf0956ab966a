"""Failed admin sign-ins are limited per client address and per username, in the shared cache.

Olivia and Oscar are operators; Mallory guesses passwords from her own address.
"""

import random
import uuid

import pytest
from django.contrib.auth import forms as auth_forms

from accounts import admin_login
from accounts.models import User
from tests.test_throttling import redis_answers

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "an operator's long password"
LIMIT = 5


def an_address() -> str:
    # Counters outlive a test in Redis; a fresh address and username keep runs apart.
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings, transactional_db):
    """The caches every process shares: the database's table (the default), or Redis."""
    if request.param == "redis":
        if not redis_answers():
            pytest.skip("needs Redis on 127.0.0.1:6379")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/0",
            }
        }
    else:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "api_cache"}
        }
    settings.ADMIN_LOGIN_FAILURE_LIMIT = LIMIT
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 900


def operator(name: str) -> User:
    return User.objects.create_superuser(username=f"{name}-{uuid.uuid4().hex[:8]}", password=PASSWORD)


def sign_in(client, username: str, password: str, address: str):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_it_refuses_the_right_password_after_too_many_wrong_ones(client, shared_cache):
    olivia, mallory = operator("olivia"), an_address()
    for _ in range(LIMIT):
        response = sign_in(client, olivia.username, "guess", mallory)
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()

    refused = sign_in(client, olivia.username, PASSWORD, mallory)
    assert refused.status_code == 200  # the sign-in page again, with the reason
    assert (
        "Too many failed sign-ins from this address or for this username. Try again in 15 minutes."
        in refused.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_a_locked_username_is_refused_from_any_address_and_a_locked_address_for_any_username(client, shared_cache):
    olivia, oscar, mallory = operator("olivia"), operator("oscar"), an_address()
    for _ in range(LIMIT):
        sign_in(client, olivia.username, "guess", mallory)

    assert not signed_in(sign_in(client, olivia.username, PASSWORD, an_address()))
    assert not signed_in(sign_in(client, oscar.username, PASSWORD, mallory))


def test_other_operators_at_other_addresses_are_unaffected(client, shared_cache):
    olivia, oscar, mallory = operator("olivia"), operator("oscar"), an_address()
    for _ in range(LIMIT):
        sign_in(client, olivia.username, "guess", mallory)

    assert signed_in(sign_in(client, oscar.username, PASSWORD, an_address()))


def test_failures_under_the_limit_do_not_lock(client, shared_cache):
    olivia, address = operator("olivia"), an_address()
    for _ in range(LIMIT - 1):
        sign_in(client, olivia.username, "typo", address)
    assert signed_in(sign_in(client, olivia.username, PASSWORD, address))


def test_a_locked_sign_in_checks_no_password(client, shared_cache, monkeypatch):
    olivia, mallory = operator("olivia"), an_address()
    for _ in range(LIMIT):
        sign_in(client, olivia.username, "guess", mallory)
    checked = []
    monkeypatch.setattr(auth_forms, "authenticate", lambda *args, **kwargs: checked.append(1))
    sign_in(client, olivia.username, "another guess", mallory)
    assert checked == []  # no 250 ms of hashing for a refused attempt


def test_the_lock_ends_with_its_window(client, shared_cache, monkeypatch):
    olivia, mallory = operator("olivia"), an_address()
    for _ in range(LIMIT):
        sign_in(client, olivia.username, "guess", mallory)
    later = admin_login.time.time() + 900
    monkeypatch.setattr(admin_login.time, "time", lambda: later)
    assert signed_in(sign_in(client, olivia.username, PASSWORD, mallory))
