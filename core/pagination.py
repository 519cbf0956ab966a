from typing import Protocol, runtime_checkable

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


@runtime_checkable
class CarriesTotal(Protocol):
    """Rows that can tell the total from a page of themselves (say, a count each row carries),
    sparing the pagination its COUNT query: tasks.queries.DefaultPage."""

    def total_in(self, page: list) -> int | None:
        """The total over all pages, read from a page of these rows; None when the page cannot tell."""


class ApiPagination(LimitOffsetPagination):
    """`limit`/`offset` pages of any queryset or sequence, whose body stays a plain JSON array.

    The total goes in `X-Total-Count` and the neighbours in an RFC 8288 `Link` header, which
    is what Phase II frontends expect. Unlike DRF's default, a bad `limit` or `offset` is a
    400 naming the parameter instead of being silently replaced.
    """

    default_limit = 100
    max_limit = 500
    # Far past any list, and small enough that offset + limit stays a 64-bit integer in SQL.
    max_digits = 18
    max_offset = 10**max_digits - 1

    def get_limit(self, request):
        return self._read(request, self.limit_query_param, self.default_limit, minimum=1, maximum=self.max_limit)

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, 0, minimum=0, maximum=self.max_offset)

    def _read(self, request, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > self.max_digits:
            message = f"Must be a whole number of at most {self.max_digits} digits."
            raise serializers.ValidationError({name: [serializers.ErrorDetail(message, code="invalid")]})
        value = int(raw)
        if not minimum <= value <= maximum:
            raise serializers.ValidationError(
                {name: [serializers.ErrorDetail(f"Must be between {minimum} and {maximum}.", code="out_of_range")]}
            )
        return value

    def paginate_queryset(self, queryset, request, view=None):
        """The page, and the total without a COUNT query when the rows tell it.

        Rows that implement `CarriesTotal` may tell the total from the page itself.
        Otherwise one row more than the page is read: when it is not there, the total is the
        offset plus the rows read. Only a page with more after it, or an offset past the end,
        counts.
        """
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        total = queryset.total_in(rows) if isinstance(queryset, CarriesTotal) else None
        if total is not None:
            self.count = total
        elif len(rows) <= self.limit and (rows or self.offset == 0):
            self.count = self.offset + len(rows)
        else:
            self.count = self.get_count(queryset)
        return rows[: self.limit]

    def get_previous_link(self):
        """DRF's `prev` link, except past the end of the list: there it leads to the last page
        that has items (on the same grid of pages), and an empty list has none."""
        if self.offset <= 0 or self.count == 0:
            return None
        pages_back = max(1, -(-(self.offset - self.count + 1) // self.limit))  # ceiling division
        offset = self.offset - pages_back * self.limit
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
        if offset <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, offset)

    def get_paginated_response(self, data):
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", self.get_next_link()), ("prev", self.get_previous_link()))
            if url
        ]
        headers = {"X-Total-Count": str(self.count)}
        if links:
            headers["Link"] = ", ".join(links)
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema  # the body is the plain array; the headers carry the rest

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        items = getattr(view, "page_items", "items")  # what the view pages, in the plural: "tasks"
        limit["description"] = f"How many {items} per page (default {self.default_limit}, at most {self.max_limit})."
        limit["schema"].update(minimum=1, maximum=self.max_limit, default=self.default_limit)
        offset["description"] = f"How many matching {items} to skip."
        offset["schema"].update(minimum=0, maximum=self.max_offset, default=0)
        return [limit, offset]
