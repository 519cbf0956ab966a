from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class MeSerializer(serializers.Serializer):
    id = serializers.CharField(source="better_auth_id", help_text="The Better Auth user id (the token's `sub`).")
    email = serializers.CharField()
    name = serializers.CharField()


class MeView(APIView):
    """The caller's profile as the token provisioned it."""

    @extend_schema(operation_id="getMe", summary="The caller's profile", responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)
