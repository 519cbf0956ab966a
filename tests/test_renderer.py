"""The orjson renderer answers the same bytes as DRF's JSONRenderer."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import FastJSONRenderer

PAYLOADS = [
    {"id": 1, "title": "Buy milk", "completed": False, "completed_at": None, "tags": ["a", "B"]},
    [{"when": datetime(2026, 1, 31, 9, 0, 0, 123456, tzinfo=UTC)}, {"when": datetime(2026, 1, 31, tzinfo=UTC)}],
    {"day": date(2026, 1, 31), "span": timedelta(hours=1), "id": uuid.UUID(int=7), "amount": Decimal("1.50")},
    {"text": 'caf\u00e9 \u2603 \U0001f600 \u2028 \u2029 "quoted" \\ \n\t\x01'},
    {"code": ErrorDetail("Unknown field.", code="unknown_field"), "lazy": gettext_lazy("This field is required.")},
    ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    {1: "integer key"},
    {"big": 2**70},
    [],
    {},
    "",
    0,
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_it_renders_the_same_bytes_as_drf(payload):
    assert FastJSONRenderer().render(payload) == JSONRenderer().render(payload)


def test_it_indents_when_the_client_asks_as_drf_does():
    payload = {"a": [1, 2]}
    media_type = "application/json; indent=2"
    assert FastJSONRenderer().render(payload, media_type) == JSONRenderer().render(payload, media_type)


def test_it_renders_nothing_for_no_data():
    assert FastJSONRenderer().render(None) == b""
