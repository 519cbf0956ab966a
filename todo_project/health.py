from django.db import DatabaseError, connection
from rest_framework.response import Response
from rest_framework.views import APIView

from todo_project.errors import RETRY_AFTER_SECONDS, error_body


class HealthView(APIView):
    """Liveness: the process answers. Touches no database."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(APIView):
    """Readiness: the database answers a query."""

    authentication_classes = []
    permission_classes = []

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
