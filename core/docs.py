"""The OpenAPI document and its two viewers, as served: only where `API_DOCS_PUBLIC` allows.

Generating the document costs about 100 ms of CPU and 190 KB a time: anonymous clients at a
third of their budget slowed signed-in users' requests to seconds. It is generated once per
process, rendered once per format, and answered with an ETag (304 when the client has it).
The API speaks English only, so `?lang=` changes nothing: drf-spectacular would activate each
value sent, and Django remembers every language activated, without bound.
"""

import functools
import hashlib

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core.errors import not_found

# The generated document, and each (renderer format, media type) rendered: five entries at most.
GENERATED = ("generated", "")
served_documents: dict[tuple[str, str], tuple] = {}

# The viewers load their scripts from this server only (no inline script: Swagger UI's setup
# comes from `?script`); both set styles inline, and ReDoc runs a worker from a blob.
VIEWER_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def docs_public(view):
    """A JSON 404 instead of `view` unless `API_DOCS_PUBLIC` (read per request) is on."""

    @functools.wraps(view)
    def gated(request, *args, **kwargs):
        if not settings.API_DOCS_PUBLIC:
            return not_found(request)
        return view(request, *args, **kwargs)

    return gated


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, generated once per process, with an ETag."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        renderer, media_type = request.accepted_renderer, request.accepted_media_type
        key = (renderer.format, media_type)
        if key not in served_documents:
            if not served_documents:
                generated = self._get_schema_response(request)
                served_documents[GENERATED] = (generated.data, generated["Content-Disposition"])
            document, disposition = served_documents[GENERATED]
            content = renderer.render(document, media_type, self.get_renderer_context())
            served_documents[key] = (content, disposition.rsplit(".", 1)[0] + f'.{renderer.format}"')
        content, disposition = served_documents[key]
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = disposition
        response["ETag"] = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
        return response


class ViewerPolicy:
    """Adds the viewers' Content-Security-Policy to their pages."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = VIEWER_POLICY
        return response


class SwaggerView(ViewerPolicy, SpectacularSwaggerSplitView):
    """Swagger UI, its setup script served apart so the page needs no inline script."""


class RedocView(ViewerPolicy, SpectacularRedocView):
    """ReDoc."""
