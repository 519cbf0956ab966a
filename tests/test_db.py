import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.models import CharField

from accounts.models import User
from core.db import CompiledQuery, Param, UtcTimestamptzLoader

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamp loader")

VALUES = "SELECT '2026-03-01 12:34:56.789012+00'::timestamptz, '2026-03-01 23:30:00-05'::timestamptz, '0001-01-01 00:00:00+00'::timestamptz, NULL::timestamptz"


@postgresql_only
def test_django_connections_use_the_c_based_utc_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text format
    assert loader is UtcTimestamptzLoader
    with connection.cursor() as cursor:  # Django keeps it: its own check reads `timezone`
        assert cursor.cursor.adapters.get_loader(1184, 0) is UtcTimestamptzLoader


@postgresql_only
def test_values_are_the_ones_djangos_loader_gives():
    with connection.cursor() as cursor:
        cursor.execute(VALUES)
        ours = cursor.fetchone()
    with connection.cursor() as cursor:
        register_tzloader(datetime.UTC, cursor.cursor)
        cursor.execute(VALUES)
        djangos = cursor.fetchone()
    assert ours == djangos
    assert ours[0] == datetime.datetime(2026, 3, 1, 12, 34, 56, 789012, tzinfo=datetime.UTC)
    assert ours[1] == datetime.datetime(2026, 3, 2, 4, 30, tzinfo=datetime.UTC)
    assert all(value.tzinfo is datetime.UTC for value in ours[:3])
    assert ours[3] is None


def test_a_compiled_query_runs_with_the_values_of_its_params(alice, bob):
    compiled = CompiledQuery(User.objects.filter(better_auth_id=Param("subject", CharField())).only("email"))
    assert [user.email for user in compiled.instances(subject=bob.better_auth_id)] == ["bob@example.com"]
    assert compiled.instances(subject="nobody") == []
    assert "%(subject)s" in compiled.sql


def test_a_compiled_query_keeps_the_values_its_queryset_holds(alice, bob):
    compiled = CompiledQuery(
        User.objects.filter(better_auth_id=Param("subject", CharField()), email__contains="%b").only("email")
    )
    assert compiled.instances(subject=bob.better_auth_id) == []
    compiled = CompiledQuery(
        User.objects.filter(better_auth_id=Param("subject", CharField()), email="bob@example.com").only("email")
    )
    assert [user.email for user in compiled.instances(subject=bob.better_auth_id)] == ["bob@example.com"]
    assert compiled.instances(subject=alice.better_auth_id) == []
