"""Users are provisioned from their first valid token and follow their claims."""

import pytest

from accounts.models import User
from accounts.services import API_USER_FIELDS, user_by_subject, user_sync_from_claims
from tests.auth import ALICE_ID, claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db


def test_the_first_token_provisions_a_user_with_email_and_name():
    token = sign(claims_for(ALICE_ID, email="alice@example.com", name="Alice"))
    assert client_with_token(token).get("/api/me").status_code == 200
    user = User.objects.get()
    assert (user.better_auth_id, user.email, user.name) == (ALICE_ID, "alice@example.com", "Alice")
    assert user.username is None
    assert not user.has_usable_password()
    assert not user.is_staff


def test_a_changed_email_or_name_is_refreshed():
    user_sync_from_claims(claims=claims_for(ALICE_ID, email="old@example.com", name="Old"))
    user_sync_from_claims(claims=claims_for(ALICE_ID, email="new@example.com", name="New"))
    user = User.objects.get()
    assert (user.email, user.name) == ("new@example.com", "New")


def test_unchanged_claims_cost_one_read_and_no_write(django_assert_num_queries):
    claims = claims_for(ALICE_ID, email="alice@example.com", name="Alice")
    user_sync_from_claims(claims=claims)
    with django_assert_num_queries(1):
        user_sync_from_claims(claims=claims)


def test_missing_or_odd_profile_claims_become_empty_strings():
    user = user_sync_from_claims(claims=claims_for(ALICE_ID, email=None, name=["not", "a", "name"]))
    assert (user.email, user.name) == ("", "")


def test_nul_characters_in_profile_claims_are_dropped():
    """PostgreSQL text cannot hold them; the rest of the value is kept."""
    user = user_sync_from_claims(claims=claims_for(ALICE_ID, email="alice\x00@example.com", name="Al\x00ice"))
    user.refresh_from_db()
    assert (user.email, user.name) == ("alice@example.com", "Alice")


def test_lone_surrogates_in_profile_claims_are_dropped_through_the_api():
    """A JSON string may escape half a UTF-16 pair; no database column can hold one."""
    token = sign(claims_for(ALICE_ID, email="alice\ud800@example.com", name="Al\udfffice\ud83d"))
    response = client_with_token(token).get("/api/me")
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["name"]) == ("alice@example.com", "Alice")
    user = User.objects.get()
    assert (user.email, user.name) == ("alice@example.com", "Alice")


def test_two_users_get_two_rows():
    user_sync_from_claims(claims=claims_for(ALICE_ID))
    user_sync_from_claims(claims=claims_for("b0b00000000000000000000000000002"))
    assert User.objects.count() == 2


def test_a_subject_reads_the_same_user_as_the_orm_in_one_query(alice, bob, django_assert_num_queries):
    User.objects.filter(pk=bob.pk).update(is_active=False, last_seen_at=None)
    for expected in User.objects.filter(pk__in=[alice.pk, bob.pk]):
        with django_assert_num_queries(1):
            user = user_by_subject(expected.better_auth_id)
        assert [getattr(user, name) for name in API_USER_FIELDS] == [
            getattr(expected, name) for name in API_USER_FIELDS
        ]
        assert user.get_deferred_fields() == {f.attname for f in User._meta.concrete_fields} - set(API_USER_FIELDS)
    assert user_by_subject("no-such-user") is None


def test_a_changed_profile_is_written_without_touching_the_fields_left_unread(alice):
    User.objects.filter(pk=alice.pk).update(password="!kept", is_staff=True)
    user_sync_from_claims(claims=claims_for(ALICE_ID, email="new@example.com", name="Alice"))
    alice.refresh_from_db()
    assert (alice.email, alice.password, alice.is_staff) == ("new@example.com", "!kept", True)
