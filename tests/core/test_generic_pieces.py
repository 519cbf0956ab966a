"""The core's pieces serve any resource unchanged: a second viewset, a plain sequence, a queryset
of instances."""

import pytest
from django.urls import re_path
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from core.conditional import ConditionalWrites
from core.pagination import ApiPagination
from tasks.models import Tag
from tasks.urls import urlpatterns as task_urls


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField()


class ThingViewSet(viewsets.ViewSet):
    """A second resource whose writes do not check If-Match."""

    serializer_class = ThingSerializer
    operation_noun = "Thing"

    def get_serializer_class(self):
        return ThingSerializer

    def list(self, request):
        return Response([])

    def retrieve(self, request, pk=None):
        return Response({})

    def partial_update(self, request, pk=None):
        return Response({})


class CheckedThingViewSet(ConditionalWrites, ThingViewSet):
    operation_noun = "CheckedThing"


def schema_with(*viewsets_: type) -> dict:
    patterns = list(task_urls)
    for viewset in viewsets_:
        prefix = viewset.operation_noun.lower()
        patterns += [
            re_path(rf"^api/{prefix}s/?$", viewset.as_view({"get": "list"})),
            re_path(
                rf"^api/{prefix}s/(?P<pk>[0-9]+)/?$", viewset.as_view({"get": "retrieve", "patch": "partial_update"})
            ),
        ]
    return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)


def headers_of(operation: dict) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"}


def test_operation_ids_come_from_each_viewset_and_stay_unique():
    schema = schema_with(ThingViewSet)
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert {"listThings", "getThing", "updateThing", "listTasks", "getTask", "updateTask"} <= set(ids)


def test_if_match_and_412_are_documented_only_where_the_view_checks_them():
    paths = schema_with(ThingViewSet, CheckedThingViewSet)["paths"]
    unchecked, checked = paths["/api/things/{id}"]["patch"], paths["/api/checkedthings/{id}"]["patch"]
    assert "If-Match" not in headers_of(unchecked) and "412" not in unchecked["responses"]
    assert "If-Match" in headers_of(checked) and "412" in checked["responses"]
    assert "If-Match" in headers_of(paths["/api/tasks/{id}"]["patch"])


def paged(items, query: str = "") -> tuple[list, ApiPagination]:
    pagination = ApiPagination()
    request = APIRequestFactory().get(f"/things{query}")
    from rest_framework.request import Request

    return pagination.paginate_queryset(items, Request(request)), pagination


@pytest.mark.parametrize("query", ["", "?limit=10&offset=30", "?limit=10&offset=95", "?offset=200"])
def test_pagination_pages_a_plain_sequence(query):
    page, pagination = paged(range(1, 101), query)
    limit = pagination.limit
    assert page == list(range(1, 101))[pagination.offset : pagination.offset + limit]
    assert pagination.count == 100


def test_pagination_pages_a_queryset_of_instances(alice):
    tags = [Tag.objects.create(owner=alice, name=f"t{n}") for n in range(5)]
    page, pagination = paged(Tag.objects.order_by("id"), "?limit=2&offset=2")
    assert page == tags[2:4]
    assert pagination.count == 5
