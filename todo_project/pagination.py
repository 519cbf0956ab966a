from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class TaskPagination(LimitOffsetPagination):
    """`limit`/`offset` pages whose body stays a plain JSON array.

    The total goes in `X-Total-Count` and the neighbours in an RFC 8288 `Link` header, which
    is what Phase II frontends expect. Unlike DRF's default, a bad `limit` or `offset` is a
    400 naming the parameter instead of being silently replaced.
    """

    default_limit = 100
    max_limit = 500

    def get_limit(self, request):
        return self._read(request, self.limit_query_param, self.default_limit, minimum=1, maximum=self.max_limit)

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, 0, minimum=0, maximum=None)

    @staticmethod
    def _read(request, name: str, default: int, *, minimum: int, maximum: int | None) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise serializers.ValidationError({name: [serializers.ErrorDetail("Must be a whole number.", code="invalid")]})
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise serializers.ValidationError({name: [serializers.ErrorDetail(f"Must be {bounds}.", code="out_of_range")]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        """The page, and the total without a COUNT query when the rows tell it.

        Rows may carry the total (`total`, tasks.queries.DefaultPage).
        Otherwise one row more than the page is read: when it is not there, the total is the
        offset plus the rows read. Only a page with more after it, or an offset past the end,
        counts.
        """
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        if rows and "total" in rows[0]:
            self.count = rows[0]["total"]
        elif len(rows) <= self.limit and (rows or self.offset == 0):
            self.count = self.offset + len(rows)
        else:
            self.count = self.get_count(queryset)
        return rows[: self.limit]

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
        limit["description"] = f"How many tasks per page (default {self.default_limit}, at most {self.max_limit})."
        limit["schema"].update(minimum=1, maximum=self.max_limit, default=self.default_limit)
        offset["description"] = "How many matching tasks to skip."
        offset["schema"].update(minimum=0, default=0)
        return [limit, offset]
