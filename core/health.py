import contextlib
import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import RETRY_AFTER_SECONDS, error_body
from core.openapi import error_responses
from core.postgresql.base import round_trips_within

STATUS = inline_serializer(
    "HealthStatus", {"status": serializers.CharField(), "database": serializers.CharField(required=False)}
)


class HealthView(APIView):
    """Liveness: the process answers. Touches no database."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # probes come often, from the platform

    @extend_schema(operation_id="getHealth", summary="Liveness", responses={200: STATUS})
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(APIView):
    """Readiness: the database answers a read of the tasks table within a short deadline
    (`DATABASE_READY_TIMEOUT`, 2 s); 503 while it is gone, locked or hung."""

    # Also 503 when this process's turns at the database all stay held (core.middleware.DatabaseTurns).
    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # probes come often, from the platform

    @extend_schema(operation_id="getReadiness", summary="Readiness", responses={200: STATUS, **error_responses(503)})
    def get(self, request):
        # What is left of the deadline after the wait for a turn (core.middleware.DatabaseTurns).
        deadline = getattr(request, "ready_deadline", None)
        seconds = settings.DATABASE_READY_TIMEOUT if deadline is None else deadline - time.monotonic()
        try:
            probe(max(seconds, 0.1))
        except DatabaseError:
            return Response(
                error_body("database_unavailable", "The database is unavailable."),
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return Response({"status": "ok", "database": "ok"})


def probe(seconds: float) -> None:
    """Reads a row of the tasks table, or raises DatabaseError after about `seconds`.

    A table lock holds up a query on that table, not `SELECT 1`. On PostgreSQL the server ends
    the statement at the deadline and, should it not answer at all, the client gives up half a
    second later (core/postgresql/base.py).
    """
    with connection.cursor() as cursor, transaction.atomic():
        limit = round_trips_within(connection.connection, seconds + 0.5) if pooled() else contextlib.nullcontext()
        with limit:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(seconds * 1000))])
            cursor.execute("SELECT 1 FROM tasks_task LIMIT 1")


def pooled() -> bool:
    return getattr(connection, "pool", None) is not None
