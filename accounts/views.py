from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    """The caller's profile as the token provisioned it."""

    def get(self, request):
        user = request.user
        return Response({"id": user.better_auth_id, "email": user.email, "name": user.name})
