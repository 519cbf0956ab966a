from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import RETRY_AFTER_SECONDS, error_body
from core.openapi import error_responses

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
    """Readiness: the database answers a query."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []  # probes come often, from the platform

    @extend_schema(operation_id="getReadiness", summary="Readiness", responses={200: STATUS, **error_responses(503)})
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response(
                error_body("database_unavailable", "The database is unavailable."),
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return Response({"status": "ok", "database": "ok"})
