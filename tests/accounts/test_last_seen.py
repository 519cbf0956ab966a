"""The API notes when it last saw each user, to within a few minutes and without a write per request."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import LAST_SEEN_RESOLUTION, user_sync_from_claims
from tests.auth import ALICE_ID, claims_for

pytestmark = pytest.mark.django_db


def test_a_new_user_is_seen_now():
    user = user_sync_from_claims(claims=claims_for(ALICE_ID))
    assert timezone.now() - user.last_seen_at < timedelta(seconds=5)


def test_a_user_last_seen_a_while_ago_is_seen_again(alice_client, alice):
    long_ago = timezone.now() - LAST_SEEN_RESOLUTION - timedelta(seconds=1)
    User.objects.filter(pk=alice.pk).update(last_seen_at=long_ago)
    assert alice_client.get("/api/me").status_code == 200
    alice.refresh_from_db()
    assert alice.last_seen_at > long_ago


def test_a_user_seen_moments_ago_costs_no_write(alice, django_assert_num_queries):
    claims = claims_for(ALICE_ID, email=alice.email, name=alice.name)
    first = user_sync_from_claims(claims=claims).last_seen_at
    with django_assert_num_queries(1):
        assert user_sync_from_claims(claims=claims).last_seen_at == first
